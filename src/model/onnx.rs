//! An ONNX graph as an estimator: the model file embeds the graph's bytes and
//! says how lifeboat's feature columns feed its inputs and which of its
//! tensors holds the answer.
//!
//! This part is plain data, so the `.lifeboat` format is the same whether or
//! not this build can run ONNX. Running needs the cargo feature `onnx`
//! ([`crate::onnx`], on tract): the runnable plan is built once, at load, and
//! kept beside the data. A build without the feature loads nothing with an
//! ONNX estimator and says how to get one that does.
//!
//! The preprocessing in front of an ONNX estimator is one feature column per
//! field: numbers pass through (NaN for missing), categories become their
//! index in [`OnnxInput::Strings::categories`]; the graph does its own
//! imputation, scaling and encoding. The graph's outputs are probabilities
//! (the link is the identity) and the class is their argmax, never the
//! graph's own label output.
//!
//! Explanations are baseline Shapley values ([`super::shapley`]) over the
//! schema fields: how much each field moved the probability away from the one
//! for [`OnnxEstimator::baseline`], a reference input stored in the file.

use serde::{Deserialize, Serialize};

use super::ModelError;
use crate::quote::quoted;
use crate::schema::{Cell, FieldKind, Row, Schema};

/// An ONNX graph and how to feed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnnxEstimator {
    /// The ONNX `ModelProto`, byte for byte as imported. The compatibility
    /// fixes ([`crate::onnx`]) are applied every time it is loaded.
    pub graph: Vec<u8>,
    /// Every graph input, in the graph's order.
    pub inputs: Vec<OnnxInput>,
    /// The graph tensor with the class probabilities (or the one predicted value).
    pub output: String,
    /// How many numbers that tensor has per row.
    pub width: u32,
    /// The input explanations compare with, one cell per schema field.
    pub baseline: Row,
    /// The runnable plan, built at load; never stored.
    #[serde(skip)]
    pub plan: Plan,
}

/// One graph input and the feature columns that feed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OnnxInput {
    /// A numeric tensor of shape `[n, features.len()]`: column j is feature `features[j]`.
    Tensor {
        name: String,
        dtype: TensorType,
        features: Vec<u32>,
    },
    /// A string tensor of shape `[n, 1]` fed from one feature holding a category
    /// index: index i is `categories[i]`, any other number is `unseen`, and NaN
    /// ("missing") is `missing`.
    Strings {
        name: String,
        feature: u32,
        categories: Vec<String>,
        /// A string the graph does not know: what an unseen category becomes.
        unseen: String,
        /// The string the graph reads as missing (its imputer's marker), if any.
        missing: Option<String>,
    },
}

/// The element type of a numeric graph input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TensorType {
    F32,
    F64,
    I64,
    I32,
}

impl OnnxInput {
    pub fn name(&self) -> &str {
        match self {
            OnnxInput::Tensor { name, .. } | OnnxInput::Strings { name, .. } => name,
        }
    }

    /// The feature columns this input reads.
    pub fn features(&self) -> Vec<u32> {
        match self {
            OnnxInput::Tensor { features, .. } => features.clone(),
            OnnxInput::Strings { feature, .. } => vec![*feature],
        }
    }

    /// The string a category-index feature value stands for.
    pub fn category_text<'a>(
        categories: &'a [String],
        unseen: &'a str,
        missing: Option<&'a str>,
        value: f64,
    ) -> &'a str {
        if value.is_nan() {
            // Validation keeps "missing" away from inputs without a marker.
            return missing.unwrap_or(unseen);
        }
        if value >= 0.0
            && value.fract() == 0.0
            && let Some(c) = categories.get(value as usize)
        {
            return c;
        }
        unseen
    }
}

/// The runnable form of the graph, built once at load. It is derived from the
/// data, so it takes no part in comparisons and is never serialized.
#[derive(Default)]
pub struct Plan {
    #[cfg(feature = "onnx")]
    built: std::sync::OnceLock<Result<std::sync::Arc<crate::onnx::Engine>, String>>,
}

impl Clone for Plan {
    fn clone(&self) -> Plan {
        #[cfg(feature = "onnx")]
        {
            let built = std::sync::OnceLock::new();
            if let Some(b) = self.built.get() {
                let _ = built.set(b.clone());
            }
            Plan { built }
        }
        #[cfg(not(feature = "onnx"))]
        Plan {}
    }
}

impl PartialEq for Plan {
    fn eq(&self, _: &Plan) -> bool {
        true
    }
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        #[cfg(feature = "onnx")]
        let state = match self.built.get() {
            None => "not built",
            Some(Ok(_)) => "built",
            Some(Err(_)) => "failed",
        };
        #[cfg(not(feature = "onnx"))]
        let state = "unavailable (built without the `onnx` feature)";
        write!(f, "Plan({state})")
    }
}

