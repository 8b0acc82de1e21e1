//! Reading an ONNX `ModelProto` before any engine sees it: decoding, the
//! checks that keep hostile or unsupported files out with a clear message
//! (operators we do not run, external data, sub-graphs, dangling names), and
//! the small queries the importer and the compatibility ops need (attributes,
//! producers, which nodes an output depends on).

use std::collections::{HashMap, HashSet};

use tract_onnx::pb::{self, AttributeProto, GraphProto, ModelProto, NodeProto};
use tract_onnx::prelude::Framework;

use super::OnnxError;
use crate::quote::quoted;

/// Files larger than this are refused (the fixtures are a few kB; a large
/// forest is a few MB).
pub const MAX_BYTES: usize = 256 << 20;

/// Operators of the `ai.onnx.ml` domain lifeboat runs: tract's own, ours
/// ([`super::compat`]), and ZipMap, which is skipped (its input is read).
pub const ML_OPERATORS: &[&str] = &[
    "ArrayFeatureExtractor",
    "CategoryMapper",
    "Imputer",
    "LabelEncoder",
    "LinearClassifier",
    "LinearRegressor",
    "Normalizer",
    "OneHotEncoder",
    "Scaler",
    "TreeEnsembleClassifier",
    "TreeEnsembleRegressor",
    "ZipMap",
];

/// Decodes the bytes of an ONNX file.
pub fn decode(bytes: &[u8]) -> Result<ModelProto, OnnxError> {
    if bytes.len() > MAX_BYTES {
        return Err(OnnxError::Invalid(format!(
            "the file is larger than {MAX_BYTES} bytes"
        )));
    }
    tract_onnx::onnx()
        .proto_model_for_read(&mut &bytes[..])
        .map_err(|e| OnnxError::Invalid(format!("it is not a readable ONNX model ({e})")))
}

/// The graph of a model.
pub fn graph(model: &ModelProto) -> Result<&GraphProto, OnnxError> {
    model
        .graph
        .as_ref()
        .ok_or_else(|| OnnxError::Invalid("the model has no graph".into()))
}

/// The graph inputs fed at run time (inputs that are not initializers).
pub fn runtime_inputs(graph: &GraphProto) -> Vec<&pb::ValueInfoProto> {
    let init: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    graph
        .input
        .iter()
        .filter(|i| !init.contains(i.name.as_str()))
        .collect()
}

/// The node that produces each tensor name.
pub fn producers(graph: &GraphProto) -> HashMap<&str, &NodeProto> {
    let mut map = HashMap::new();
    for node in &graph.node {
        for out in &node.output {
            map.insert(out.as_str(), node);
        }
    }
    map
}

/// The nodes `output` depends on, in graph order.
pub fn needed_nodes<'g>(graph: &'g GraphProto, output: &str) -> Vec<&'g NodeProto> {
    let producers = producers(graph);
    let mut needed: HashSet<*const NodeProto> = HashSet::new();
    let mut todo = vec![output];
    let mut seen: HashSet<&str> = HashSet::new();
    while let Some(name) = todo.pop() {
        if !seen.insert(name) {
            continue;
        }
        if let Some(node) = producers.get(name) {
            needed.insert(*node as *const NodeProto);
            todo.extend(
                node.input
                    .iter()
                    .map(String::as_str)
                    .filter(|s| !s.is_empty()),
            );
        }
    }
    graph
        .node
        .iter()
        .filter(|n| needed.contains(&(*n as *const NodeProto)))
        .collect()
}

/// `domain.op_type`, as the error messages name operators.
pub fn op_name(node: &NodeProto) -> String {
    match node.domain.as_str() {
        "" | "ai.onnx" => node.op_type.clone(),
        d => format!("{d}.{}", node.op_type),
    }
}

