//! ONNX files to a [`Model`] whose estimator is the graph itself
//! ([`OnnxEstimator`], run by tract under the cargo feature `onnx`).
//!
//! What the importer works out from the graph:
//! - the answer: the tensor before `ZipMap` (or the one float output), and the
//!   classes from the classifier's `classlabels_*` attributes (none: a regressor);
//! - the schema, one field per input column: a single `[n, k]` float tensor
//!   gives fields `x0 .. x{k-1}`; named `[n, 1]` inputs give fields of those
//!   names; string inputs become category fields whose values are the
//!   categories of the `OneHotEncoder`/`LabelEncoder` nodes that read them
//!   (open when those encoders ignore unknown values), and which may be missing
//!   when a string imputer reads them (its marker, usually "", stands for
//!   missing); an integer input that only an erroring `OneHotEncoder` reads is
//!   a closed category field of its values;
//! - which numeric fields may be missing: those whose NaN reaches only
//!   Imputers and tree ensembles (followed through the routing operators),
//!   and for which the graph then gives a finite answer (tried once);
//! - the explanation baseline ([`crate::model::onnx::default_baseline`]).
//!
//! A user's schema (`--schema`) may rename (by position for a bare tensor,
//! else by name), label, add ranges and present numeric codes as categories;
//! every mismatch with the graph is named. The graph is built and the
//! reference rows are run here, so an unsupported operator or a graph that
//! does not compute stops the import, not a later request.

use crate::model::onnx::{OnnxEstimator, OnnxInput, TensorType, default_baseline};
use crate::model::report::{Origin, Report};
use crate::model::{Column, Estimator, Link, Model, ModelError, Preprocessor, Step};
use crate::schema::{
    Category, CategorySpec, Class, Field, FieldKind, NumberSpec, Schema, Target, TargetKind, Text,
};

/// Why an ONNX file cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum OnnxImportError {
    #[error("{}", crate::model::onnx::NO_ONNX)]
    NotBuilt,
    #[cfg(feature = "onnx")]
    #[error(transparent)]
    Engine(#[from] crate::onnx::OnnxError),
    #[error("{0}")]
    Graph(String),
    #[error("the given schema does not fit the graph: {0}")]
    Schema(String),
    #[error("the converted model is not consistent: {0}")]
    Model(#[from] ModelError),
}

/// Whether `bytes` look like a protobuf `ModelProto`: an `ir_version` varint
/// first (every ONNX writer puts it there), then well-formed fields that
/// ModelProto has. A pickle starts with 0x80 or a printable opcode, never 0x08.
pub fn looks_like_onnx(bytes: &[u8]) -> bool {
    let mut at = 0;
    let mut fields = 0;
    while at < bytes.len() && fields < 16 {
        let Some((key, next)) = varint(bytes, at) else {
            return false;
        };
        let (number, wire) = (key >> 3, key & 7);
        if fields == 0 && (number != 1 || wire != 0) {
            return false;
        }
        at = next;
        match (number, wire) {
            (1 | 5, 0) => {
                let Some((value, next)) = varint(bytes, at) else {
                    return false;
                };
                if number == 1 && !(1..=100).contains(&value) {
                    return false;
                }
                at = next;
            }
            (2 | 3 | 4 | 6 | 7 | 8 | 14 | 20 | 25, 2) => {
                let Some((len, next)) = varint(bytes, at) else {
                    return false;
                };
                let Some(end) = usize::try_from(len).ok().and_then(|l| next.checked_add(l)) else {
                    return false;
                };
                if end > bytes.len() {
                    // A truncated file still looks like ONNX; reading it says what is wrong.
                    return fields > 0;
                }
                at = end;
            }
            _ => return false,
        }
        fields += 1;
    }
    fields > 0
}

fn varint(bytes: &[u8], mut at: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(at)?;
        at += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some((value, at));
        }
    }
    None
}

/// Where the file came from, for the report.
pub struct Source {
    pub file_name: String,
    pub file_sha256: String,
}

/// The element type of a graph input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    Numeric(TensorType),
    Text,
}

