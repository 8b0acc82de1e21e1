//! Stratified k-fold cross-validation: every row is scored by a model fitted
//! (preprocessing included) without it.

use super::learner::{Learner, fit};
use super::metrics::evaluate;
use super::rng::Rng;
use super::split::stratified_folds;
use super::{Dataset, TrainError};
use crate::model::report::Metrics;
use crate::schema::Schema;

/// Cross-validates `learner`; `on_fold(i)` is called as each fold starts.
pub fn cross_validate(
    learner: Learner,
    schema: &Schema,
    data: &Dataset,
    folds: usize,
    seed: u64,
    on_fold: &mut dyn FnMut(usize),
) -> Result<Metrics, TrainError> {
    let n = data.rows.len();
    if folds < 2 || folds > n {
        return Err(TrainError::Param(format!(
            "folds must be from 2 to the number of rows ({n}), not {folds}"
        )));
    }
    // The same seed gives every learner the same folds, so they are compared fairly.
    let fold_of = stratified_folds(&data.y, data.n_classes, folds, &mut Rng::new(seed));
    let mut probs = vec![Vec::new(); n];
    let mut fold_rng = Rng::new(seed ^ 0x5eed_f01d);
    for fold in 0..folds {
        on_fold(fold);
        let (train, test): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| fold_of[i] != fold);
        let rows: Vec<_> = train.iter().map(|&i| data.rows[i].clone()).collect();
        let y: Vec<u32> = train.iter().map(|&i| data.y[i]).collect();
        let fitted = fit(
            learner,
            schema,
            &rows,
            &y,
            data.n_classes,
            fold_rng.next_u64(),
        )?;
        let (mut features, mut raw) = (Vec::new(), Vec::new());
        for &i in &test {
            probs[i] = fitted.probabilities(&data.rows[i], &mut features, &mut raw);
        }
    }
    Ok(evaluate(&probs, &data.y, data.n_classes, &fold_of))
}