/// Checks what the engine will see: every name defined before it is used,
/// the output produced, no external data or sub-graphs, and every operator
/// needed for `output` one we run. All unsupported operators are named at once.
pub fn check(
    model: &ModelProto,
    output: &str,
    runnable: &HashSet<String>,
) -> Result<(), OnnxError> {
    let graph = graph(model)?;
    let mut defined: HashSet<&str> = graph.input.iter().map(|i| i.name.as_str()).collect();
    for t in &graph.initializer {
        check_tensor(t)?;
        defined.insert(t.name.as_str());
    }
    for node in &graph.node {
        for input in node.input.iter().filter(|s| !s.is_empty()) {
            if !defined.contains(input.as_str()) {
                return Err(OnnxError::Invalid(format!(
                    "node {} ({}) reads {} before anything defines it",
                    quoted(&node.name),
                    op_name(node),
                    quoted(input)
                )));
            }
        }
        for a in &node.attribute {
            if a.g.is_some() || !a.graphs.is_empty() {
                return Err(OnnxError::Unsupported(format!(
                    "node {} ({}) holds a sub-graph (control flow); lifeboat runs flat graphs only",
                    quoted(&node.name),
                    op_name(node)
                )));
            }
            if let Some(t) = &a.t {
                check_tensor(t)?;
            }
            for t in &a.tensors {
                check_tensor(t)?;
            }
        }
        defined.extend(node.output.iter().map(String::as_str));
    }
    if !defined.contains(output) {
        return Err(OnnxError::Invalid(format!(
            "the graph has no tensor named {}",
            quoted(output)
        )));
    }
    let mut unsupported: Vec<String> = Vec::new();
    for node in needed_nodes(graph, output) {
        let ok = match node.domain.as_str() {
            "" | "ai.onnx" => runnable.contains(&node.op_type),
            "ai.onnx.ml" => ML_OPERATORS.contains(&node.op_type.as_str()),
            _ => false,
        };
        let name = op_name(node);
        if !ok && !unsupported.contains(&name) {
            unsupported.push(name);
        }
    }
    if !unsupported.is_empty() {
        return Err(OnnxError::Operators(unsupported));
    }
    Ok(())
}

fn check_tensor(t: &pb::TensorProto) -> Result<(), OnnxError> {
    if t.data_location == Some(pb::tensor_proto::DataLocation::External as i32)
        || !t.external_data.is_empty()
    {
        return Err(OnnxError::Unsupported(format!(
            "tensor {} keeps its data in another file; lifeboat reads self-contained ONNX files only",
            quoted(&t.name)
        )));
    }
    Ok(())
}

/// A node attribute by name.
pub fn attr<'n>(node: &'n NodeProto, name: &str) -> Option<&'n AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

pub fn floats(node: &NodeProto, name: &str) -> Option<Vec<f32>> {
    attr(node, name).map(|a| a.floats.clone())
}

pub fn ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(node, name).map(|a| a.ints.clone())
}

pub fn strings(node: &NodeProto, name: &str) -> Option<Vec<String>> {
    attr(node, name).map(|a| {
        a.strings
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    })
}

pub fn int(node: &NodeProto, name: &str) -> Option<i64> {
    attr(node, name).map(|a| a.i)
}

pub fn float(node: &NodeProto, name: &str) -> Option<f32> {
    attr(node, name).map(|a| a.f)
}

pub fn string(node: &NodeProto, name: &str) -> Option<String> {
    attr(node, name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
}

/// The element type and static shape (None for a symbolic dimension) of a value.
pub fn tensor_type(info: &pb::ValueInfoProto) -> Option<(i32, Vec<Option<i64>>)> {
    let pb::type_proto::Value::TensorType(t) = info.r#type.as_ref()?.value.as_ref()?;
    let dims = t
        .shape
        .as_ref()
        .map(|s| {
            s.dim
                .iter()
                .map(|d| match d.value {
                    Some(pb::tensor_shape_proto::dimension::Value::DimValue(v)) => Some(v),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Some((t.elem_type, dims))
}

/// The names ONNX gives element types, for messages.
pub fn type_name(elem_type: i32) -> String {
    pb::tensor_proto::DataType::try_from(elem_type)
        .map(|t| format!("{t:?}").to_lowercase())
        .unwrap_or_else(|_| format!("type #{elem_type}"))
}