/// One input column of the graph, as derived from it.
#[derive(Debug, Clone)]
struct Slot {
    /// The index of the graph input, and the column in it.
    input: usize,
    column: usize,
    elem: Elem,
    /// Categories the graph's encoders know (strings, or integer values as text).
    categories: Vec<String>,
    /// An encoder refuses unknown values.
    closed: bool,
    /// The string the graph's imputer reads as missing.
    missing: Option<String>,
    /// A NaN here reaches an operator other than an Imputer or a tree ensemble.
    exposed: bool,
    /// The graph handles NaN here: not exposed, and it gives a finite answer.
    nan_ok: bool,
}

/// The graph's inputs: names and widths.
struct Input {
    name: String,
    elem: Elem,
    width: usize,
}

#[cfg(not(feature = "onnx"))]
pub fn import(_: &[u8], _: Source, _: Option<Schema>) -> Result<Model, OnnxImportError> {
    Err(OnnxImportError::NotBuilt)
}

#[cfg(feature = "onnx")]
pub fn import(
    bytes: &[u8],
    source: Source,
    user: Option<Schema>,
) -> Result<Model, OnnxImportError> {
    use crate::onnx::graph;

    let proto = graph::decode(bytes)?;
    let g = graph::graph(&proto)?;
    let (output, classes) = answer(g)?;
    let inputs = inputs(g)?;
    let mut slots: Vec<Slot> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let bare = inputs.len() == 1 && inputs[0].width > 1;
    for (i, input) in inputs.iter().enumerate() {
        for c in 0..input.width {
            names.push(if bare {
                format!("x{c}")
            } else if input.width == 1 {
                input.name.clone()
            } else {
                format!("{}_{c}", input.name)
            });
            slots.push(Slot {
                input: i,
                column: c,
                elem: input.elem,
                categories: Vec::new(),
                closed: false,
                missing: None,
                exposed: false,
                nan_ok: false,
            });
        }
    }
    encoders::read(g, &inputs, &mut slots);
    for (slot, name) in slots.iter().zip(&names) {
        if slot.elem == Elem::Text && slot.categories.is_empty() {
            return Err(OnnxImportError::Graph(format!(
                "the string input {name:?} is read by no OneHotEncoder or LabelEncoder, so its values are unknown; give a --schema listing them"
            )));
        }
    }
    let width = classes.as_ref().map_or(1, Vec::len) as u32;
    // Which numeric fields may be missing: try NaN in each, once.
    let fields: Vec<Field> = slots
        .iter()
        .zip(&names)
        .map(|(s, n)| derived_field(s, n))
        .collect();
    let probe = estimator(bytes, &inputs, &slots, &fields, &output, width)?;
    probe.check().map_err(OnnxImportError::Graph)?;
    let ok = nan_ok(&probe, &slots, &fields)?;
    for (s, ok) in slots.iter_mut().zip(ok) {
        s.nan_ok = ok && !s.exposed;
    }
    let fields: Vec<Field> = slots
        .iter()
        .zip(&names)
        .map(|(s, n)| derived_field(s, n))
        .collect();

    let stem = source
        .file_name
        .rsplit_once('.')
        .map_or(source.file_name.as_str(), |(s, _)| s)
        .to_string();
    let producer = [
        proto.producer_name.as_str(),
        proto.producer_version.as_str(),
    ]
    .iter()
    .filter(|s| !s.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(" ");
    let learner = learner(g, &output);
    let target_name = if fields.iter().any(|f| f.name == "target") {
        "prediction"
    } else {
        "target"
    };
    let kind = match &classes {
        Some(classes) => TargetKind::Classes(
            classes
                .iter()
                .map(|c| Class {
                    value: c.clone(),
                    label: Text::new(c.clone()),
                })
                .collect(),
        ),
        None => TargetKind::Value { unit: None },
    };
    let derived = Schema {
        name: super::machine_name(&stem),
        title: Text::new(stem.clone()),
        description: Text::new(format!(
            "{learner} imported from {}{}",
            source.file_name,
            if producer.is_empty() {
                String::new()
            } else {
                format!(" (made by {producer})")
            }
        )),
        fields,
        target: Target {
            name: target_name.into(),
            label: Text::new("Prediction"),
            kind,
        },
    };
    let schema = match user {
        Some(user) => apply_schema(user, &derived, &slots, bare)?,
        None => derived,
    };
    // Each final field reads the slot of the derived field of the same position
    // or name (checked by `apply_schema`).
    let order: Vec<usize> = if bare {
        (0..schema.fields.len()).collect()
    } else {
        schema
            .fields
            .iter()
            .map(|f| names.iter().position(|n| *n == f.name).unwrap_or(0))
            .collect()
    };
    let ordered: Vec<Slot> = order.iter().map(|i| slots[*i].clone()).collect();
    let mut onnx = estimator(bytes, &inputs, &ordered, &schema.fields, &output, width)?;
    onnx.baseline = default_baseline(&schema);
    let preprocessor = preprocessor(&ordered, &schema.fields);
    let mut params = vec![("output".to_string(), output.clone())];
    let opsets: Vec<String> = proto
        .opset_import
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                if o.domain.is_empty() {
                    "ai.onnx"
                } else {
                    &o.domain
                },
                o.version
            )
        })
        .collect();
    params.push(("opsets".into(), opsets.join(", ")));
    params.push(("ir_version".into(), proto.ir_version.to_string()));
    let report = Report {
        lifeboat_version: env!("CARGO_PKG_VERSION").to_string(),
        created: super::now(),
        learner,
        params,
        origin: Origin::Imported {
            format: "onnx".into(),
            file_name: source.file_name.clone(),
            file_sha256: source.file_sha256,
            producer: (!producer.is_empty()).then_some(producer),
        },
        cross_validation: None,
        field_importance: Vec::new(),
    };
    let baseline = onnx.baseline.clone();
    let mut model = Model {
        schema,
        preprocessor,
        estimator: Estimator::Onnx(onnx),
        link: Link::Identity,
        report,
        reference: Vec::new(),
    };
    model.check_shapes()?;
    let mut rows = super::reference::rows(&model);
    rows.push(baseline);
    model.set_reference(rows);
    // The reference rows must give answers: NaN would mean the graph cannot
    // take an input the schema accepts.
    for r in &model.reference {
        if r.expected.iter().any(|v| !v.is_finite()) {
            return Err(OnnxImportError::Graph(format!(
                "the graph gives {:?} for the input {:?}; it cannot take what the schema accepts",
                r.expected, r.row.cells
            )));
        }
    }
    model.check()?;
    Ok(model)
}

