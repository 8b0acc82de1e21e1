//! `FunctionTransformer`: lifeboat reads only the identity (`func=None`),
//! which is what ColumnTransformer stores for `"passthrough"`, and
//! `partial(check_array, ...)`, which HistGradientBoosting stores and which
//! only checks and converts numbers. Any other function is Python code.

use crate::import::pickle::Node;
use crate::import::pickle::allow::Known;

use super::SklearnError;
use super::features::Col;
use super::object::Obj;

pub fn apply(ft: &Obj, cols: Vec<Col>) -> Result<Vec<Col>, SklearnError> {
    let identity = match ft.node("func")? {
        Node::None => true,
        Node::Object(o) if o.class.known == Known::Partial => true,
        _ => false,
    };
    if !identity {
        return Err(SklearnError::Unsupported {
            class: "FunctionTransformer".into(),
            why: "it applies a Python function, which lifeboat cannot run; replace it with supported transformers".into(),
        });
    }
    if !ft.is_none("kw_args") && !matches!(ft.node("kw_args")?, Node::Dict(d) if d.is_empty()) {
        return Err(SklearnError::Unsupported {
            class: "FunctionTransformer".into(),
            why: "kw_args are set".into(),
        });
    }
    Ok(cols)
}
