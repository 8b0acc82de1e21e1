//! `ColumnTransformer`: routes input columns (by name, index, mask or slice)
//! to transformers and concatenates their outputs in the order of the fitted
//! `transformers_`, the remainder last, as its `_hstack` does. Dropped and
//! empty selections give nothing.

use crate::import::pickle::numpy::Kind;
use crate::import::pickle::{Node, NodeId};
use crate::quote::quoted;

use super::features::{Col, Fields};
use super::object::Obj;
use super::{SklearnError, transform};

pub fn apply(
    ct: &Obj,
    cols: Vec<Col>,
    fields: &mut Fields,
    depth: usize,
) -> Result<Vec<Col>, SklearnError> {
    if !ct.is_none("transformer_weights") {
        return Err(SklearnError::Unsupported {
            class: "ColumnTransformer".into(),
            why: "transformer_weights are set".into(),
        });
    }
    let names = input_names(ct)?;
    let resolved = ct.get("_transformer_to_input_indices");
    let mut out = Vec::new();
    for entry in ct.items("transformers_")? {
        let parts = ct
            .pickle
            .items(*entry)
            .filter(|p| p.len() >= 3)
            .ok_or_else(|| {
                ct.bad(
                    "transformers_",
                    "each entry should be (name, transformer, columns)",
                )
            })?;
        let name = ct.pickle.str(parts[0]).unwrap_or("");
        // scikit-learn >= 1.1 records the resolved input indices of each transformer.
        let indices = match resolved.and_then(|r| ct.pickle.dict_get(r, name)) {
            Some(id) => select(ct, id, &names, cols.len())?,
            None => select(ct, parts[2], &names, cols.len())?,
        };
        if indices.is_empty() {
            continue;
        }
        if let Some(bad) = indices.iter().find(|i| **i >= cols.len()) {
            return Err(ct.bad(
                "transformers_",
                format!(
                    "{} selects column {bad}, but there are {} columns",
                    quoted(name),
                    cols.len()
                ),
            ));
        }
        let selected: Vec<Col> = indices.iter().map(|i| cols[*i].clone()).collect();
        match ct.pickle.node(parts[1]) {
            Node::Str(s) if s == "drop" => {}
            Node::Str(s) if s == "passthrough" => out.extend(selected),
            Node::Object(_) => {
                let transformer = Obj::at(ct.pickle, parts[1], Some("ColumnTransformer"))?;
                out.extend(transform(&transformer, selected, fields, depth + 1)?);
            }
            other => {
                return Err(ct.bad(
                    "transformers_",
                    format!(
                        "transformer {} is {}, not a transformer",
                        quoted(name),
                        other.kind()
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// The input column names the transformer was fitted on, if it saw names.
fn input_names(ct: &Obj) -> Result<Option<Vec<String>>, SklearnError> {
    let Some(id) = ct.get("feature_names_in_") else {
        return Ok(None);
    };
    let values = super::categories::values(ct.pickle, id)
        .ok_or_else(|| ct.bad("feature_names_in_", "should be an array of names"))?;
    Ok(Some(
        values
            .into_iter()
            .map(|v| v.map(|v| v.text()).unwrap_or_default())
            .collect(),
    ))
}

/// The input indices a column specification selects, in its order.
fn select(
    ct: &Obj,
    spec: NodeId,
    names: &Option<Vec<String>>,
    n: usize,
) -> Result<Vec<usize>, SklearnError> {
    let p = ct.pickle;
    let bad = |why: String| ct.bad("transformers_", why);
    let by_name = |name: &str| -> Result<usize, SklearnError> {
        names
            .as_ref()
            .and_then(|names| names.iter().position(|n| n == name))
            .ok_or_else(|| {
                bad(format!(
                    "selects column {}, which is not among its input columns",
                    quoted(name)
                ))
            })
    };
    let by_index = |i: i64| -> Result<usize, SklearnError> {
        let i = if i < 0 { i + n as i64 } else { i };
        usize::try_from(i)
            .ok()
            .filter(|i| *i < n)
            .ok_or_else(|| bad(format!("selects column {i} of {n}")))
    };
    let from_items = |items: &[NodeId]| -> Result<Vec<usize>, SklearnError> {
        let nodes: Vec<&Node> = items.iter().map(|i| p.node(*i)).collect();
        if !nodes.is_empty() && nodes.iter().all(|n| matches!(n, Node::Bool(_))) {
            return Ok(nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| matches!(n, Node::Bool(true)))
                .map(|(i, _)| i)
                .collect());
        }
        nodes
            .iter()
            .map(|node| match node {
                Node::Str(s) => by_name(s),
                Node::Int(i) => by_index(*i),
                other => Err(bad(format!("a column is selected by {}", other.kind()))),
            })
            .collect()
    };
    match p.node(spec) {
        Node::Str(s) => Ok(vec![by_name(s)?]),
        Node::Int(i) => Ok(vec![by_index(*i)?]),
        Node::List(items) | Node::Tuple(items) => from_items(items),
        Node::Array(a) => match a.dtype.kind {
            Kind::Bool => Ok(a
                .to_f64()
                .unwrap_or_default()
                .iter()
                .enumerate()
                .filter(|(_, v)| **v == 1.0)
                .map(|(i, _)| i)
                .collect()),
            Kind::Int | Kind::UInt => a
                .to_i64()
                .unwrap_or_default()
                .into_iter()
                .map(by_index)
                .collect(),
            Kind::Unicode | Kind::Bytes => a
                .to_strings()
                .unwrap_or_default()
                .iter()
                .map(|s| by_name(s))
                .collect(),
            Kind::Object => from_items(&a.objects().unwrap_or_default()),
            _ => Err(bad("columns are selected by an array of numbers".into())),
        },
        Node::Object(o) if !o.list_items.is_empty() || o.class.name == "_RemainderColsList" => {
            // scikit-learn 1.5+ wraps the remainder's columns in a list subclass.
            let data = o.state.and_then(|s| p.dict_get(s, "data"));
            match data.and_then(|d| p.items(d)) {
                Some(items) if o.list_items.is_empty() => from_items(items),
                _ => from_items(&o.list_items),
            }
        }
        Node::Object(o) if o.class.name == "slice" => {
            let arg = |k: usize| o.args.get(k).map(|a| p.node(*a));
            let int = |node: Option<&Node>| match node {
                Some(Node::Int(i)) => Ok(Some(*i)),
                None | Some(Node::None) => Ok(None),
                Some(_) => Err(bad(
                    "a slice of column names is not supported; select names in a list".into(),
                )),
            };
            let (start, stop, step) = (int(arg(0))?, int(arg(1))?, int(arg(2))?);
            let step = step.unwrap_or(1);
            if step <= 0 {
                return Err(bad("a slice with a step below 1".into()));
            }
            let clamp = |v: i64| if v < 0 { (v + n as i64).max(0) } else { v.min(n as i64) } as usize;
            let (start, stop) = (start.map_or(0, clamp), stop.map_or(n, clamp));
            Ok((start..stop).step_by(step as usize).collect())
        }
        other => Err(bad(format!("columns are selected by {}", other.kind()))),
    }
}
