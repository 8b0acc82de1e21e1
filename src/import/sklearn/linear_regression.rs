//! `LinearRegression` and `Ridge`: `intercept_ + coef_ · x` (one target).

use crate::model::{Estimator, LinearModel, Link};

use super::object::Obj;
use super::{Fitted, SklearnError, Target};

pub fn convert(est: &Obj, n_features: usize) -> Result<Fitted, SklearnError> {
    let coef = est.f64s("coef_")?;
    let intercept = est.f64s("intercept_")?;
    if coef.len() != n_features || intercept.len() != 1 {
        return Err(SklearnError::Unsupported {
            class: est.class().to_string(),
            why: format!(
                "it has {} coefficients and {} intercepts for {n_features} features; only one target is supported",
                coef.len(),
                intercept.len()
            ),
        });
    }
    let model = LinearModel {
        weights: coef,
        intercepts: intercept,
        feature_means: vec![0.0; n_features],
    };
    Ok(Fitted::new(
        Estimator::Linear(model),
        Link::Identity,
        Target::Value,
    ))
}
