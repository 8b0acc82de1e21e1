//! `ai.onnx.ml.LabelEncoder` (opsets 1 to 3 attributes): maps each value
//! through `keys_* → values_*`, anything else to the default. skl2onnx's
//! string imputers are built from it (is this value the missing marker?
//! which value replaces it?).

use std::collections::HashMap;

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

use super::{Compat, CompatOp, Floats};
use crate::onnx::graph;
use crate::quote::quoted;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Keys {
    Strings(Vec<String>),
    Ints(Vec<i64>),
    Floats(Floats),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Values {
    Strings(Vec<String>, String),
    Ints(Vec<i64>, i64),
    Floats(Floats, u32),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct LabelEncoder {
    keys: Keys,
    values: Values,
}

pub fn build(
    _: &ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let name = quoted(&node.name);
    if graph::attr(node, "keys_tensor").is_some() || graph::attr(node, "values_tensor").is_some() {
        bail!(
            "LabelEncoder {name}: keys_tensor/values_tensor (ai.onnx.ml opset 4) are not supported; export with ai.onnx.ml opset 3 or lower"
        );
    }
    let keys = match (
        graph::strings(node, "keys_strings"),
        graph::ints(node, "keys_int64s"),
        graph::floats(node, "keys_floats"),
    ) {
        (Some(s), None, None) => Keys::Strings(s),
        (None, Some(i), None) => Keys::Ints(i),
        (None, None, Some(f)) => Keys::Floats(Floats(f)),
        _ => bail!(
            "LabelEncoder {name} needs exactly one of keys_strings, keys_int64s and keys_floats"
        ),
    };
    let values = match (
        graph::strings(node, "values_strings"),
        graph::ints(node, "values_int64s"),
        graph::floats(node, "values_floats"),
    ) {
        (Some(s), None, None) => Values::Strings(
            s,
            graph::string(node, "default_string").unwrap_or_else(|| "_Unused".into()),
        ),
        (None, Some(i), None) => Values::Ints(i, graph::int(node, "default_int64").unwrap_or(-1)),
        (None, None, Some(f)) => Values::Floats(
            Floats(f),
            graph::float(node, "default_float")
                .unwrap_or(-0.0)
                .to_bits(),
        ),
        _ => bail!(
            "LabelEncoder {name} needs exactly one of values_strings, values_int64s and values_floats"
        ),
    };
    let n_keys = match &keys {
        Keys::Strings(k) => k.len(),
        Keys::Ints(k) => k.len(),
        Keys::Floats(k) => k.0.len(),
    };
    let n_values = match &values {
        Values::Strings(v, _) => v.len(),
        Values::Ints(v, _) => v.len(),
        Values::Floats(v, _) => v.0.len(),
    };
    if n_keys != n_values {
        bail!("LabelEncoder {name} has {n_keys} keys for {n_values} values");
    }
    Ok((expand(Compat(LabelEncoder { keys, values })), vec![]))
}

impl LabelEncoder {
    fn datum_type(&self) -> DatumType {
        match self.values {
            Values::Strings(..) => String::datum_type(),
            Values::Ints(..) => i64::datum_type(),
            Values::Floats(..) => f32::datum_type(),
        }
    }

    /// The index of each input value among the keys.
    fn lookup(&self, input: &Tensor) -> TractResult<(Vec<usize>, Vec<Option<usize>>)> {
        let shape = input.shape().to_vec();
        let found = match &self.keys {
            Keys::Strings(keys) => {
                if input.datum_type() != String::datum_type() {
                    bail!(
                        "LabelEncoder with string keys got {:?} values",
                        input.datum_type()
                    );
                }
                let index: HashMap<&str, usize> = keys
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (k.as_str(), i))
                    .collect();
                input
                    .to_plain_array_view::<String>()?
                    .iter()
                    .map(|s| index.get(s.as_str()).copied())
                    .collect()
            }
            Keys::Ints(keys) => {
                let index: HashMap<i64, usize> =
                    keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
                let x = input.cast_to::<i64>()?;
                x.to_plain_array_view::<i64>()?
                    .iter()
                    .map(|v| index.get(v).copied())
                    .collect()
            }
            Keys::Floats(keys) => {
                // NaN keys match NaN values, as in onnxruntime.
                let bits = |v: f32| {
                    if v.is_nan() {
                        f32::NAN.to_bits()
                    } else {
                        v.to_bits()
                    }
                };
                let index: HashMap<u32, usize> = keys
                    .0
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (bits(*k), i))
                    .collect();
                let x = input.cast_to::<f32>()?;
                x.to_plain_array_view::<f32>()?
                    .iter()
                    .map(|v| index.get(&bits(*v)).copied())
                    .collect()
            }
        };
        Ok((shape, found))
    }
}

impl Op for LabelEncoder {
    fn name(&self) -> StaticName {
        "LabelEncoder".into()
    }

    op_as_typed_op!();
}

impl EvalOp for LabelEncoder {
    op_out_of_plan!();

    fn eval(&self, _: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let (shape, found) = self.lookup(&input)?;
        let out = match &self.values {
            Values::Strings(values, default) => {
                let v: Vec<String> = found
                    .iter()
                    .map(|i| i.map_or_else(|| default.clone(), |i| values[i].clone()))
                    .collect();
                tract_ndarray::ArrayD::from_shape_vec(shape, v)?.into_tensor()
            }
            Values::Ints(values, default) => {
                let v: Vec<i64> = found
                    .iter()
                    .map(|i| i.map_or(*default, |i| values[i]))
                    .collect();
                tract_ndarray::ArrayD::from_shape_vec(shape, v)?.into_tensor()
            }
            Values::Floats(values, default) => {
                let v: Vec<f32> = found
                    .iter()
                    .map(|i| i.map_or(f32::from_bits(*default), |i| values.0[i]))
                    .collect();
                tract_ndarray::ArrayD::from_shape_vec(shape, v)?.into_tensor()
            }
        };
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for LabelEncoder {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(self.datum_type().fact(inputs[0].shape.iter())))
    }

    as_op!();
}

impl CompatOp for LabelEncoder {
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
