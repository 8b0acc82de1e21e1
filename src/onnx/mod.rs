//! Running ONNX graphs (cargo feature `onnx`), on tract-onnx: the one place
//! that talks to the engine.
//!
//! [`Engine::build`] turns a graph's bytes into a runnable plan, once, at
//! load: it decodes the `ModelProto`, checks it ([`graph::check`]: an
//! operator we do not run is named here, never at request time), registers
//! our own versions of the `ai.onnx.ml` operators tract lacks ([`compat`]),
//! reads the probabilities (or values) straight from the tensor before any
//! `ZipMap` (so ZipMap never runs, and the graph's own label output is
//! ignored: lifeboat takes the argmax of the probabilities), declares every
//! input with a symbolic batch size, and optimizes. [`Engine::run`] scores a
//! batch of feature rows in one call.
//!
//! tract is third-party code reading files we do not control; on top of the
//! checks, building and running are fenced with `catch_unwind`, so a panic in
//! it becomes an error, never a crashed server.

pub mod compat;
pub mod graph;

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use tract_onnx::prelude::*;

use crate::model::onnx::{OnnxInput, TensorType};
use crate::quote::quoted;

/// Why a graph cannot be run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OnnxError {
    #[error("the ONNX file is not valid: {0}")]
    Invalid(String),
    #[error(
        "the ONNX graph uses {} lifeboat cannot run: {}. lifeboat runs the standard ONNX operators tract supports and, from ai.onnx.ml: {}",
        if .0.len() == 1 { "an operator" } else { "operators" },
        crate::quote::quoted_list(.0.iter().map(String::as_str)),
        graph::ML_OPERATORS.join(", ")
    )]
    Operators(Vec<String>),
    #[error("the ONNX graph cannot be run: {0}")]
    Unsupported(String),
    #[error("the ONNX engine failed: {0}")]
    Engine(String),
}

/// A graph ready to run, with how to feed it.
#[derive(Debug)]
pub struct Engine {
    plan: Arc<TypedRunnableModel>,
    /// The inputs the plan takes, in its order.
    inputs: Vec<OnnxInput>,
    n_features: usize,
    width: usize,
}

/// The names of the standard operators this build runs (tract's and ours).
pub fn runnable_operators() -> HashSet<String> {
    framework().op_register.0.keys().cloned().collect()
}

fn framework() -> tract_onnx::Onnx {
    let mut onnx = tract_onnx::onnx();
    compat::register(&mut onnx.op_register);
    onnx
}

/// Runs `f`, turning a panic inside tract into an error.
fn fenced<T>(what: &str, f: impl FnOnce() -> Result<T, OnnxError>) -> Result<T, OnnxError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        Err(OnnxError::Engine(format!(
            "tract panicked while {what}: {why}"
        )))
    })
}

impl Engine {
    /// Builds the plan for `bytes`, reading `output` (`width` numbers per row).
    pub fn build(
        bytes: &[u8],
        inputs: &[OnnxInput],
        output: &str,
        width: u32,
    ) -> Result<Engine, OnnxError> {
        fenced("loading the graph", || {
            Self::build_unfenced(bytes, inputs, output, width)
        })
    }

