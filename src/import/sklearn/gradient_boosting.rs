//! `GradientBoostingClassifier` / `GradientBoostingRegressor`: the initial
//! raw prediction of `init_`, plus `learning_rate × leaf` of every stage's
//! regression trees (`predict_stages`), inputs compared as float32.
//!
//! The initial prediction mirrors `_init_raw_predictions`: for the default
//! `DummyClassifier(strategy="prior")`, the log-odds of the clipped prior
//! (binary) or the symmetric multinomial logit `log(p / gmean(p))`
//! (multiclass, scikit-learn >= 1.4's `HalfMultinomialLoss`); scikit-learn
//! < 1.4 (`_gb_losses`) clipped with float32's epsilon and used `log(p)`.

use crate::import::pickle::Node;
use crate::model::trees::Combine;
use crate::model::{Estimator, Link};
use crate::quote::quoted;

use super::object::Obj;
use super::tree::{self, numpy_sum};
use super::{Fitted, SklearnError, Target};

pub fn convert(est: &Obj, n_features: usize) -> Result<Fitted, SklearnError> {
    let classifier = est.class().ends_with("Classifier");
    let learning_rate = est.number("learning_rate")?;
    let stages = est.array("estimators_")?;
    let (n_stages, k) = match stages.shape.as_slice() {
        [s, k] => (*s, *k),
        shape => {
            return Err(est.bad(
                "estimators_",
                format!("has shape {shape:?}, not (stages, trees per stage)"),
            ));
        }
    };
    let members = super::object_list(est, "estimators_")?;
    let loss = est.child("_loss").or_else(|_| est.child("loss_"))?;
    let old_losses = loss.object.class.module.contains("_gb_losses");
    let (target, link) = if classifier {
        if est.opt_string("loss") == Some("exponential") {
            return Err(SklearnError::Unsupported {
                class: est.class().to_string(),
                why: "loss=\"exponential\" (AdaBoost-like probabilities) is not supported; use log_loss".into(),
            });
        }
        let classes = super::classes(est)?;
        let link = match (classes.len(), k) {
            (2, 1) => Link::Logistic,
            (c, k) if c == k && c > 2 => Link::Softmax,
            (c, k) => {
                return Err(est.bad(
                    "estimators_",
                    format!("has {k} trees per stage for {c} classes"),
                ));
            }
        };
        (Target::Classes(classes), link)
    } else {
        if k != 1 {
            return Err(est.bad(
                "estimators_",
                format!("has {k} trees per stage for one target"),
            ));
        }
        (Target::Value, Link::Identity)
    };
    let mut ens = tree::ensemble(n_features, k, Combine::Sum, true);
    ens.base_score = initial_prediction(est, k, classifier, old_losses)?;
    if members.len() != n_stages * k {
        return Err(est.bad("estimators_", "does not hold one tree per stage and output"));
    }
    for (i, member) in members.iter().enumerate() {
        let t = tree::read(member)?;
        let output = (i % k) as u32;
        // `out += scale * value`, the product as scikit-learn computes it.
        t.append_to(&mut ens, Some(output), |j| {
            Ok(vec![learning_rate * t.value(j)[0]])
        })
        .map_err(|why| est.bad("estimators_", format!("tree {i}: {why}")))?;
    }
    Ok(Fitted::new(Estimator::Trees(ens), link, target))
}

fn initial_prediction(
    est: &Obj,
    k: usize,
    classifier: bool,
    old_losses: bool,
) -> Result<Vec<f64>, SklearnError> {
    let init_id = est
        .get("init_")
        .ok_or_else(|| est.bad("init_", "is missing"))?;
    if let Node::Str(s) = est.pickle.node(init_id) {
        if s == "zero" {
            return Ok(vec![0.0; k]);
        }
        return Err(est.bad(
            "init_",
            format!("{} is not an initial estimator", quoted(s)),
        ));
    }
    let init = est.child("init_")?;
    match (init.class(), classifier) {
        ("DummyClassifier", true) => {
            if init.opt_string("strategy").is_some_and(|s| s != "prior") {
                return Err(init.bad(
                    "strategy",
                    "only the default \"prior\" initial estimator is supported",
                ));
            }
            let prior = init.f64s("class_prior_")?;
            let eps = if old_losses {
                f64::from(f32::EPSILON)
            } else {
                f64::EPSILON
            };
            let clip = |p: f64| p.clamp(eps, 1.0 - eps);
            if k == 1 {
                let p = clip(
                    *prior
                        .get(1)
                        .ok_or_else(|| init.bad("class_prior_", "has fewer than two classes"))?,
                );
                // scipy.special.logit: log(p / (1 - p)).
                return Ok(vec![(p / (1.0 - p)).ln()]);
            }
            if prior.len() != k {
                return Err(init.bad(
                    "class_prior_",
                    format!("has {} classes, the model {k}", prior.len()),
                ));
            }
            let p: Vec<f64> = prior.into_iter().map(clip).collect();
            if old_losses {
                return Ok(p.iter().map(|v| v.ln()).collect());
            }
            // MultinomialLogit.link: log(p / gmean(p)), gmean = exp(mean(log p)).
            let logs: Vec<f64> = p.iter().map(|v| v.ln()).collect();
            let gmean = (numpy_sum(&logs) / k as f64).exp();
            Ok(p.iter().map(|v| (v / gmean).ln()).collect())
        }
        ("DummyRegressor", false) => {
            let constant = init.f64s("constant_")?;
            match constant.as_slice() {
                [c] => Ok(vec![*c]),
                _ => Err(init.bad("constant_", "should hold one value")),
            }
        }
        (other, _) => Err(SklearnError::Unsupported {
            class: est.class().to_string(),
            why: format!(
                "its initial estimator is {other}; only the default (init=None) or \"zero\" is supported"
            ),
        }),
    }
}
