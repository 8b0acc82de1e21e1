//! `LogisticRegression`: binary (one log-odds), multinomial (softmax) and
//! one-vs-rest (normalized logistic), chosen as `predict_proba` chooses:
//! scikit-learn >= 1.8 uses the logistic function for two classes and
//! softmax otherwise; before, `multi_class` (and the liblinear solver)
//! decided, and a binary multinomial model is softmax over `(-z, z)`.

use crate::model::{Estimator, LinearModel, Link};

use super::object::Obj;
use super::{Fitted, SklearnError, Target};

pub fn convert(est: &Obj, n_features: usize) -> Result<Fitted, SklearnError> {
    let classes = super::classes(est)?;
    let k = classes.len();
    let coef = est.f64s("coef_")?;
    let intercept = est.f64s("intercept_")?;
    let rows = intercept.len();
    if rows == 0 || coef.len() != rows * n_features {
        return Err(est.bad(
            "coef_",
            format!(
                "has {} values for {rows} rows × {n_features} features",
                coef.len()
            ),
        ));
    }
    let multi_class = est.opt_string("multi_class");
    let ovr = match multi_class {
        None => false,
        Some("ovr" | "warn") => true,
        Some("auto" | "deprecated") => k <= 2 || est.opt_string("solver") == Some("liblinear"),
        Some(_) => false,
    };
    let (weights, intercepts, link) = match (k, rows) {
        (2, 1) if ovr || multi_class.is_none() => (coef, intercept, Link::Logistic),
        (2, 1) => {
            // softmax([-z, z]): two outputs with opposite weights.
            let negative: Vec<f64> = coef.iter().map(|w| -w).collect();
            (
                [negative, coef].concat(),
                vec![-intercept[0], intercept[0]],
                Link::Softmax,
            )
        }
        (k, rows) if k == rows && k > 2 => (
            coef,
            intercept,
            if ovr {
                Link::LogisticOvr
            } else {
                Link::Softmax
            },
        ),
        _ => {
            return Err(est.bad("coef_", format!("has {rows} rows for {k} classes")));
        }
    };
    let model = LinearModel {
        weights,
        intercepts,
        feature_means: vec![0.0; n_features],
    };
    Ok(Fitted::new(
        Estimator::Linear(model),
        link,
        Target::Classes(classes),
    ))
}
