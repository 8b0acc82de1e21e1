//! `DecisionTreeClassifier`, `DecisionTreeRegressor`, `ExtraTreeClassifier`
//! and `ExtraTreeRegressor` (alone, or as the trees of extra-trees forests):
//! one tree. Probabilities are each
//! leaf's stored class fractions (scikit-learn >= 1.4) or its counts over
//! their sum (before), as `predict_proba` computes them; leaves that hold
//! neither are refused (`tree::leaf_probabilities`). Inputs are compared as
//! float32 (scikit-learn's `DTYPE`), so answers are bit-identical.

use crate::model::trees::Combine;
use crate::model::{Estimator, Link};

use super::object::Obj;
use super::tree::{self, SkTree};
use super::{Fitted, SklearnError, Target, version};

pub fn convert(est: &Obj, n_features: usize) -> Result<Fitted, SklearnError> {
    let t = tree::read(est)?;
    let classifier = est.class().ends_with("Classifier");
    let fitted = if classifier {
        let classes = super::classes(est)?;
        let k = classes.len();
        check_width(est, &t, k)?;
        let mut ens = tree::ensemble(n_features, k, Combine::Mean, true);
        let made_by = version(est);
        t.append_to(&mut ens, None, |i| {
            tree::leaf_probabilities(t.value(i), k, made_by)
        })
        .map_err(|why| est.bad("tree_", why))?;
        Fitted::new(
            Estimator::Trees(ens),
            Link::Identity,
            Target::Classes(classes),
        )
    } else {
        let mut ens = tree::ensemble(n_features, 1, Combine::Mean, true);
        t.append_to(&mut ens, None, |i| Ok(vec![t.value(i)[0]]))
            .map_err(|why| est.bad("tree_", why))?;
        Fitted::new(Estimator::Trees(ens), Link::Identity, Target::Value)
    };
    Ok(fitted.nan(accepts_missing(est)?))
}

/// Classification trees hold at least one value per class.
pub fn check_width(est: &Obj, t: &SkTree, k: usize) -> Result<(), SklearnError> {
    if t.width < k {
        return Err(est.bad(
            "tree_",
            format!(
                "stores {} values per node for {k} classes (multi-output trees are not supported)",
                t.width
            ),
        ));
    }
    if t.width != k && est.has("n_outputs_") && est.int("n_outputs_")? != 1 {
        return Err(SklearnError::Unsupported {
            class: est.class().to_string(),
            why: "it predicts several outputs at once".into(),
        });
    }
    Ok(())
}

/// Whether scikit-learn of the version that wrote the tree lets NaN reach
/// it at predict time (`_support_missing_values`): decision trees from 1.3
/// with the best splitter, any tree from 1.6.
pub fn accepts_missing(tree: &Obj) -> Result<bool, SklearnError> {
    let v = version(tree);
    let splitter_best = tree.opt_string("splitter") == Some("best");
    let monotonic = !tree.is_none("monotonic_cst");
    Ok(v >= (1, 6) || (v >= (1, 3) && splitter_best && !monotonic))
}