/// What a build without the `onnx` feature says about an ONNX model.
pub const NO_ONNX: &str = "this model needs ONNX support: this lifeboat was built without the `onnx` feature; rebuild with `cargo build --release --features onnx`";

impl OnnxEstimator {
    pub fn n_features(&self) -> usize {
        self.inputs.iter().map(|i| i.features().len()).sum()
    }

    pub fn n_outputs(&self) -> usize {
        self.width as usize
    }

    /// Checks the data, then builds the runnable plan (once).
    pub fn check(&self) -> Result<(), ModelError> {
        self.check_data().map_err(ModelError::Estimator)?;
        match self.engine() {
            Ok(_) => Ok(()),
            Err(e) if e == NO_ONNX => Err(ModelError::Unsupported(e)),
            Err(e) => Err(ModelError::Estimator(e)),
        }
    }

    fn check_data(&self) -> Result<(), String> {
        if self.inputs.is_empty() {
            return Err("the graph has no inputs".into());
        }
        if self.width == 0 {
            return Err("the graph output has no columns".into());
        }
        let n = self.n_features();
        let mut seen = vec![false; n];
        for input in &self.inputs {
            for f in input.features() {
                match seen.get_mut(f as usize) {
                    Some(s) if !*s => *s = true,
                    Some(_) => {
                        return Err(format!(
                            "feature #{f} feeds more than one place in the graph"
                        ));
                    }
                    None => {
                        return Err(format!(
                            "input {} reads feature #{f}, but there are {n}",
                            quoted(input.name())
                        ));
                    }
                }
            }
            if let OnnxInput::Strings {
                name,
                categories,
                unseen,
                missing,
                ..
            } = input
            {
                if categories.contains(unseen) {
                    return Err(format!(
                        "input {}: the unseen marker {} is a category",
                        quoted(name),
                        quoted(unseen)
                    ));
                }
                if let Some(m) = missing
                    && categories.contains(m)
                {
                    return Err(format!(
                        "input {}: the missing marker {} is a category",
                        quoted(name),
                        quoted(m)
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks that the baseline is a valid row of `schema`.
    pub fn check_baseline(&self, schema: &Schema) -> Result<(), String> {
        let cells = &self.baseline.cells;
        if cells.len() != schema.fields.len() {
            return Err(format!(
                "the explanation baseline has {} cells for {} fields",
                cells.len(),
                schema.fields.len()
            ));
        }
        for (cell, field) in cells.iter().zip(&schema.fields) {
            let ok = match (cell, &field.kind) {
                (Cell::Missing, _) => field.optional,
                (Cell::Number(_), FieldKind::Category(_)) => false,
                (Cell::Number(x), _) => x.is_finite(),
                (Cell::Category(c), FieldKind::Category(spec)) => (*c as usize) < spec.values.len(),
                (Cell::Unseen, FieldKind::Category(spec)) => spec.open,
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "the explanation baseline's value {cell:?} does not fit field {}",
                    quoted(&field.name)
                ));
            }
        }
        Ok(())
    }

    /// Scores one feature row; NaN if the graph fails (it ran the reference
    /// rows at load, so this would be a bug, and it is logged).
    pub fn raw(&self, x: &[f64], out: &mut [f64]) {
        if let Err(e) = self.raw_batch(x, 1, out) {
            tracing::error!("the ONNX graph failed on a row it should take: {e}");
            out.fill(f64::NAN);
        }
    }

    /// Scores `rows` feature rows laid out one after another into `out`
    /// (`rows × width` numbers), in one run of the graph.
    pub fn raw_batch(&self, x: &[f64], rows: usize, out: &mut [f64]) -> Result<(), String> {
        let n = self.n_features();
        if x.len() != rows * n || out.len() != rows * self.n_outputs() {
            return Err(format!(
                "{} features and {} outputs for {rows} rows of {n} features and {} outputs",
                x.len(),
                out.len(),
                self.n_outputs()
            ));
        }
        self.run(x, rows, out)
    }

    #[cfg(feature = "onnx")]
    fn engine(&self) -> Result<std::sync::Arc<crate::onnx::Engine>, String> {
        self.plan
            .built
            .get_or_init(|| {
                crate::onnx::Engine::build(&self.graph, &self.inputs, &self.output, self.width)
                    .map(std::sync::Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    #[cfg(not(feature = "onnx"))]
    fn engine(&self) -> Result<(), String> {
        Err(NO_ONNX.into())
    }

    #[cfg(feature = "onnx")]
    fn run(&self, x: &[f64], rows: usize, out: &mut [f64]) -> Result<(), String> {
        self.engine()?.run(x, rows, out).map_err(|e| e.to_string())
    }

    #[cfg(not(feature = "onnx"))]
    fn run(&self, _: &[f64], _: usize, _: &mut [f64]) -> Result<(), String> {
        Err(NO_ONNX.into())
    }
}

/// The baseline input for explanations, from the schema alone: a field's
/// default where it has one, else "missing" for optional fields, else the
/// first category, the middle of the range, or 0.
pub fn default_baseline(schema: &Schema) -> Row {
    let cells = schema
        .fields
        .iter()
        .map(|f| {
            if let Some(d) = &f.default
                && let Ok(cell) = crate::schema::validate::parse_str(f, d)
            {
                return cell;
            }
            if f.optional {
                return Cell::Missing;
            }
            match &f.kind {
                FieldKind::Category(_) => Cell::Category(0),
                FieldKind::Boolean => Cell::Number(0.0),
                FieldKind::Number(s) | FieldKind::Integer(s) => {
                    let mid = match (s.min, s.max) {
                        (Some(a), Some(b)) => (a + b) / 2.0,
                        (Some(a), None) => a.max(0.0),
                        (None, Some(b)) => b.min(0.0),
                        (None, None) => 0.0,
                    };
                    Cell::Number(if matches!(f.kind, FieldKind::Integer(_)) {
                        mid.floor()
                    } else {
                        mid
                    })
                }
            }
        })
        .collect();
    Row { cells }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::titanic_like;

    /// The web server shares one model between threads.
    #[test]
    fn models_are_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<crate::model::Model>();
        shared::<OnnxEstimator>();
    }

    #[test]
    fn category_text_maps_indices_unseen_and_missing() {
        let cats = ["S".to_string(), "C".to_string()];
        let t = |v| OnnxInput::category_text(&cats, "\u{1}", Some(""), v);
        assert_eq!(t(0.0), "S");
        assert_eq!(t(1.0), "C");
        assert_eq!(t(2.0), "\u{1}");
        assert_eq!(t(-1.0), "\u{1}");
        assert_eq!(t(0.5), "\u{1}");
        assert_eq!(t(f64::NAN), "");
    }

    #[test]
    fn baseline_from_the_schema() {
        let mut schema = titanic_like();
        schema.fields[3].default = Some("2".into());
        let b = default_baseline(&schema);
        assert_eq!(
            b.cells,
            vec![
                Cell::Category(0),
                Cell::Category(0),
                Cell::Missing,
                Cell::Number(2.0),
                Cell::Number(300.0),
                Cell::Missing,
                Cell::Missing,
            ]
        );
        let e = OnnxEstimator {
            graph: vec![],
            inputs: vec![],
            output: String::new(),
            width: 1,
            baseline: b,
            plan: Plan::default(),
        };
        e.check_baseline(&schema).unwrap();
        let mut bad = e.clone();
        bad.baseline.cells[0] = Cell::Category(9);
        assert!(bad.check_baseline(&schema).unwrap_err().contains("Pclass"));
        bad.baseline.cells[0] = Cell::Missing;
        assert!(bad.check_baseline(&schema).is_err());
    }

    #[test]
    fn feature_mapping_is_checked() {
        let e = OnnxEstimator {
            graph: vec![],
            inputs: vec![
                OnnxInput::Tensor {
                    name: "x".into(),
                    dtype: TensorType::F32,
                    features: vec![0, 1],
                },
                OnnxInput::Strings {
                    name: "s".into(),
                    feature: 1,
                    categories: vec!["a".into()],
                    unseen: "b".into(),
                    missing: None,
                },
            ],
            output: "p".into(),
            width: 2,
            baseline: Row { cells: vec![] },
            plan: Plan::default(),
        };
        assert!(
            e.check()
                .unwrap_err()
                .to_string()
                .contains("more than one place")
        );
    }

    #[cfg(not(feature = "onnx"))]
    #[test]
    fn without_the_feature_a_graph_is_refused_with_the_fix() {
        let e = OnnxEstimator {
            graph: vec![],
            inputs: vec![OnnxInput::Tensor {
                name: "x".into(),
                dtype: TensorType::F32,
                features: vec![0],
            }],
            output: "p".into(),
            width: 1,
            baseline: Row { cells: vec![] },
            plan: Plan::default(),
        };
        assert_eq!(
            e.check().unwrap_err(),
            ModelError::Unsupported(NO_ONNX.into())
        );
        let mut out = [0.0];
        e.raw(&[1.0], &mut out);
        assert!(out[0].is_nan());

        // A converted file says so when it is loaded.
        let mut model = crate::model::tests::tiny_model();
        model.estimator = crate::model::Estimator::Onnx(OnnxEstimator {
            inputs: vec![OnnxInput::Tensor {
                name: "x".into(),
                dtype: TensorType::F32,
                features: (0..8).collect(),
            }],
            width: 2,
            baseline: default_baseline(&model.schema),
            ..e
        });
        model.link = crate::model::Link::Identity;
        let bytes = crate::model::file::to_bytes(&model);
        let err = crate::model::file::from_bytes(&bytes).unwrap_err();
        assert!(
            matches!(err, crate::model::file::LoadError::Unsupported(_)),
            "{err}"
        );
        assert!(err.to_string().contains("--features onnx"), "{err}");
    }
}