/// The tensor with the answer, and the classes if it is a classifier.
#[cfg(feature = "onnx")]
fn answer(
    g: &tract_onnx::pb::GraphProto,
) -> Result<(String, Option<Vec<String>>), OnnxImportError> {
    use crate::onnx::graph;
    let producers = graph::producers(g);
    let labels = |node: &tract_onnx::pb::NodeProto| -> Option<Vec<String>> {
        if let Some(s) = graph::strings(node, "classlabels_strings").filter(|v| !v.is_empty()) {
            return Some(s);
        }
        ["classlabels_int64s", "classlabels_ints"]
            .iter()
            .find_map(|a| graph::ints(node, a).filter(|v| !v.is_empty()))
            .map(|v| v.iter().map(i64::to_string).collect())
    };
    let mut candidates: Vec<(String, Option<Vec<String>>)> = Vec::new();
    for out in &g.output {
        match producers.get(out.name.as_str()) {
            Some(node) if node.op_type == "ZipMap" => {
                if let Some(input) = node.input.first() {
                    candidates.push((input.clone(), labels(node)));
                }
            }
            _ => {
                let float = graph::tensor_type(out).is_some_and(|(t, _)| t == 1 || t == 11);
                if float {
                    candidates.push((out.name.clone(), None));
                }
            }
        }
    }
    candidates.dedup_by(|a, b| a.0 == b.0);
    let chosen = match candidates.len() {
        0 => {
            return Err(OnnxImportError::Graph(
                "the graph has no float output (probabilities or a value) to serve".into(),
            ));
        }
        1 => candidates.remove(0),
        _ => {
            let i = candidates
                .iter()
                .position(|c| c.1.is_some())
                .or_else(|| candidates.iter().position(|c| c.0.contains("prob")));
            match i {
                Some(i) => candidates.remove(i),
                None => {
                    return Err(OnnxImportError::Graph(format!(
                        "the graph has several float outputs ({}); lifeboat serves one",
                        candidates
                            .iter()
                            .map(|c| c.0.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
        }
    };
    let (output, mut classes) = chosen;
    if classes.is_none() {
        // The classifier that made the probabilities names the classes.
        for node in graph::needed_nodes(g, &output).into_iter().rev() {
            if let Some(l) = labels(node) {
                classes = Some(l);
                break;
            }
        }
    }
    if let Some(c) = &classes
        && c.len() < 2
    {
        return Err(OnnxImportError::Graph(format!(
            "the classifier has {} class(es); lifeboat serves two or more",
            c.len()
        )));
    }
    Ok((output, classes))
}

/// The graph inputs fed at run time, with their types and widths.
#[cfg(feature = "onnx")]
fn inputs(g: &tract_onnx::pb::GraphProto) -> Result<Vec<Input>, OnnxImportError> {
    use crate::onnx::graph;
    let mut out = Vec::new();
    for info in graph::runtime_inputs(g) {
        let err =
            |why: String| OnnxImportError::Graph(format!("graph input {:?} {why}", info.name));
        let Some((elem, dims)) = graph::tensor_type(info) else {
            return Err(err("is not a tensor".into()));
        };
        let elem = match elem {
            1 => Elem::Numeric(TensorType::F32),
            11 => Elem::Numeric(TensorType::F64),
            7 => Elem::Numeric(TensorType::I64),
            6 => Elem::Numeric(TensorType::I32),
            8 => Elem::Text,
            other => {
                return Err(err(format!(
                    "holds {} values; lifeboat feeds float, double, int64, int32 and string inputs",
                    graph::type_name(other)
                )));
            }
        };
        let width = match dims.as_slice() {
            [_, Some(k)] if *k >= 1 && *k <= 100_000 => *k as usize,
            [_] => 1,
            _ => {
                return Err(err(format!(
                    "has shape {dims:?}; lifeboat feeds [rows, columns] inputs with a fixed number of columns"
                )));
            }
        };
        if elem == Elem::Text && width != 1 {
            return Err(err(format!(
                "is a string tensor of {width} columns; lifeboat feeds one string column per input"
            )));
        }
        out.push(Input {
            name: info.name.clone(),
            elem,
            width,
        });
    }
    if out.is_empty() {
        return Err(OnnxImportError::Graph("the graph takes no inputs".into()));
    }
    Ok(out)
}

/// A short description: the `ai.onnx.ml` operators the answer goes through.
#[cfg(feature = "onnx")]
fn learner(g: &tract_onnx::pb::GraphProto, output: &str) -> String {
    let mut ops: Vec<&str> = Vec::new();
    for node in crate::onnx::graph::needed_nodes(g, output) {
        if node.domain == "ai.onnx.ml" && !ops.contains(&node.op_type.as_str()) {
            ops.push(&node.op_type);
        }
    }
    if ops.is_empty() {
        "ONNX graph".into()
    } else {
        format!("ONNX graph ({})", ops.join(" → "))
    }
}

/// The field a slot gives when the graph alone is the source.
fn derived_field(slot: &Slot, name: &str) -> Field {
    let category = |values: &[String], open: bool| {
        FieldKind::Category(CategorySpec {
            values: values
                .iter()
                .map(|v| Category {
                    value: v.clone(),
                    label: Text::new(v.clone()),
                })
                .collect(),
            open,
        })
    };
    let (kind, optional) = match slot.elem {
        Elem::Text => (
            category(&slot.categories, !slot.closed),
            slot.missing.is_some(),
        ),
        Elem::Numeric(_) if slot.closed && !slot.categories.is_empty() => {
            (category(&slot.categories, false), false)
        }
        Elem::Numeric(TensorType::I64 | TensorType::I32) => {
            (FieldKind::Integer(NumberSpec::default()), false)
        }
        Elem::Numeric(_) => (FieldKind::Number(NumberSpec::default()), slot.nan_ok),
    };
    Field {
        name: name.to_string(),
        label: Text::new(name),
        help: Text::default(),
        kind,
        optional,
        default: None,
    }
}

/// One feature column per field: numbers pass through (NaN for missing);
/// categories become their index, or their numeric code for numeric inputs.
fn preprocessor(slots: &[Slot], fields: &[Field]) -> Preprocessor {
    let columns = slots
        .iter()
        .zip(fields)
        .enumerate()
        .map(|(i, (slot, field))| {
            let steps = match (&field.kind, slot.elem) {
                (FieldKind::Category(spec), Elem::Text) => vec![Step::Ordinal {
                    codes: (0..spec.values.len()).map(|c| c as f64).collect(),
                    unseen: -1.0,
                    missing: f64::NAN,
                }],
                (FieldKind::Category(spec), Elem::Numeric(_)) => {
                    let codes: Vec<f64> = spec
                        .values
                        .iter()
                        .map(|c| c.value.trim().parse::<f64>().unwrap_or(f64::NAN))
                        .collect();
                    // Unseen codes become a number no category has.
                    let unseen = codes
                        .iter()
                        .copied()
                        .filter(|c| c.is_finite())
                        .fold(0.0, f64::max)
                        .floor()
                        + 1.0;
                    vec![Step::Ordinal {
                        codes,
                        unseen,
                        missing: f64::NAN,
                    }]
                }
                _ => Vec::new(),
            };
            Column {
                name: field.name.clone(),
                field: i as u32,
                steps,
            }
        })
        .collect();
    Preprocessor { columns }
}

/// The estimator feeding `slots` (in field order) to the graph's inputs.
fn estimator(
    bytes: &[u8],
    inputs: &[Input],
    slots: &[Slot],
    fields: &[Field],
    output: &str,
    width: u32,
) -> Result<OnnxEstimator, OnnxImportError> {
    let mut fed = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let mut features = vec![u32::MAX; input.width];
        for (f, slot) in slots.iter().enumerate() {
            if slot.input == i {
                features[slot.column] = f as u32;
            }
        }
        if features.contains(&u32::MAX) {
            return Err(OnnxImportError::Schema(format!(
                "no field feeds a column of the graph input {:?}",
                input.name
            )));
        }
        fed.push(match input.elem {
            Elem::Numeric(dtype) => OnnxInput::Tensor {
                name: input.name.clone(),
                dtype,
                features,
            },
            Elem::Text => {
                let f = features[0] as usize;
                let categories: Vec<String> = match &fields[f].kind {
                    FieldKind::Category(spec) => {
                        spec.values.iter().map(|c| c.value.clone()).collect()
                    }
                    _ => slots[f].categories.clone(),
                };
                let missing = slots[f].missing.clone();
                let mut unseen = String::from("<unseen>");
                while categories.contains(&unseen) || missing.as_ref() == Some(&unseen) {
                    unseen.push('_');
                }
                OnnxInput::Strings {
                    name: input.name.clone(),
                    feature: f as u32,
                    categories,
                    unseen,
                    missing,
                }
            }
        });
    }
    Ok(OnnxEstimator {
        graph: bytes.to_vec(),
        inputs: fed,
        output: output.to_string(),
        width,
        baseline: crate::schema::Row { cells: Vec::new() },
        plan: Default::default(),
    })
}

/// For each slot, whether the graph answers with finite numbers when that
/// numeric input is NaN (everything else at a plain value).
fn nan_ok(
    probe: &OnnxEstimator,
    slots: &[Slot],
    fields: &[Field],
) -> Result<Vec<bool>, OnnxImportError> {
    let n = slots.len();
    let plain: Vec<f64> = fields
        .iter()
        .map(|f| match &f.kind {
            FieldKind::Category(spec) => spec
                .values
                .first()
                .and_then(|c| c.value.parse().ok())
                .unwrap_or(0.0),
            _ => 0.0,
        })
        .collect();
    // Category fields on string inputs take index 0, not the value.
    let plain: Vec<f64> = plain
        .iter()
        .zip(slots)
        .map(|(v, s)| if s.elem == Elem::Text { 0.0 } else { *v })
        .collect();
    let mut rows = Vec::with_capacity(n * n);
    for j in 0..n {
        let mut row = plain.clone();
        row[j] = f64::NAN;
        rows.extend(row);
    }
    let width = probe.n_outputs();
    let mut out = vec![0.0; n * width];
    probe
        .raw_batch(&rows, n, &mut out)
        .map_err(OnnxImportError::Graph)?;
    Ok(slots
        .iter()
        .enumerate()
        .map(|(j, s)| {
            matches!(s.elem, Elem::Numeric(TensorType::F32 | TensorType::F64))
                && out[j * width..(j + 1) * width]
                    .iter()
                    .all(|v| v.is_finite())
        })
        .collect())
}

/// Checks a user's schema against the derived one and returns it with the
/// derived target kind where the user's matches. Fields are matched by
/// position for a bare tensor (x0, x1, ...), else by name.
fn apply_schema(
    user: Schema,
    derived: &Schema,
    slots: &[Slot],
    bare: bool,
) -> Result<Schema, OnnxImportError> {
    let err = |why: String| OnnxImportError::Schema(why);
    user.check().map_err(|e| err(e.to_string()))?;
    let names: Vec<&str> = derived.field_names().collect();
    if user.fields.len() != derived.fields.len() {
        return Err(err(format!(
            "it lists {} fields but the graph takes {} inputs ({})",
            user.fields.len(),
            derived.fields.len(),
            names.join(", ")
        )));
    }
    for (i, uf) in user.fields.iter().enumerate() {
        let d = if bare {
            i
        } else {
            derived.field_index(&uf.name).ok_or_else(|| {
                err(format!(
                    "field {:?} is not an input of the graph; its inputs are {}",
                    uf.name,
                    names.join(", ")
                ))
            })?
        };
        let (df, slot) = (&derived.fields[d], &slots[d]);
        if uf.optional && !df.optional {
            return Err(err(format!(
                "field {:?} is optional, but the graph cannot take a missing {:?} (nothing imputes it); set optional = false",
                uf.name, df.name
            )));
        }
        match (&uf.kind, slot.elem) {
            (FieldKind::Number(_), Elem::Numeric(TensorType::F32 | TensorType::F64))
            | (FieldKind::Integer(_) | FieldKind::Boolean, Elem::Numeric(_)) => {
                if slot.closed {
                    return Err(err(format!(
                        "field {:?}: the graph accepts only the values {}; make it a category field listing them",
                        uf.name,
                        slot.categories.join(", ")
                    )));
                }
            }
            (FieldKind::Number(_), Elem::Numeric(_)) => {
                return Err(err(format!(
                    "field {:?}: the graph takes whole numbers here; use kind \"integer\"",
                    uf.name
                )));
            }
            (FieldKind::Category(spec), Elem::Numeric(dtype)) => {
                for c in &spec.values {
                    let Ok(v) = c.value.trim().parse::<f64>() else {
                        return Err(err(format!(
                            "field {:?}: the graph takes a number here, so every category value must be a number, not {:?}",
                            uf.name, c.value
                        )));
                    };
                    if matches!(dtype, TensorType::I64 | TensorType::I32) && v.fract() != 0.0 {
                        return Err(err(format!(
                            "field {:?}: the graph takes whole numbers here, not {:?}",
                            uf.name, c.value
                        )));
                    }
                    if slot.closed
                        && !slot
                            .categories
                            .iter()
                            .any(|k| k.parse::<f64>().ok() == Some(v))
                    {
                        return Err(err(format!(
                            "field {:?}: the graph does not know the value {:?}; it knows {}",
                            uf.name,
                            c.value,
                            slot.categories.join(", ")
                        )));
                    }
                }
                if spec.open && slot.closed {
                    return Err(err(format!(
                        "field {:?} is open, but the graph's encoder refuses values it did not see; set open = false",
                        uf.name
                    )));
                }
            }
            (FieldKind::Category(spec), Elem::Text) => {
                let unknown: Vec<&str> = spec
                    .values
                    .iter()
                    .map(|c| c.value.as_str())
                    .filter(|v| !slot.categories.iter().any(|k| k == v))
                    .collect();
                if !unknown.is_empty() && slot.closed {
                    return Err(err(format!(
                        "field {:?} lists {} but the graph knows only {}",
                        uf.name,
                        unknown.join(", "),
                        slot.categories.join(", ")
                    )));
                }
                if spec.open && slot.closed {
                    return Err(err(format!(
                        "field {:?} is open, but the graph's encoder refuses values it did not see; set open = false",
                        uf.name
                    )));
                }
                if let Some(m) = &slot.missing
                    && spec.values.iter().any(|c| &c.value == m)
                {
                    return Err(err(format!(
                        "field {:?} lists {m:?}, which the graph reads as missing",
                        uf.name
                    )));
                }
            }
            (kind, Elem::Text) => {
                return Err(err(format!(
                    "field {:?} is a {} field, but the graph reads {:?} as text; make it a category field",
                    uf.name,
                    kind_name(kind),
                    df.name
                )));
            }
        }
    }
    let target = match (&derived.target.kind, user.target.kind.clone()) {
        (TargetKind::Classes(dc), TargetKind::Classes(uc)) => {
            let values = |c: &[Class]| c.iter().map(|c| c.value.clone()).collect::<Vec<_>>();
            let mut classes = Vec::with_capacity(dc.len());
            for d in dc {
                match uc.iter().find(|u| u.value == d.value) {
                    Some(u) if uc.len() == dc.len() => classes.push(u.clone()),
                    _ => {
                        return Err(err(format!(
                            "the target lists the classes {} but the graph predicts {}",
                            values(&uc).join(", "),
                            values(dc).join(", ")
                        )));
                    }
                }
            }
            TargetKind::Classes(classes)
        }
        (TargetKind::Value { .. }, kind @ TargetKind::Value { .. }) => kind,
        (TargetKind::Classes(_), TargetKind::Value { .. }) => {
            return Err(err(
                "the target is a value, but the graph is a classifier; list its classes".into(),
            ));
        }
        (TargetKind::Value { .. }, TargetKind::Classes(_)) => {
            return Err(err(
                "the target lists classes, but the graph is a regressor; use kind = \"value\""
                    .into(),
            ));
        }
    };
    let description = if user.description.is_empty() {
        derived.description.clone()
    } else {
        user.description.clone()
    };
    let mut schema = user;
    schema.target.kind = target;
    schema.description = description;
    Ok(schema)
}

fn kind_name(kind: &FieldKind) -> &'static str {
    match kind {
        FieldKind::Number(_) => "number",
        FieldKind::Integer(_) => "integer",
        FieldKind::Category(_) => "category",
        FieldKind::Boolean => "boolean",
    }
}

/// Reading the graph's encoders: which categories each input column may
/// take, whether unknown values are refused, and the string imputer's marker.
#[cfg(feature = "onnx")]
mod encoders {
    use std::collections::HashMap;

    use tract_onnx::pb::{GraphProto, TensorProto};

    use super::{Elem, Input, Slot};
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
                            if axis == 1
                                || axis == -1
                                || node.op_type == "ArrayFeatureExtractor" =>
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
                        graph::ints(node, "cats_int64s")
                            .map(|v| v.iter().map(i64::to_string).collect())
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
                if k == 0
                    && graph::float(node, "replaced_value_float").is_some_and(f32::is_nan) => {}
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
            7 if t.raw_data.len() % 8 == 0 => Some(
                t.raw_data
                    .chunks(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                    .collect(),
            ),
            6 if t.raw_data.len() % 4 == 0 => Some(
                t.raw_data
                    .chunks(4)
                    .map(|c| i64::from(i32::from_le_bytes(c.try_into().unwrap_or([0; 4]))))
                    .collect(),
            ),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_tells_onnx_from_pickles() {
        // ir_version 8, producer "skl2onnx", then the graph field.
        let mut onnx = vec![0x08, 0x08, 0x12, 0x08];
        onnx.extend_from_slice(b"skl2onnx");
        onnx.extend_from_slice(&[0x3a, 0x02, 0x0a, 0x00]);
        assert!(looks_like_onnx(&onnx));
        // Truncated inside the graph: still ONNX (reading it says what is wrong).
        assert!(looks_like_onnx(&onnx[..onnx.len() - 1]));
        assert!(!looks_like_onnx(b"\x80\x04\x95\x08\x00"));
        assert!(!looks_like_onnx(b"(dp0\nS'a'\n"));
        assert!(!looks_like_onnx(b""));
        assert!(!looks_like_onnx(&[0x08, 0x00]));
        assert!(!looks_like_onnx(&[0x08, 0x08, 0x7a, 0x01]));
    }

    #[test]
    fn onnx_files_are_detected_by_content_and_by_name() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/onnx/pipe_lr.zipmap.onnx"
        ))
        .unwrap();
        assert_eq!(
            crate::import::detect(&bytes, "model.bin"),
            Some(crate::import::Format::Onnx)
        );
        assert_eq!(
            crate::import::detect(b"", "model.onnx"),
            Some(crate::import::Format::Onnx)
        );
    }

    #[cfg(not(feature = "onnx"))]
    #[test]
    fn without_the_feature_the_error_says_how_to_get_it() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/onnx/pipe_lr.zipmap.onnx"
        ))
        .unwrap();
        let err = crate::import::from_bytes(&bytes, "pipe_lr.zipmap.onnx", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--features onnx"), "{err}");
    }
}
