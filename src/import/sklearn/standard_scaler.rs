//! `StandardScaler`: `(x - mean_) / scale_`, each part only when `with_mean`
//! / `with_std` (scikit-learn subtracts, then divides, in that order).

use super::SklearnError;
use super::features::{Col, Op};
use super::object::Obj;

pub fn apply(scaler: &Obj, cols: Vec<Col>) -> Result<Vec<Col>, SklearnError> {
    let n = cols.len();
    let with_mean = scaler.bool("with_mean")?;
    let with_std = scaler.bool("with_std")?;
    let means = if with_mean {
        scaler.f64s("mean_")?
    } else {
        vec![0.0; n]
    };
    let scales = if with_std {
        scaler.f64s("scale_")?
    } else {
        vec![1.0; n]
    };
    if means.len() != n || scales.len() != n {
        return Err(scaler.bad(
            "mean_",
            format!("does not have {n} values, one per input column"),
        ));
    }
    Ok(cols
        .into_iter()
        .zip(means.into_iter().zip(scales))
        .map(|(mut col, (mean, scale))| {
            col.ops.push(Op::Standardize { mean, scale });
            col
        })
        .collect())
}
