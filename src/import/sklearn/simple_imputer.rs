//! `SimpleImputer` (mean, median, most_frequent, constant): a missing value
//! becomes the fitted `statistics_[j]`. Mirrors `SimpleImputer.transform`:
//! with `keep_empty_features=False`, columns whose statistic is NaN (all
//! missing in training) are dropped from the output.

use crate::import::pickle::Node;

use super::SklearnError;
use super::categories;
use super::features::{CatValue, Col, Op};
use super::object::Obj;

pub fn apply(imputer: &Obj, cols: Vec<Col>) -> Result<Vec<Col>, SklearnError> {
    let missing_is_nan = match imputer.node("missing_values")? {
        Node::Float(f) => f.is_nan(),
        Node::None => true,
        _ => false,
    };
    if !missing_is_nan {
        return Err(SklearnError::Unsupported {
            class: "SimpleImputer".into(),
            why: "missing_values is not NaN; lifeboat treats a left-out value as missing (NaN)"
                .into(),
        });
    }
    if imputer.has("add_indicator") && imputer.bool("add_indicator")? {
        return Err(SklearnError::Unsupported {
            class: "SimpleImputer".into(),
            why: "add_indicator=True adds missing-value indicator columns".into(),
        });
    }
    let id = imputer
        .get("statistics_")
        .ok_or_else(|| imputer.bad("statistics_", "is missing; was the imputer fitted?"))?;
    let stats = categories::values(imputer.pickle, id)
        .ok_or_else(|| imputer.bad("statistics_", "should be an array of values"))?;
    if stats.len() != cols.len() {
        return Err(imputer.bad(
            "statistics_",
            format!(
                "has {} values for {} input columns",
                stats.len(),
                cols.len()
            ),
        ));
    }
    let keep_empty = imputer.has("keep_empty_features") && imputer.bool("keep_empty_features")?;
    let constant = imputer.opt_string("strategy") == Some("constant");
    let mut out = Vec::with_capacity(cols.len());
    for (mut col, stat) in cols.into_iter().zip(stats) {
        match stat {
            Some(CatValue::Number(v)) => col.ops.push(Op::ImputeNumber(v)),
            Some(text @ CatValue::Text(_)) => col.ops.push(Op::ImputeCategory(text)),
            // NaN: the column was empty in training.
            None if keep_empty || constant => col.ops.push(Op::ImputeNumber(0.0)),
            None => continue,
        }
        out.push(col);
    }
    Ok(out)
}
