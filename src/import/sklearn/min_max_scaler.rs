//! `MinMaxScaler`: `x * scale_ + min_`, as scikit-learn computes it
//! (`X *= scale_; X += min_`). `clip=True` has no element-wise step here.

use super::SklearnError;
use super::features::{Col, Op};
use super::object::Obj;

pub fn apply(scaler: &Obj, cols: Vec<Col>) -> Result<Vec<Col>, SklearnError> {
    if scaler.has("clip") && scaler.bool("clip")? {
        return Err(SklearnError::Unsupported {
            class: "MinMaxScaler".into(),
            why: "clip=True clips values to the feature range".into(),
        });
    }
    let n = cols.len();
    let scales = scaler.f64s("scale_")?;
    let mins = scaler.f64s("min_")?;
    if scales.len() != n || mins.len() != n {
        return Err(scaler.bad(
            "scale_",
            format!("does not have {n} values, one per input column"),
        ));
    }
    Ok(cols
        .into_iter()
        .zip(scales.into_iter().zip(mins))
        .map(|(mut col, (mul, add))| {
            col.ops.push(Op::MulAdd { mul, add });
            col
        })
        .collect())
}
