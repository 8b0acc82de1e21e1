//! The model: a schema, fitted preprocessing, an estimator and how its raw
//! scores become answers. This is the one prediction path every front door
//! (CLI, web pages, JSON APIs, batch files) and every model format shares.
//!
//! Nothing here reads files, speaks HTTP or draws on a terminal; [`file`]
//! turns bytes into a checked `Model` and back.

pub mod file;
pub mod linear;
pub mod onnx;
pub mod pipeline;
pub mod report;
pub(crate) mod shap_table;
pub mod shapley;
pub(crate) mod tree_runtime;
pub mod trees;
pub mod treeshap;

use serde::{Deserialize, Serialize};

use crate::schema::{Row, Schema, TargetKind};
pub use linear::LinearModel;
pub use onnx::OnnxEstimator;
pub use pipeline::{Column, Preprocessor, Step};
pub use report::Report;
pub use trees::TreeEnsemble;

/// A complete model, as stored in a `.lifeboat` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub schema: Schema,
    pub preprocessor: Preprocessor,
    pub estimator: Estimator,
    pub link: Link,
    pub report: Report,
    /// Rows with the answers the model gave when it was made; checked at load,
    /// so a damaged file or a broken build can never serve wrong answers.
    pub reference: Vec<Reference>,
}

/// The estimators lifeboat runs. A closed set: every format maps onto these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Estimator {
    Linear(LinearModel),
    Trees(TreeEnsemble),
    /// An imported ONNX graph, run by the `onnx` feature.
    Onnx(OnnxEstimator),
}

/// How raw scores become the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Link {
    /// Regression value, or class probabilities already (forests).
    Identity,
    /// One raw score, the log-odds of the second class.
    Logistic,
    /// One raw score per class, turned into probabilities by softmax.
    Softmax,
    /// One log-odds per class (one-vs-rest), each through the logistic
    /// function, then normalized to sum to one.
    LogisticOvr,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    pub row: Row,
    /// The class probabilities (or the one regression value) expected.
    pub expected: Vec<f64>,
}

/// The answer for one row.
#[derive(Debug, Clone, PartialEq)]
pub enum Prediction {
    /// `index` is the predicted class in `schema.classes()`.
    Class {
        index: usize,
        probabilities: Vec<f64>,
    },
    Value(f64),
}

/// Why: per-field contributions that add up to `score - base`.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// Which raw output is explained (see [`Model::explained_output`]).
    pub output: usize,
    pub units: Units,
    /// The score of an average input (the training mean, or the tree covers),
    /// or, for ONNX graphs, of the model's stored baseline input.
    pub base: f64,
    /// The score for this row: `base + Σ contributions`.
    pub score: f64,
    /// One contribution per schema field, in schema order.
    pub contributions: Vec<f64>,
}

/// The units explanations are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Units {
    /// Log-odds of the explained class (logistic models, binary boosting).
    LogOdds,
    /// Softmax score of the explained class (multiclass linear and boosting).
    Logit,
    /// Probability of the explained class (forests, single trees).
    Probability,
    /// The predicted value (regression).
    Value,
}

impl Units {
    pub fn describe(self) -> &'static str {
        match self {
            Units::LogOdds => "log-odds",
            Units::Logit => "logit",
            Units::Probability => "probability",
            Units::Value => "value",
        }
    }
}

/// A model whose parts do not fit together, or whose reference rows no longer
/// give the recorded answers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("the schema is not valid: {0}")]
    Schema(crate::schema::SchemaError),
    #[error("the preprocessing does not fit the schema: {0}")]
    Pipeline(pipeline::PipelineError),
    #[error("the estimator is not valid: {0}")]
    Estimator(String),
    /// The model is fine, but this build cannot run it (and says how to get one that can).
    #[error("{0}")]
    Unsupported(String),
    #[error("the parts do not fit together: {0}")]
    Shape(String),
    #[error(
        "reference row {row} gives {got:?} but the model recorded {expected:?}; the file is damaged or this build computes differently, so it will not be served"
    )]
    ReferenceMismatch {
        row: usize,
        expected: Vec<f64>,
        got: Vec<f64>,
    },
}

// By hand rather than `#[from]`, which would also make it the error's source:
// the message already includes it, and `{:#}` would print it twice.
impl From<pipeline::PipelineError> for ModelError {
    fn from(e: pipeline::PipelineError) -> Self {
        ModelError::Pipeline(e)
    }
}

