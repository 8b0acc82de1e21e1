//! `ai.onnx.ml.Scaler`: `y = (x − offset) × scale` per column, in float32 as
//! onnxruntime computes it. skl2onnx writes it for StandardScaler unless its
//! `div` option asks for plain `Sub` and `Div`.

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

use super::{Compat, CompatOp, Floats, check_columns, per_column};
use crate::onnx::graph;
use crate::quote::quoted;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Scaler {
    offset: Floats,
    scale: Floats,
}

pub fn build(
    _: &ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let offset = graph::floats(node, "offset").unwrap_or_else(|| vec![0.0]);
    let scale = graph::floats(node, "scale").unwrap_or_else(|| vec![1.0]);
    if offset.is_empty() || scale.is_empty() {
        bail!(
            "Scaler {}: offset and scale need at least one value",
            quoted(&node.name)
        );
    }
    Ok((
        expand(Compat(Scaler {
            offset: Floats(offset),
            scale: Floats(scale),
        })),
        vec![],
    ))
}

impl Op for Scaler {
    fn name(&self) -> StaticName {
        "Scaler".into()
    }

    op_as_typed_op!();
}

impl EvalOp for Scaler {
    op_out_of_plan!();

    fn eval(&self, _: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let x = input.cast_to::<f32>()?;
        let x = x.to_plain_array_view::<f32>()?;
        check_columns("Scaler offset", self.offset.0.len(), x.shape())?;
        check_columns("Scaler scale", self.scale.0.len(), x.shape())?;
        let columns = x.shape().last().copied().unwrap_or(1).max(1);
        let mut y = x.to_owned();
        for (i, v) in y.iter_mut().enumerate() {
            let j = i % columns;
            *v = (*v - per_column(&self.offset.0, j)) * per_column(&self.scale.0, j);
        }
        Ok(tvec!(y.into_tensor().into_tvalue()))
    }
}

impl TypedOp for Scaler {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(inputs[0].shape.iter())))
    }

    as_op!();
}

impl CompatOp for Scaler {
    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 1)?;
        check_output_arity(outputs, 1)?;
        s.equals(&outputs[0].datum_type, f32::datum_type())?;
        s.equals(&outputs[0].shape, &inputs[0].shape)?;
        Ok(())
    }
}
