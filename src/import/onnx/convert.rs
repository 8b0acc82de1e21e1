//! The import itself: the answer tensor and classes, one field (and one
//! feature column) per graph input column, which numeric fields may be
//! missing, the estimator, the report, and the reference rows run at import.

use crate::model::onnx::{OnnxEstimator, OnnxInput, TensorType, default_baseline};
use crate::model::report::{Origin, Report};
use crate::model::{Column, Estimator, Link, Model, ModelError, Preprocessor, Step};
use crate::onnx::graph;
use crate::quote::quoted;
use crate::schema::{
    Category, CategorySpec, Class, Field, FieldKind, NumberSpec, Schema, Target, TargetKind, Text,
};

use super::{OnnxImportError, Source};

/// The element type of a graph input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Elem {
    Numeric(TensorType),
    Text,
}

/// One input column of the graph, as derived from it.
#[derive(Debug, Clone)]
pub(super) struct Slot {
    /// The index of the graph input, and the column in it.
    pub(super) input: usize,
    pub(super) column: usize,
    pub(super) elem: Elem,
    /// Categories the graph's encoders know (strings, or integer values as text).
    pub(super) categories: Vec<String>,
    /// An encoder refuses unknown values.
    pub(super) closed: bool,
    /// The string the graph's imputer reads as missing.
    pub(super) missing: Option<String>,
    /// A NaN here reaches an operator other than an Imputer or a tree ensemble.
    pub(super) exposed: bool,
    /// The graph handles NaN here: not exposed, and it gives a finite answer.
    pub(super) nan_ok: bool,
}

/// The graph's inputs: names and widths.
pub(super) struct Input {
    pub(super) name: String,
    pub(super) elem: Elem,
    pub(super) width: usize,
}

pub fn import(
    bytes: &[u8],
    source: Source,
    user: Option<Schema>,
) -> Result<Model, OnnxImportError> {
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
    super::encoders::read(g, &inputs, &mut slots);
    for (slot, name) in slots.iter().zip(&names) {
        if slot.elem == Elem::Text && slot.categories.is_empty() {
            return Err(OnnxImportError::Graph(format!(
                "the string input {} is read by no OneHotEncoder or LabelEncoder, so its values are unknown; give a --schema listing them",
                quoted(name)
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
    probe.check().map_err(|e| match e {
        ModelError::Estimator(why) => OnnxImportError::Graph(why),
        e => e.into(),
    })?;
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
        name: crate::import::machine_name(&stem),
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
        Some(user) => super::user_schema::apply(user, &derived, &slots, bare)?,
        None => derived,
    };
    // Each final field reads the slot of the derived field of the same position
    // or name (checked by `user_schema::apply`).
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
    if onnx.inputs == probe.inputs {
        // The same feeding: reuse the plan built for the probe.
        onnx.plan = probe.plan.clone();
    }
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
        created: crate::import::now(),
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
    let mut rows = crate::import::reference::rows(&model);
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
    // The shapes were checked just above, and reference rows do not change them.
    model.check_reference()?;
    Ok(model)
}

/// The tensor with the answer, and the classes if it is a classifier.
fn answer(
    g: &tract_onnx::pb::GraphProto,
) -> Result<(String, Option<Vec<String>>), OnnxImportError> {
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
fn inputs(g: &tract_onnx::pb::GraphProto) -> Result<Vec<Input>, OnnxImportError> {
    let mut out = Vec::new();
    for info in graph::runtime_inputs(g) {
        let err = |why: String| {
            OnnxImportError::Graph(format!("graph input {} {why}", quoted(&info.name)))
        };
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
                "no field feeds a column of the graph input {}",
                quoted(&input.name)
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