impl From<crate::schema::SchemaError> for ModelError {
    fn from(e: crate::schema::SchemaError) -> Self {
        ModelError::Schema(e)
    }
}

/// Reusable buffers for predicting many rows without allocating per row.
#[derive(Debug, Default)]
pub struct Scratch {
    features: Vec<f64>,
    raw: Vec<f64>,
}

impl Estimator {
    pub fn n_features(&self) -> usize {
        match self {
            Estimator::Linear(m) => m.n_features(),
            Estimator::Trees(t) => t.n_features as usize,
            Estimator::Onnx(o) => o.n_features(),
        }
    }

    pub fn n_outputs(&self) -> usize {
        match self {
            Estimator::Linear(m) => m.n_outputs(),
            Estimator::Trees(t) => t.n_outputs as usize,
            Estimator::Onnx(o) => o.n_outputs(),
        }
    }

    /// Whether NaN ("missing") features are allowed in. An ONNX graph does its
    /// own imputation; which of its inputs may be missing is decided at import.
    pub fn accepts_missing(&self) -> bool {
        matches!(self, Estimator::Trees(_) | Estimator::Onnx(_))
    }

    /// How far a reference row's answer may drift from the recorded one. ONNX
    /// graphs compute in float32 with kernels chosen for the CPU at hand, so a
    /// file converted on one machine may differ in the last float32 bits on
    /// another; our own estimators compute the same float64 steps everywhere.
    pub fn reference_tolerance(&self) -> f64 {
        match self {
            Estimator::Onnx(_) => 1e-5,
            _ => 1e-9,
        }
    }

    #[inline]
    pub fn raw(&self, x: &[f64], out: &mut [f64]) {
        match self {
            Estimator::Linear(m) => m.raw(x, out),
            Estimator::Trees(t) => t.raw(x, out),
            Estimator::Onnx(o) => o.raw(x, out),
        }
    }

    /// The name of the estimator family, for reports.
    pub fn family(&self) -> &'static str {
        match self {
            Estimator::Linear(_) => "linear",
            Estimator::Trees(t) if t.trees.len() == 1 => "decision tree",
            Estimator::Trees(t) if t.combine == trees::Combine::Mean => "tree ensemble (averaged)",
            Estimator::Trees(_) => "tree ensemble (boosted)",
            Estimator::Onnx(_) => "ONNX graph",
        }
    }
}

/// The logistic function, without overflow for large |z|. Shared by the
/// predictors and the learners, so training and serving compute alike.
#[inline]
pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl Link {
    /// Class probabilities from raw scores.
    pub fn probabilities(self, raw: &[f64]) -> Vec<f64> {
        match self {
            Link::Identity => raw.to_vec(),
            Link::Logistic => {
                let p = sigmoid(raw[0]);
                vec![1.0 - p, p]
            }
            Link::Softmax => {
                let max = raw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let exp: Vec<f64> = raw.iter().map(|z| (z - max).exp()).collect();
                let sum: f64 = exp.iter().sum();
                exp.into_iter().map(|e| e / sum).collect()
            }
            Link::LogisticOvr => {
                let p: Vec<f64> = raw.iter().map(|z| sigmoid(*z)).collect();
                let sum: f64 = p.iter().sum();
                p.into_iter().map(|v| v / sum).collect()
            }
        }
    }
}

impl Model {
    /// Checks that schema, preprocessing, estimator and link fit together,
    /// then that the reference rows still give the recorded answers.
    pub fn check(&self) -> Result<(), ModelError> {
        self.check_shapes()?;
        self.check_reference()
    }

