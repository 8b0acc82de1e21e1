//! `RandomForestClassifier/Regressor` and `ExtraTreesClassifier/Regressor`:
//! the mean of the trees' answers. scikit-learn sums each tree's
//! `predict_proba` in order and divides by the number of trees
//! (`_accumulate_prediction`); lifeboat does the same sums in the same order,
//! so probabilities are bit-identical.

use crate::model::trees::Combine;
use crate::model::{Estimator, Link};

use super::object::Obj;
use super::tree;
use super::{Fitted, SklearnError, Target, decision_tree, version};

pub fn convert(est: &Obj, n_features: usize) -> Result<Fitted, SklearnError> {
    let classifier = est.class().ends_with("Classifier");
    let trees = super::object_list(est, "estimators_")?;
    if trees.is_empty() {
        return Err(est.bad("estimators_", "is empty"));
    }
    let (target, k) = if classifier {
        let classes = super::classes(est)?;
        let k = classes.len();
        (Target::Classes(classes), k)
    } else {
        (Target::Value, 1)
    };
    let mut ens = tree::ensemble(n_features, k, Combine::Mean, true);
    for (i, member) in trees.iter().enumerate() {
        let t = tree::read(member)?;
        let result = if classifier {
            decision_tree::check_width(member, &t, k)?;
            // Read once per tree, not once per leaf.
            let made_by = version(member);
            t.append_to(&mut ens, None, |j| {
                tree::leaf_probabilities(t.value(j), k, made_by)
            })
        } else {
            t.append_to(&mut ens, None, |j| Ok(vec![t.value(j)[0]]))
        };
        result.map_err(|why| est.bad("estimators_", format!("tree {i}: {why}")))?;
    }
    // Forests take NaN from 1.4 when their trees do (`_validate_X_predict`).
    let nan_ok = version(est) >= (1, 4) && decision_tree::accepts_missing(&trees[0])?;
    Ok(Fitted::new(Estimator::Trees(ens), Link::Identity, target).nan(nan_ok))
}
