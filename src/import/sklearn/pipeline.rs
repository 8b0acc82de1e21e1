//! `sklearn.pipeline.Pipeline`: steps applied in order. As a transformer
//! (inside a ColumnTransformer) every step transforms; at the top, the last
//! step is the estimator (see `mod.rs`).

use crate::import::pickle::Node;

use super::features::{Col, Fields};
use super::object::Obj;
use super::{SklearnError, transform};

/// The fitted steps, without `"passthrough"` / `None` steps.
pub fn steps<'p>(pipeline: &Obj<'p>) -> Result<Vec<Obj<'p>>, SklearnError> {
    let mut out = Vec::new();
    for step in pipeline.items("steps")? {
        let pair = pipeline
            .pickle
            .items(*step)
            .filter(|p| p.len() == 2)
            .ok_or_else(|| pipeline.bad("steps", "each step should be a (name, estimator) pair"))?;
        match pipeline.pickle.node(pair[1]) {
            Node::None => {}
            Node::Str(s) if s == "passthrough" => {}
            _ => out.push(Obj::at(pipeline.pickle, pair[1], Some("Pipeline"))?),
        }
    }
    Ok(out)
}

pub fn apply(
    pipeline: &Obj,
    cols: Vec<Col>,
    fields: &mut Fields,
    depth: usize,
) -> Result<Vec<Col>, SklearnError> {
    let mut cols = cols;
    for step in steps(pipeline)? {
        cols = transform(&step, cols, fields, depth + 1)?;
    }
    Ok(cols)
}