    /// The structural part of [`Model::check`].
    pub fn check_shapes(&self) -> Result<(), ModelError> {
        self.schema.check()?;
        self.preprocessor
            .check(&self.schema, self.estimator.accepts_missing())?;
        match &self.estimator {
            Estimator::Linear(m) => m.check(),
            Estimator::Trees(t) => t.check(),
            Estimator::Onnx(o) => {
                o.check()?;
                o.check_baseline(&self.schema)
            }
        }
        .map_err(ModelError::Estimator)?;
        let (nf, pf) = (self.estimator.n_features(), self.preprocessor.n_features());
        if nf != pf {
            return Err(ModelError::Shape(format!(
                "the preprocessing makes {pf} features but the estimator takes {nf}"
            )));
        }
        let outputs = self.estimator.n_outputs();
        let expected = match (&self.schema.target.kind, self.link) {
            (TargetKind::Classes(c), Link::Logistic) if c.len() == 2 => 1,
            (TargetKind::Classes(_), Link::Logistic) => {
                return Err(ModelError::Shape(
                    "the logistic link serves two classes only".into(),
                ));
            }
            (TargetKind::Classes(c), _) => c.len(),
            (TargetKind::Value { .. }, Link::Identity) => 1,
            (TargetKind::Value { .. }, link) => {
                return Err(ModelError::Shape(format!(
                    "a regression model uses the identity link, not {link:?}"
                )));
            }
        };
        if outputs != expected {
            return Err(ModelError::Shape(format!(
                "the estimator gives {outputs} scores but the {:?} link over {} class(es) needs {expected}",
                self.link,
                self.schema.classes().len().max(1)
            )));
        }
        let fi = &self.report.field_importance;
        if !fi.is_empty() && fi.len() != self.schema.fields.len() {
            return Err(ModelError::Shape(format!(
                "{} importances for {} fields",
                fi.len(),
                self.schema.fields.len()
            )));
        }
        Ok(())
    }

    /// The reference part of [`Model::check`]: every reference row fits the
    /// schema and still gives its recorded answer. Importers that have just
    /// run [`Model::check_shapes`] and then set the reference rows call only
    /// this, rather than checking (and compiling) every tree again.
    pub(crate) fn check_reference(&self) -> Result<(), ModelError> {
        for (i, r) in self.reference.iter().enumerate() {
            if r.row.cells.len() != self.schema.fields.len() {
                return Err(ModelError::Shape(format!(
                    "reference row {i} has {} cells for {} fields",
                    r.row.cells.len(),
                    self.schema.fields.len()
                )));
            }
        }
        let tolerance = self.estimator.reference_tolerance();
        for (i, r) in self.reference.iter().enumerate() {
            let got = self.answer_vector(&self.predict(&r.row));
            let close = got.len() == r.expected.len()
                && got
                    .iter()
                    .zip(&r.expected)
                    .all(|(g, e)| (g - e).abs() <= tolerance * e.abs().max(1.0));
            if !close {
                return Err(ModelError::ReferenceMismatch {
                    row: i,
                    expected: r.expected.clone(),
                    got,
                });
            }
        }
        Ok(())
    }

    /// The numbers a reference row records: probabilities, or the value.
    pub fn answer_vector(&self, p: &Prediction) -> Vec<f64> {
        match p {
            Prediction::Class { probabilities, .. } => probabilities.clone(),
            Prediction::Value(v) => vec![*v],
        }
    }

    /// Records `rows` with their current answers as the reference rows.
    pub fn set_reference(&mut self, rows: Vec<Row>) {
        self.reference = rows
            .into_iter()
            .map(|row| {
                let expected = self.answer_vector(&self.predict(&row));
                Reference { row, expected }
            })
            .collect();
    }

    /// Predicts one validated row.
    ///
    /// ```
    /// let model = lifeboat::builtin::titanic().unwrap().model;
    /// let row = model.schema.parse_strings([
    ///     ("Pclass", "1"), ("Sex", "female"), ("Age", "29"), ("SibSp", "0"),
    ///     ("Parch", "0"), ("Fare", "80"), ("Embarked", "S"),
    /// ]).unwrap();
    /// let lifeboat::model::Prediction::Class { index, probabilities } = model.predict(&row) else {
    ///     unreachable!("the Titanic model is a classifier")
    /// };
    /// assert_eq!(model.schema.classes()[index].label.en, "Passenger survives");
    /// assert!(probabilities[1] > 0.5);
    /// ```
    pub fn predict(&self, row: &Row) -> Prediction {
        self.predict_with(row, &mut Scratch::default())
    }

    /// [`Model::predict`] reusing buffers: the hot path for batches.
    #[inline]
    pub fn predict_with(&self, row: &Row, scratch: &mut Scratch) -> Prediction {
        self.raw_scores(row, scratch);
        self.finish(&scratch.raw)
    }

    fn raw_scores(&self, row: &Row, scratch: &mut Scratch) {
        scratch.features.resize(self.preprocessor.n_features(), 0.0);
        scratch.raw.resize(self.estimator.n_outputs(), 0.0);
        self.preprocessor.transform(row, &mut scratch.features);
        self.estimator.raw(&scratch.features, &mut scratch.raw);
    }

