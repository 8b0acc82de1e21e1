//! `ai.onnx.ml.OneHotEncoder`: each input value becomes a row of 0/1 over the
//! categories (`cats_strings` or `cats_int64s`), adding a last axis. An
//! unknown value gives all zeros when `zeros` is 1 (scikit-learn's
//! `handle_unknown="ignore"`), and is an error otherwise, as in onnxruntime;
//! the importer makes such inputs closed fields so that error cannot be met.

use std::collections::HashMap;

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

use super::{Compat, CompatOp};
use crate::onnx::graph;
use crate::quote::quoted;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Categories {
    Strings(Vec<String>),
    Ints(Vec<i64>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct OneHotEncoder {
    categories: Categories,
    zeros: bool,
}

pub fn build(
    _: &ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let strings = graph::strings(node, "cats_strings").filter(|v| !v.is_empty());
    let ints = graph::ints(node, "cats_int64s").filter(|v| !v.is_empty());
    let categories = match (strings, ints) {
        (Some(s), None) => Categories::Strings(s),
        (None, Some(i)) => Categories::Ints(i),
        _ => bail!(
            "OneHotEncoder {} needs exactly one of cats_strings and cats_int64s",
            quoted(&node.name)
        ),
    };
    let zeros = graph::int(node, "zeros").unwrap_or(1) != 0;
    Ok((expand(Compat(OneHotEncoder { categories, zeros })), vec![]))
}

impl OneHotEncoder {
    fn k(&self) -> usize {
        match &self.categories {
            Categories::Strings(s) => s.len(),
            Categories::Ints(i) => i.len(),
        }
    }

    /// One output row per input value: `index` is the value's category, if known.
    fn encode(
        &self,
        shape: &[usize],
        indices: impl Iterator<Item = (Option<usize>, String)>,
    ) -> TractResult<Tensor> {
        let k = self.k();
        let mut out_shape = shape.to_vec();
        out_shape.push(k);
        let n: usize = shape.iter().product();
        let mut data = vec![0f32; n * k];
        for (i, (index, shown)) in indices.enumerate() {
            match index {
                Some(c) => data[i * k + c] = 1.0,
                None if self.zeros => {}
                None => bail!(
                    "OneHotEncoder: {} is not one of its categories",
                    quoted(&shown)
                ),
            }
        }
        Ok(tract_ndarray::ArrayD::from_shape_vec(out_shape, data)?.into_tensor())
    }
}

impl Op for OneHotEncoder {
    fn name(&self) -> StaticName {
        "OneHotEncoder".into()
    }

    op_as_typed_op!();
}

impl EvalOp for OneHotEncoder {
    op_out_of_plan!();

    fn eval(&self, _: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let out = match &self.categories {
            Categories::Strings(cats) => {
                if input.datum_type() != String::datum_type() {
                    bail!(
                        "OneHotEncoder with string categories got {:?} values",
                        input.datum_type()
                    );
                }
                let index: HashMap<&str, usize> = cats
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.as_str(), i))
                    .collect();
                let x = input.to_plain_array_view::<String>()?;
                self.encode(
                    x.shape(),
                    x.iter()
                        .map(|s| (index.get(s.as_str()).copied(), s.clone())),
                )?
            }
            Categories::Ints(cats) => {
                let index: HashMap<i64, usize> =
                    cats.iter().enumerate().map(|(i, c)| (*c, i)).collect();
                // Floats are cast to integers first, as onnxruntime does.
                let x = input.cast_to::<i64>()?;
                let x = x.to_plain_array_view::<i64>()?;
                self.encode(
                    x.shape(),
                    x.iter().map(|v| (index.get(v).copied(), v.to_string())),
                )?
            }
        };
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for OneHotEncoder {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let mut shape: TVec<TDim> = inputs[0].shape.iter().cloned().collect();
        shape.push(self.k().into());
        Ok(tvec!(f32::fact(shape)))
    }

    as_op!();
}

impl CompatOp for OneHotEncoder {
    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 1)?;
        check_output_arity(outputs, 1)?;
        s.equals(&outputs[0].datum_type, f32::datum_type())?;
        s.equals(inputs[0].rank.bex() + 1, &outputs[0].rank)?;
        let k = self.k();
        s.given(&inputs[0].shape, move |s, shape| {
            let mut out = shape.clone();
            out.push(k.into());
            s.equals(&outputs[0].shape, out)
        })?;
        Ok(())
    }
}
