//! Our own implementations of the `ai.onnx.ml` operators scikit-learn exports
//! use and tract 0.23 lacks or gets wrong, registered over tract's.
//!
//! - [`scaler`]: `Scaler` (StandardScaler without skl2onnx's `div` option).
//! - [`imputer`]: `Imputer` (SimpleImputer on numbers).
//! - [`one_hot`]: `OneHotEncoder` (string and integer categories).
//! - [`label_encoder`]: `LabelEncoder` (skl2onnx's string imputers use it).
//! - [`linear_classifier`]: `LinearClassifier` (tract's cannot build string
//!   labels, and its sigmoid turns NaN into a number).
//! - [`tree_ensemble`]: `TreeEnsembleClassifier` and `TreeEnsembleRegressor`.
//!   tract has no regressor, reads `BRANCH_GTE` nodes as leaves, refuses
//!   binary gradient boosting's single base value, and evaluates trees with
//!   unchecked indexing that a crafted file could send out of bounds. Ours
//!   checks every index at load and follows onnxruntime's arithmetic
//!   (including its binary-classifier conventions), so probabilities match.
//!
//! Each is a small tract `TypedOp` with a plain loop as its evaluation,
//! wrapped as an inference-time op by [`Compat`].

mod imputer;
mod label_encoder;
mod linear_classifier;
mod one_hot;
mod scaler;
mod tree_ensemble;

use crate::quote::quoted;
use tract_onnx::model::OnnxOpRegister;
use tract_onnx::tract_hir::internal::*;

/// Registers every op of this module, replacing tract's where it has one.
pub fn register(reg: &mut OnnxOpRegister) {
    reg.insert("Scaler", scaler::build);
    reg.insert("Imputer", imputer::build);
    reg.insert("OneHotEncoder", one_hot::build);
    reg.insert("LabelEncoder", label_encoder::build);
    reg.insert("LinearClassifier", linear_classifier::build);
    reg.insert("TreeEnsembleClassifier", tree_ensemble::build_classifier);
    reg.insert("TreeEnsembleRegressor", tree_ensemble::build_regressor);
}

/// What a compatibility op tells tract's type inference about its outputs.
pub(crate) trait CompatOp: TypedOp + Clone {
    fn n_outputs(&self) -> usize {
        1
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult;
}

/// A typed op as an inference-time op (what the ONNX parser builds).
#[derive(Debug, Clone)]
pub(crate) struct Compat<O>(pub O);

impl<O: CompatOp> Expansion for Compat<O> {
    fn name(&self) -> StaticName {
        self.0.name()
    }

    fn nboutputs(&self) -> TractResult<usize> {
        Ok(self.0.n_outputs())
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        self.0.rules(s, inputs, outputs)
    }

    fn wire(
        &self,
        prefix: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        model.wire_node(prefix, self.0.clone(), inputs)
    }
}

/// Float parameters compared bit for bit, so ops can be `Eq` and `Hash` as tract asks.
#[derive(Debug, Clone, Default)]
pub(crate) struct Floats(pub Vec<f32>);

impl PartialEq for Floats {
    fn eq(&self, other: &Floats) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

impl Eq for Floats {}

impl std::hash::Hash for Floats {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for v in &self.0 {
            v.to_bits().hash(state);
        }
    }
}

/// An `ai.onnx.ml` post transform, computed in float32 as onnxruntime does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Post {
    None,
    Logistic,
    Softmax,
    SoftmaxZero,
}

pub(crate) fn parse_post(node: &tract_onnx::pb::NodeProto) -> TractResult<Post> {
    Ok(
        match crate::onnx::graph::string(node, "post_transform").as_deref() {
            None | Some("NONE") => Post::None,
            Some("LOGISTIC") => Post::Logistic,
            Some("SOFTMAX") => Post::Softmax,
            Some("SOFTMAX_ZERO") => Post::SoftmaxZero,
            Some(other) => bail!(
                "{} {}: post_transform {} is not supported (NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO are)",
                node.op_type,
                quoted(&node.name),
                quoted(other)
            ),
        },
    )
}

impl Post {
    pub(crate) fn apply(self, scores: &mut [f32]) {
        match self {
            Post::None => {}
            Post::Logistic => scores.iter_mut().for_each(|s| *s = logistic(*s)),
            Post::Softmax => softmax(scores, false),
            Post::SoftmaxZero => softmax(scores, true),
        }
    }
}

/// onnxruntime's logistic function, in float32.
pub(crate) fn logistic(x: f32) -> f32 {
    let v = 1.0 / (1.0 + (-x.abs()).exp());
    if x < 0.0 { 1.0 - v } else { v }
}

/// onnxruntime's softmax; `zero` leaves scores of (nearly) zero out, as SOFTMAX_ZERO does.
fn softmax(scores: &mut [f32], zero: bool) {
    let max = scores.iter().copied().fold(-f32::MAX, f32::max);
    let mut sum = 0.0f32;
    let exp_neg_max = (-max).exp();
    for s in scores.iter_mut() {
        if zero && s.abs() <= 1e-7 {
            *s *= exp_neg_max;
        } else {
            *s = (*s - max).exp();
            sum += *s;
        }
    }
    for s in scores.iter_mut() {
        *s /= sum;
    }
}

/// The value `index` of a parameter given once or per column.
#[inline]
pub(crate) fn per_column(values: &[f32], index: usize) -> f32 {
    if values.len() == 1 {
        values[0]
    } else {
        values.get(index).copied().unwrap_or(f32::NAN)
    }
}

/// Checks that a per-column parameter fits the input's last dimension.
pub(crate) fn check_columns(what: &str, len: usize, shape: &[usize]) -> TractResult<()> {
    let columns = shape.last().copied().unwrap_or(1);
    if len != 1 && len != columns {
        bail!("{what} has {len} values for {columns} columns");
    }
    Ok(())
}