    /// Applies the link to raw scores.
    pub fn finish(&self, raw: &[f64]) -> Prediction {
        if !self.schema.is_classifier() {
            return Prediction::Value(raw[0]);
        }
        let probabilities = self.link.probabilities(raw);
        // The first of equal maxima, as numpy's argmax picks.
        let index = probabilities.iter().enumerate().fold(0, |best, (i, p)| {
            if *p > probabilities[best] { i } else { best }
        });
        Prediction::Class {
            index,
            probabilities,
        }
    }

    /// Which raw output an explanation of `prediction` is about: the positive
    /// class for binary models, the predicted class for multiclass models.
    pub fn explained_output(&self, prediction: &Prediction) -> usize {
        match (prediction, self.link) {
            (Prediction::Value(_), _) | (_, Link::Logistic) => 0,
            (Prediction::Class { probabilities, .. }, _) if probabilities.len() == 2 => 1,
            (Prediction::Class { index, .. }, _) => *index,
        }
    }

    pub fn units(&self) -> Units {
        match (self.link, self.schema.is_classifier()) {
            (_, false) => Units::Value,
            (Link::Logistic, _) => Units::LogOdds,
            (Link::Identity, _) => Units::Probability,
            (Link::Softmax | Link::LogisticOvr, _) => Units::Logit,
        }
    }

    /// Predicts one row and explains the answer, field by field.
    pub fn explain(&self, row: &Row) -> (Prediction, Explanation) {
        let mut scratch = Scratch::default();
        self.raw_scores(row, &mut scratch);
        let prediction = self.finish(&scratch.raw);
        let output = self.explained_output(&prediction);
        let x = &scratch.features;
        let n_features = x.len();
        let mut per_feature = vec![0.0; n_features];
        let base = match &self.estimator {
            Estimator::Linear(m) => {
                m.contributions(x, output, &mut per_feature);
                m.base(output)
            }
            Estimator::Trees(t) => {
                t.shap_values_of(x, output, &mut per_feature);
                t.expected_value()[output]
            }
            Estimator::Onnx(o) => {
                let explanation = self.explain_by_baseline(o, &scratch, output);
                return (prediction, explanation);
            }
        };
        let mut contributions = vec![0.0; self.schema.fields.len()];
        for (j, c) in per_feature.iter().enumerate() {
            contributions[self.preprocessor.field_of(j)] += c;
        }
        let explanation = Explanation {
            output,
            units: self.units(),
            base,
            score: scratch.raw[output],
            contributions,
        };
        (prediction, explanation)
    }

