//! Reading the graph's encoders: which categories each input column may
//! take, whether unknown values are refused, and the string imputer's marker.

use std::collections::HashMap;

use tract_onnx::pb::{GraphProto, TensorProto};

use super::convert::{Elem, Input, Slot};
use crate::onnx::graph;

/// Follows each input column through the nodes that only route values
/// (Identity, Cast to float or string, Reshape, Concat, Gather,
/// ArrayFeatureExtractor, Where) to the nodes that read it: encoders give
/// categories and the missing marker; any reader but an Imputer or a tree
/// ensemble exposes the column to NaN.
pub(super) fn read(g: &GraphProto, inputs: &[Input], slots: &mut [Slot]) {
    // tensor name -> the slot each of its columns comes from
    let mut origin: HashMap<String, Vec<Option<usize>>> = HashMap::new();
    let mut next = 0;
    for input in inputs {
        origin.insert(
            input.name.clone(),
            (next..next + input.width).map(Some).collect(),
        );
        next += input.width;
    }
    let init: HashMap<&str, &TensorProto> =
        g.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
    for node in &g.node {
        let of = |i: usize| node.input.get(i).and_then(|n| origin.get(n)).cloned();
        let routed: Option<Vec<Option<usize>>> = match node.op_type.as_str() {
            "Identity" => of(0),
            "Cast" if matches!(graph::int(node, "to"), Some(1 | 8 | 11)) => of(0),
            "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" => of(0).filter(|o| o.len() == 1),
            "Concat" => {
                let axis = graph::int(node, "axis").unwrap_or(1);
                let parts: Option<Vec<Vec<Option<usize>>>> =
                    (0..node.input.len()).map(of).collect();
                parts
                    .filter(|_| axis == 1 || axis == -1)
                    .map(|p| p.concat())
            }
            "Gather" | "ArrayFeatureExtractor" => {
                let axis = graph::int(node, "axis").unwrap_or(if node.op_type == "Gather" {
                    0
                } else {
                    1
                });
                let indices = node
                    .input
                    .get(1)
                    .and_then(|n| init.get(n.as_str()))
                    .and_then(|t| ints(t));
                match (of(0), indices) {
                    (Some(o), Some(ix))
                        if axis == 1 || axis == -1 || node.op_type == "ArrayFeatureExtractor" =>
                    {
                        ix.iter()
                            .map(|i| {
                                usize::try_from(*i)
                                    .ok()
                                    .and_then(|i| o.get(i).copied().flatten())
                            })
                            .map(Some)
                            .collect()
                    }
                    _ => None,
                }
            }
            "Where" if of(0).is_none() => of(2).or_else(|| of(1)),
            _ => None,
        };
        if let Some(o) = routed {
            for out in &node.output {
                origin.insert(out.clone(), o.clone());
            }
            continue;
        }
        for (k, name) in node.input.iter().enumerate() {
            let Some(cols) = origin.get(name) else {
                continue;
            };
            for s in cols.iter().flatten() {
                read_by(node, k, &mut slots[*s]);
            }
        }
    }
    for slot in slots.iter_mut() {
        if let Some(m) = &slot.missing {
            slot.categories.retain(|c| c != m);
        }
    }
}

/// What a node that reads slot `slot` (as its input `k`) tells about it.
fn read_by(node: &tract_onnx::pb::NodeProto, k: usize, slot: &mut Slot) {
    match node.op_type.as_str() {
        "OneHotEncoder" if k == 0 => {
            let cats = graph::strings(node, "cats_strings")
                .filter(|c| !c.is_empty())
                .or_else(|| {
                    graph::ints(node, "cats_int64s").map(|v| v.iter().map(i64::to_string).collect())
                })
                .unwrap_or_default();
            let refuses = graph::int(node, "zeros").unwrap_or(1) == 0;
            // Integer inputs matter only when the encoder refuses unknown
            // values: they then become closed category fields.
            if slot.elem == Elem::Text || refuses {
                add(&mut slot.categories, &cats);
                slot.closed |= refuses;
            }
            slot.exposed = true;
        }
        "LabelEncoder" if k == 0 && slot.elem == Elem::Text => {
            let keys = graph::strings(node, "keys_strings").unwrap_or_default();
            let values = graph::ints(node, "values_int64s").unwrap_or_default();
            let default = graph::int(node, "default_int64").unwrap_or(-1);
            // skl2onnx's string imputer asks "is this the missing marker?".
            if keys.len() == 1 && values == [1] && default == 0 {
                slot.missing = Some(keys[0].clone());
            } else {
                add(&mut slot.categories, &keys);
            }
        }
        "Imputer"
            if k == 0 && graph::float(node, "replaced_value_float").is_some_and(f32::is_nan) => {}
        "TreeEnsembleClassifier" | "TreeEnsembleRegressor" => {}
        _ => slot.exposed = true,
    }
}

fn add(list: &mut Vec<String>, values: &[String]) {
    for v in values {
        if !list.contains(v) {
            list.push(v.clone());
        }
    }
}

/// The integers of a small constant tensor (Gather indices).
fn ints(t: &TensorProto) -> Option<Vec<i64>> {
    if !t.int64_data.is_empty() {
        return Some(t.int64_data.clone());
    }
    if !t.int32_data.is_empty() {
        return Some(t.int32_data.iter().map(|v| i64::from(*v)).collect());
    }
    match t.data_type {
        7 if t.raw_data.len().is_multiple_of(8) => Some(
            t.raw_data
                .chunks(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect(),
        ),
        6 if t.raw_data.len().is_multiple_of(4) => Some(
            t.raw_data
                .chunks(4)
                .map(|c| i64::from(i32::from_le_bytes(c.try_into().unwrap_or([0; 4]))))
                .collect(),
        ),
        _ => None,
    }
}
