//! `ai.onnx.ml.LinearClassifier`: `scores = x·Wᵀ + b`, then the post
//! transform, as onnxruntime computes it (float32; one set of coefficients
//! for two labels gives `[1 − s, s]`). tract's own version cannot build
//! string class labels, and its sigmoid turns NaN into a number, where
//! onnxruntime (and scikit-learn) answer NaN for a missing value.

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

use super::{Compat, CompatOp, Floats, Post, parse_post};
use crate::onnx::graph;
use crate::quote::quoted;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Labels {
    Ints(Vec<i64>),
    Strings(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct LinearClassifier {
    /// `classes × features`, row-major.
    coefficients: Floats,
    intercepts: Floats,
    labels: Labels,
    post: Post,
}

pub fn build(
    _: &ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let name = quoted(&node.name);
    let coefficients = graph::floats(node, "coefficients").unwrap_or_default();
    let intercepts = graph::floats(node, "intercepts").unwrap_or_default();
    let labels = match (
        graph::ints(node, "classlabels_ints").filter(|v| !v.is_empty()),
        graph::strings(node, "classlabels_strings").filter(|v| !v.is_empty()),
    ) {
        (Some(i), None) => Labels::Ints(i),
        (None, Some(s)) => Labels::Strings(s),
        _ => bail!(
            "LinearClassifier {name} needs exactly one of classlabels_ints and classlabels_strings"
        ),
    };
    let classes = intercepts.len();
    if classes == 0 || coefficients.is_empty() || !coefficients.len().is_multiple_of(classes) {
        bail!(
            "LinearClassifier {name} has {} coefficients for {classes} intercepts",
            coefficients.len()
        );
    }
    let op = LinearClassifier {
        coefficients: Floats(coefficients),
        intercepts: Floats(intercepts),
        labels,
        post: parse_post(node)?,
    };
    if op.width() < 2 {
        bail!("LinearClassifier {name} scores one class");
    }
    Ok((expand(Compat(op)), vec![]))
}

impl LinearClassifier {
    fn n_labels(&self) -> usize {
        match &self.labels {
            Labels::Ints(l) => l.len(),
            Labels::Strings(l) => l.len(),
        }
    }

    /// One score per class, or two for one set of coefficients and two labels.
    fn width(&self) -> usize {
        let classes = self.intercepts.0.len();
        if classes == 1 && self.n_labels() == 2 {
            2
        } else {
            classes
        }
    }

    fn features(&self) -> usize {
        self.coefficients.0.len() / self.intercepts.0.len()
    }
}

impl Op for LinearClassifier {
    fn name(&self) -> StaticName {
        "LinearClassifier".into()
    }

    op_as_typed_op!();
}

impl EvalOp for LinearClassifier {
    op_out_of_plan!();

    fn eval(&self, _: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let x = input.cast_to::<f32>()?;
        let x = x.to_plain_array_view::<f32>()?;
        let f = self.features();
        if x.ndim() != 2 || x.shape()[1] != f {
            bail!(
                "LinearClassifier takes [rows, {f}] inputs, not {:?}",
                x.shape()
            );
        }
        let rows = x.shape()[0];
        let classes = self.intercepts.0.len();
        let width = self.width();
        let mut scores = vec![0f32; rows * width];
        let mut raw = vec![0f32; classes];
        for (r, out) in scores.chunks_mut(width).enumerate() {
            for (c, slot) in raw.iter_mut().enumerate() {
                let w = &self.coefficients.0[c * f..(c + 1) * f];
                let mut s = 0f32;
                for (j, wj) in w.iter().enumerate() {
                    s += x[[r, j]] * wj;
                }
                *slot = s + self.intercepts.0[c];
            }
            if width == 2 && classes == 1 {
                // onnxruntime: the one score s becomes [1 − s, s], whatever the transform.
                out[0] = 1.0 - raw[0];
                out[1] = raw[0];
            } else {
                out.copy_from_slice(&raw);
                self.post.apply(out);
            }
        }
        let scores = tract_ndarray::Array2::from_shape_vec((rows, width), scores)?;
        // The label output is the argmax of the scores; lifeboat reads the scores only.
        let best: Vec<usize> = scores
            .outer_iter()
            .map(|p| {
                p.iter()
                    .enumerate()
                    .fold(0, |b, (i, v)| if *v > p[b] { i } else { b })
            })
            .collect();
        let labels = match &self.labels {
            Labels::Ints(l) => tract_ndarray::Array1::from_iter(
                best.iter().map(|b| l.get(*b).copied().unwrap_or(0)),
            )
            .into_tensor(),
            Labels::Strings(l) => tract_ndarray::Array1::from_iter(
                best.iter().map(|b| l.get(*b).cloned().unwrap_or_default()),
            )
            .into_tensor(),
        };
        Ok(tvec!(
            labels.into_tvalue(),
            scores.into_tensor().into_tvalue()
        ))
    }
}

impl TypedOp for LinearClassifier {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = &inputs[0].shape;
        if shape.rank() != 2 {
            bail!(
                "LinearClassifier takes a [rows, features] input, not rank {}",
                shape.rank()
            );
        }
        if let Ok(f) = shape[1].to_usize()
            && f != self.features()
        {
            bail!(
                "LinearClassifier has coefficients for {} features but the input has {f}",
                self.features()
            );
        }
        let rows = shape[0].clone();
        let labels = match self.labels {
            Labels::Ints(_) => i64::fact([rows.clone()]),
            Labels::Strings(_) => String::fact([rows.clone()]),
        };
        Ok(tvec!(labels, f32::fact([rows, self.width().into()])))
    }

    as_op!();
}

impl CompatOp for LinearClassifier {
    fn n_outputs(&self) -> usize {
        2
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 1)?;
        check_output_arity(outputs, 2)?;
        let dt = match self.labels {
            Labels::Ints(_) => i64::datum_type(),
            Labels::Strings(_) => String::datum_type(),
        };
        s.equals(&outputs[0].datum_type, dt)?;
        s.equals(&outputs[0].rank, 1)?;
        s.equals(&outputs[0].shape[0], &inputs[0].shape[0])?;
        s.equals(&outputs[1].datum_type, f32::datum_type())?;
        s.equals(&outputs[1].rank, 2)?;
        s.equals(&outputs[1].shape[0], &inputs[0].shape[0])?;
        s.equals(&outputs[1].shape[1], self.width().to_dim())?;
        Ok(())
    }
}