    /// Baseline Shapley values over the fields (see [`shapley`]): for models
    /// whose insides we do not read. `scratch` holds the row's features and
    /// raw scores.
    fn explain_by_baseline(
        &self,
        o: &OnnxEstimator,
        scratch: &Scratch,
        output: usize,
    ) -> Explanation {
        let n = self.preprocessor.n_features();
        let width = o.n_outputs();
        let mut baseline = vec![0.0; n];
        self.preprocessor.transform(&o.baseline, &mut baseline);
        let fields = self.schema.fields.len();
        // The players: fields that feed the graph, with the columns they own.
        let mut owned: Vec<Vec<usize>> = vec![Vec::new(); fields];
        for j in 0..n {
            owned[self.preprocessor.field_of(j)].push(j);
        }
        let players: Vec<usize> = (0..fields).filter(|f| !owned[*f].is_empty()).collect();
        let groups: Vec<Vec<usize>> = players.iter().map(|f| owned[*f].clone()).collect();
        let score = scratch.raw[output];
        let eval = |rows: &[f64], count: usize| {
            let mut out = vec![0.0; count * width];
            o.raw_batch(rows, count, &mut out)?;
            Ok(out.chunks(width).map(|r| r[output]).collect())
        };
        let mut contributions = vec![0.0; fields];
        let base = match shapley::values(&groups, &scratch.features, &baseline, eval) {
            Ok(s) => {
                for (p, phi) in players.iter().zip(&s.phi) {
                    contributions[*p] = *phi;
                }
                // The batch may round the row's own score differently from the
                // single-row run in the last float32 bit; the explanation
                // adds up to the score the prediction shows.
                s.base + (score - s.score)
            }
            Err(e) => {
                tracing::error!("the ONNX graph failed while explaining a row: {e}");
                contributions.fill(f64::NAN);
                f64::NAN
            }
        };
        Explanation {
            output,
            units: self.units(),
            base,
            score,
            contributions,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::report::Origin;
    use crate::schema::{Cell, tests::titanic_like};

    /// A hand-made logistic model over the Titanic-like test schema.
    pub fn tiny_model() -> Model {
        let schema = titanic_like();
        let num = |field: u32, name: &str, impute: f64, mean: f64, scale: f64| Column {
            name: name.into(),
            field,
            steps: vec![
                Step::ImputeNumber(impute),
                Step::Standardize { mean, scale },
            ],
        };
        let onehot = |field: u32, name: &str, c: u32| Column {
            name: name.into(),
            field,
            steps: vec![
                Step::ImputeCategory(0),
                Step::Indicator {
                    category: Some(c),
                    unseen: 0.0,
                },
            ],
        };
        let columns = vec![
            onehot(0, "Pclass=1", 0),
            onehot(0, "Pclass=2", 1),
            onehot(1, "Sex=female", 1),
            num(2, "Age", 28.0, 29.7, 14.5),
            num(3, "SibSp", 0.0, 0.5, 1.1),
            num(4, "Fare", 14.0, 32.0, 49.7),
            onehot(5, "Embarked=C", 1),
            num(6, "Alone", 0.0, 0.6, 0.49),
        ];
        let n = columns.len();
        let mut model = Model {
            schema,
            preprocessor: Preprocessor { columns },
            estimator: Estimator::Linear(LinearModel {
                weights: vec![1.9, 0.9, 2.6, -0.5, -0.3, 0.1, 0.3, 0.05],
                intercepts: vec![-1.4],
                feature_means: vec![0.24, 0.21, 0.35, 0.0, 0.0, 0.0, 0.19, 0.0],
            }),
            link: Link::Logistic,
            report: Report {
                lifeboat_version: "test".into(),
                created: "2026-01-01T00:00:00Z".into(),
                learner: "logistic regression".into(),
                params: vec![],
                origin: Origin::Trained {
                    data_file: "t.csv".into(),
                    data_sha256: "00".into(),
                    rows: 1,
                    skipped_rows: 0,
                    seed: 0,
                },
                cross_validation: None,
                field_importance: vec![],
            },
            reference: vec![],
        };
        assert_eq!(n, model.estimator.n_features());
        let row = |cells: Vec<Cell>| Row { cells };
        model.set_reference(vec![
            row(vec![
                Cell::Category(2),
                Cell::Category(0),
                Cell::Number(22.0),
                Cell::Number(1.0),
                Cell::Number(7.25),
                Cell::Category(0),
                Cell::Number(0.0),
            ]),
            row(vec![
                Cell::Category(0),
                Cell::Category(1),
                Cell::Missing,
                Cell::Number(0.0),
                Cell::Number(80.0),
                Cell::Missing,
                Cell::Missing,
            ]),
        ]);
        model
    }

    #[test]
    fn tiny_model_is_consistent() {
        tiny_model().check().unwrap();
    }

    #[test]
    fn predictions_and_explanations_agree() {
        let model = tiny_model();
        for r in &model.reference {
            let (p, e) = model.explain(&r.row);
            assert_eq!(p, model.predict(&r.row));
            let sum: f64 = e.contributions.iter().sum();
            assert!((e.base + sum - e.score).abs() < 1e-12);
            let Prediction::Class { probabilities, .. } = p else {
                panic!()
            };
            assert!((sigmoid(e.score) - probabilities[1]).abs() < 1e-15);
            assert_eq!(e.units, Units::LogOdds);
        }
    }

    #[test]
    fn links() {
        let mut model = tiny_model();
        assert_eq!(
            model.finish(&[0.0]),
            Prediction::Class {
                index: 0,
                probabilities: vec![0.5, 0.5]
            }
        );
        model.link = Link::Softmax;
        let Prediction::Class {
            index,
            probabilities,
        } = model.finish(&[1.0, 3.0])
        else {
            panic!()
        };
        assert_eq!(index, 1);
        assert!((probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        model.link = Link::LogisticOvr;
        let Prediction::Class { probabilities, .. } = model.finish(&[0.0, 0.0]) else {
            panic!()
        };
        assert_eq!(probabilities, vec![0.5, 0.5]);
        // The logistic link is for two classes and one score.
        model.link = Link::Softmax;
        assert!(model.check_shapes().is_err());
    }
}
