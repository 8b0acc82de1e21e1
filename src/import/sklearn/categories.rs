//! Reading category lists (`categories_`, `classes_`, `statistics_`) from
//! numpy arrays of numbers, text or Python objects. A NaN or `None` entry is
//! scikit-learn's "missing" category.

use crate::import::pickle::numpy::Kind;
use crate::import::pickle::{Node, NodeId, Pickle};

use super::features::CatValue;

/// The values of an array (or list) of categories; `None` marks missing.
pub fn values(pickle: &Pickle, id: NodeId) -> Option<Vec<Option<CatValue>>> {
    match pickle.node(id) {
        Node::Array(a) => match a.dtype.kind {
            Kind::Object => a
                .objects()?
                .into_iter()
                .map(|i| scalar(pickle.node(i)))
                .collect(),
            Kind::Unicode | Kind::Bytes => Some(
                a.to_strings()?
                    .into_iter()
                    .map(|s| Some(CatValue::Text(s)))
                    .collect(),
            ),
            Kind::Bool => Some(
                a.to_f64()?
                    .into_iter()
                    .map(|v| {
                        Some(CatValue::Text(
                            if v == 1.0 { "True" } else { "False" }.into(),
                        ))
                    })
                    .collect(),
            ),
            _ => Some(
                a.to_f64()?
                    .into_iter()
                    .map(|v| (!v.is_nan()).then_some(CatValue::Number(v)))
                    .collect(),
            ),
        },
        Node::List(items) | Node::Tuple(items) => {
            items.iter().map(|i| scalar(pickle.node(*i))).collect()
        }
        _ => None,
    }
}

/// One Python value as a category: `Some(None)` for missing, `None` if it is
/// not a scalar at all.
fn scalar(node: &Node) -> Option<Option<CatValue>> {
    Some(match node {
        Node::Str(s) => Some(CatValue::Text(s.clone())),
        Node::Float(f) if f.is_nan() => None,
        Node::Float(f) => Some(CatValue::Number(*f)),
        Node::Int(i) => Some(CatValue::Number(*i as f64)),
        Node::Bool(b) => Some(CatValue::Text(if *b { "True" } else { "False" }.into())),
        Node::None => None,
        _ => return None,
    })
}