    fn build_unfenced(
        bytes: &[u8],
        inputs: &[OnnxInput],
        output: &str,
        width: u32,
    ) -> Result<Engine, OnnxError> {
        let proto = graph::decode(bytes)?;
        let onnx = framework();
        graph::check(
            &proto,
            output,
            &onnx.op_register.0.keys().cloned().collect(),
        )?;
        let engine = |e: TractError| OnnxError::Engine(format!("{e:#}"));
        let parsed = onnx.parse(&proto, None).map_err(engine)?;
        if !parsed.unresolved_inputs.is_empty() {
            return Err(OnnxError::Invalid(format!(
                "the graph reads tensors nothing defines: {}",
                crate::quote::name_list(parsed.unresolved_inputs.iter().map(String::as_str))
            )));
        }
        let mut model = parsed.model;
        let Some(outlet) = parsed.outlets_by_name.get(output).copied() else {
            return Err(OnnxError::Invalid(format!(
                "the graph has no tensor named {}",
                quoted(output)
            )));
        };
        model.select_output_outlets(&[outlet]).map_err(engine)?;
        // What the chosen output does not need (ZipMap, label casts) goes.
        let mut model = model.into_compact().map_err(engine)?;
        let batch = model.symbols.sym("N").to_dim();
        let mut fed = Vec::new();
        for (ix, outlet) in model
            .input_outlets()
            .map_err(engine)?
            .to_vec()
            .iter()
            .enumerate()
        {
            let name = model.node(outlet.node).name.clone();
            let Some(input) = inputs.iter().find(|i| i.name() == name) else {
                return Err(OnnxError::Invalid(format!(
                    "the graph input {} is not fed by any field",
                    quoted(&name)
                )));
            };
            let fact = match input {
                OnnxInput::Tensor {
                    dtype, features, ..
                } => {
                    let shape = [batch.clone(), features.len().to_dim()];
                    match dtype {
                        TensorType::F32 => f32::fact(shape),
                        TensorType::F64 => f64::fact(shape),
                        TensorType::I64 => i64::fact(shape),
                        TensorType::I32 => i32::fact(shape),
                    }
                }
                OnnxInput::Strings { .. } => String::fact([batch.clone(), 1.to_dim()]),
            };
            model.set_input_fact(ix, fact.into()).map_err(engine)?;
            fed.push(input.clone());
        }
        let plan = model
            .into_optimized()
            .map_err(engine)?
            .into_runnable()
            .map_err(engine)?;
        Ok(Engine {
            plan,
            inputs: fed,
            n_features: inputs.iter().map(|i| i.features().len()).sum(),
            width: width as usize,
        })
    }

    /// Scores `rows` feature rows (laid out one after another) into `out`
    /// (`rows × width` numbers).
    pub fn run(&self, x: &[f64], rows: usize, out: &mut [f64]) -> Result<(), OnnxError> {
        fenced("running the graph", || self.run_unfenced(x, rows, out))
    }

    fn run_unfenced(&self, x: &[f64], rows: usize, out: &mut [f64]) -> Result<(), OnnxError> {
        let n = self.n_features;
        let engine = |e: TractError| OnnxError::Engine(format!("{e:#}"));
        let shape_err = |e: tract_ndarray::ShapeError| OnnxError::Engine(e.to_string());
        let mut tensors: TVec<TValue> = TVec::new();
        for input in &self.inputs {
            let tensor = match input {
                OnnxInput::Tensor {
                    dtype, features, ..
                } => {
                    let k = features.len();
                    let cell = |r: usize, c: usize| x[r * n + features[c] as usize];
                    let shape = (rows, k);
                    match dtype {
                        TensorType::F32 => {
                            tract_ndarray::Array2::from_shape_fn(shape, |(r, c)| cell(r, c) as f32)
                                .into_tensor()
                        }
                        TensorType::F64 => {
                            tract_ndarray::Array2::from_shape_fn(shape, |(r, c)| cell(r, c))
                                .into_tensor()
                        }
                        // Integer fields are validated whole; NaN cannot reach a required one.
                        TensorType::I64 => {
                            tract_ndarray::Array2::from_shape_fn(shape, |(r, c)| cell(r, c) as i64)
                                .into_tensor()
                        }
                        TensorType::I32 => {
                            tract_ndarray::Array2::from_shape_fn(shape, |(r, c)| cell(r, c) as i32)
                                .into_tensor()
                        }
                    }
                }
                OnnxInput::Strings {
                    feature,
                    categories,
                    unseen,
                    missing,
                    ..
                } => {
                    let values: Vec<String> = (0..rows)
                        .map(|r| {
                            OnnxInput::category_text(
                                categories,
                                unseen,
                                missing.as_deref(),
                                x[r * n + *feature as usize],
                            )
                            .to_string()
                        })
                        .collect();
                    tract_ndarray::Array2::from_shape_vec((rows, 1), values)
                        .map_err(shape_err)?
                        .into_tensor()
                }
            };
            tensors.push(tensor.into_tvalue());
        }
        let outputs = self.plan.run(tensors).map_err(engine)?;
        let Some(result) = outputs.first() else {
            return Err(OnnxError::Engine("the graph gave no output".into()));
        };
        let result = result.cast_to::<f64>().map_err(engine)?;
        let view = result.to_plain_array_view::<f64>().map_err(engine)?;
        let expected = rows * self.width;
        if view.len() != expected || view.shape().first().copied().unwrap_or(0) != rows {
            return Err(OnnxError::Engine(format!(
                "the graph output has shape {:?}, but {rows} rows of {} numbers were expected",
                view.shape(),
                self.width
            )));
        }
        for (slot, v) in out.iter_mut().zip(view.iter()) {
            *slot = *v;
        }
        Ok(())
    }
}
