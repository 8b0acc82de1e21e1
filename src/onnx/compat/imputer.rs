//! `ai.onnx.ml.Imputer`: values equal to the replaced value (NaN when that is
//! NaN) become the imputed value of their column. skl2onnx writes it for
//! SimpleImputer on numbers.

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

use super::{Compat, CompatOp, Floats, check_columns, per_column};
use crate::onnx::graph;
use crate::quote::quoted;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Imputer {
    Floats { imputed: Floats, replaced: Floats },
    Ints { imputed: Vec<i64>, replaced: i64 },
}

pub fn build(
    _: &ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let floats = graph::floats(node, "imputed_value_floats").filter(|v| !v.is_empty());
    let ints = graph::ints(node, "imputed_value_int64s").filter(|v| !v.is_empty());
    let op = match (floats, ints) {
        (Some(imputed), None) => Imputer::Floats {
            imputed: Floats(imputed),
            replaced: Floats(vec![
                graph::float(node, "replaced_value_float").unwrap_or(0.0),
            ]),
        },
        (None, Some(imputed)) => Imputer::Ints {
            imputed,
            replaced: graph::int(node, "replaced_value_int64").unwrap_or(0),
        },
        _ => bail!(
            "Imputer {} needs exactly one of imputed_value_floats and imputed_value_int64s",
            quoted(&node.name)
        ),
    };
    Ok((expand(Compat(op)), vec![]))
}

impl Op for Imputer {
    fn name(&self) -> StaticName {
        "Imputer".into()
    }

    op_as_typed_op!();
}

impl EvalOp for Imputer {
    op_out_of_plan!();

    fn eval(&self, _: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let out = match self {
            Imputer::Floats { imputed, replaced } => {
                let x = input.cast_to::<f32>()?;
                let x = x.to_plain_array_view::<f32>()?;
                check_columns("Imputer imputed_value_floats", imputed.0.len(), x.shape())?;
                let columns = x.shape().last().copied().unwrap_or(1).max(1);
                let r = replaced.0[0];
                let mut y = x.to_owned();
                for (i, v) in y.iter_mut().enumerate() {
                    if *v == r || (r.is_nan() && v.is_nan()) {
                        *v = per_column(&imputed.0, i % columns);
                    }
                }
                y.into_tensor()
            }
            Imputer::Ints { imputed, replaced } => {
                let x = input.cast_to::<i64>()?;
                let x = x.to_plain_array_view::<i64>()?;
                let columns = x.shape().last().copied().unwrap_or(1).max(1);
                if imputed.len() != 1 && imputed.len() != columns {
                    bail!("Imputer has {} values for {columns} columns", imputed.len());
                }
                let mut y = x.to_owned();
                for (i, v) in y.iter_mut().enumerate() {
                    if *v == *replaced {
                        *v = if imputed.len() == 1 {
                            imputed[0]
                        } else {
                            imputed[i % columns]
                        };
                    }
                }
                y.into_tensor()
            }
        };
        Ok(tvec!(out.into_tvalue()))
    }
}

impl Imputer {
    fn datum_type(&self) -> DatumType {
        match self {
            Imputer::Floats { .. } => f32::datum_type(),
            Imputer::Ints { .. } => i64::datum_type(),
        }
    }
}

impl TypedOp for Imputer {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(self.datum_type().fact(inputs[0].shape.iter())))
    }

    as_op!();
}

impl CompatOp for Imputer {
    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 1)?;
        check_output_arity(outputs, 1)?;
        s.equals(&outputs[0].datum_type, self.datum_type())?;
        s.equals(&outputs[0].shape, &inputs[0].shape)?;
        Ok(())
    }
}
