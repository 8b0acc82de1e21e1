//! Stratified k-fold cross-validation: every row is scored by a model fitted
//! (preprocessing included) without it.

use super::learner::{Learner, fit};
use super::metrics::evaluate;
use super::rng::Rng;
use super::split::stratified_folds;
use super::{Dataset, TrainError};
use crate::model::report::Metrics;
use crate::quote::quoted;
use crate::schema::Schema;

/// The most folds `lifeboat train --folds` takes.
pub const MAX_FOLDS: usize = 100;

/// Checks that `folds`-fold cross-validation of `learners` can run on
/// `data`, whose classes are named `classes`: at most one fold per row, and,
/// for learners that need two classes ([`Learner::needs_two_classes`]), no
/// fold whose training rows are of one class only (which happens when a
/// class has a single row and at most one other class has more). The error
/// says how many rows there are, per class, and which numbers of folds
/// would work.
pub fn check_folds(
    data: &Dataset,
    classes: &[&str],
    folds: usize,
    learners: &[Learner],
) -> Result<(), TrainError> {
    let counts = data.class_counts();
    let n = data.rows.len();
    let two_classes = learners.iter().any(|l| l.needs_two_classes());
    let works = |k: usize| (2..=n).contains(&k) && !(two_classes && one_class_fold(&counts, k));
    if works(folds) {
        return Ok(());
    }
    let plural = |n: u64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let per_class: Vec<String> = counts
        .iter()
        .enumerate()
        .filter(|(_, m)| **m > 0)
        .map(|(c, m)| {
            let name = classes.get(c).copied().unwrap_or("?");
            format!("{} of class {}", plural(*m, "row"), quoted(name))
        })
        .collect();
    let mut rows = format!("{} to train on", plural(n as u64, "row"));
    if data.skipped > 0 {
        rows += &format!(" ({} more skipped)", data.skipped);
    }
    let why = if folds > n || folds < 2 {
        format!(
            "cross-validation needs from 2 folds to one per row, and there are {rows}: {}",
            per_class.join(", ")
        )
    } else {
        format!(
            "a fold would train on rows of one class only, which a tree learner cannot, \
             since a class with a single row is missing from the training rows of the fold \
             that holds it; there are {rows}: {}",
            per_class.join(", ")
        )
    };
    let working: Vec<usize> = (2..=n.min(MAX_FOLDS)).filter(|&k| works(k)).collect();
    let advice = if working.is_empty() {
        let single: Vec<String> = counts
            .iter()
            .enumerate()
            .filter(|(_, m)| **m == 1)
            .map(|(c, _)| quoted(classes.get(c).copied().unwrap_or("?")).to_string())
            .collect();
        format!(
            "no number of folds works: add rows of the class{} with a single row ({}), \
             or choose --learner logistic",
            if single.len() == 1 { "" } else { "es" },
            single.join(", ")
        )
    } else {
        format!("use --folds {}", spans(&working))
    };
    Err(TrainError::Folds { folds, why, advice })
}

/// Whether [`stratified_folds`] into `k` folds leaves some fold's training
/// rows with one class only, for classes of `counts` rows. A fold's training
/// rows lack a class only when all of the class's rows are in that fold,
/// which, as each class's rows are dealt to consecutive folds, happens only
/// to a class of one row: so only classes of one row matter.
fn one_class_fold(counts: &[u64], k: usize) -> bool {
    let present = counts.iter().filter(|&&m| m > 0).count();
    let mut singles_in = vec![0usize; k];
    let mut offset = 0u64;
    for &m in counts {
        if m == 1 {
            singles_in[(offset % k as u64) as usize] += 1;
        }
        offset += m;
    }
    singles_in.iter().any(|&s| present - s < 2)
}

/// `2, 3, 5 to 9 or 12`: whole numbers, in order, with runs of three or
/// more joined.
fn spans(values: &[usize]) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &v in values {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == v => *end = v,
            _ => runs.push((v, v)),
        }
    }
    let mut items = Vec::new();
    for (a, b) in runs {
        if b >= a + 2 {
            items.push(format!("{a} to {b}"));
        } else {
            items.extend((a..=b).map(|v| v.to_string()));
        }
    }
    match items.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether some fold's training rows have fewer than two classes, by
    /// dealing rows out as cross-validation does.
    fn one_class_fold_by_dealing(counts: &[u64], k: usize) -> bool {
        let y: Vec<u32> = counts
            .iter()
            .enumerate()
            .flat_map(|(c, &m)| std::iter::repeat_n(c as u32, m as usize))
            .collect();
        let fold_of = stratified_folds(&y, counts.len(), k, &mut Rng::new(3));
        (0..k).any(|f| {
            let mut seen = vec![false; counts.len()];
            for (i, &c) in y.iter().enumerate() {
                if fold_of[i] != f {
                    seen[c as usize] = true;
                }
            }
            seen.iter().filter(|s| **s).count() < 2
        })
    }

    #[test]
    fn only_classes_of_one_row_can_leave_a_fold_one_class() {
        let mut rng = Rng::new(11);
        for _ in 0..2000 {
            let n_classes = 2 + (rng.next_u64() % 4) as usize;
            let counts: Vec<u64> = (0..n_classes)
                .map(|_| match rng.next_u64() % 4 {
                    0 => 0,
                    1 => 1,
                    _ => rng.next_u64() % 7,
                })
                .collect();
            let n: u64 = counts.iter().sum();
            if counts.iter().filter(|&&m| m > 0).count() < 2 {
                continue;
            }
            for k in 2..=n as usize {
                assert_eq!(
                    one_class_fold(&counts, k),
                    one_class_fold_by_dealing(&counts, k),
                    "{counts:?}, {k} folds"
                );
            }
        }
    }

    #[test]
    fn spans_join_runs() {
        assert_eq!(spans(&[2]), "2");
        assert_eq!(spans(&[2, 3]), "2 or 3");
        assert_eq!(spans(&[2, 3, 4, 5]), "2 to 5");
        assert_eq!(spans(&[2, 3, 5, 6, 7, 9]), "2, 3, 5 to 7 or 9");
    }

    fn data(classes: &[u32], skipped: u64) -> Dataset {
        let mut d = crate::train::tests::dataset(classes.len());
        d.y = classes.to_vec();
        d.n_classes = 3;
        d.skipped = skipped;
        d
    }

    #[test]
    fn too_many_folds_say_how_many_rows_and_what_works() {
        let classes = ["a", "b", "c"];
        let d = data(&[0, 1, 0, 1, 0], 2);
        let all = Learner::ALL;
        check_folds(&d, &classes, 5, &all).unwrap();
        let err = check_folds(&d, &classes, 10, &all).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot cross-validate with --folds 10: cross-validation needs from 2 folds to \
             one per row, and there are 5 rows to train on (2 more skipped): 3 rows of class \
             \"a\", 2 rows of class \"b\"; use --folds 2 to 5"
        );
        // One row of "b": whichever fold holds it trains on "a" alone.
        let d = data(&[0, 0, 1, 0, 0, 0], 0);
        let err = check_folds(&d, &classes, 5, &all).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot cross-validate with --folds 5: a fold would train on rows of one class \
             only, which a tree learner cannot, since a class with a single row is missing \
             from the training rows of the fold that holds it; there are 6 rows to train on: \
             5 rows of class \"a\", 1 row of class \"b\"; no number of folds works: add \
             rows of the class with a single row (\"b\"), or choose --learner logistic"
        );
        // Logistic regression learns from one class.
        check_folds(&d, &classes, 5, &[Learner::Logistic]).unwrap();
        let err = check_folds(&d, &classes, 7, &[Learner::Logistic]).unwrap_err();
        assert!(err.to_string().ends_with("use --folds 2 to 6"), "{err}");
        // Two classes of one row beside a larger one: only folds that keep
        // them apart work (they are dealt 4 rows apart, so not 2 or 4).
        let d = data(&[0, 1, 1, 1, 2], 0);
        check_folds(&d, &classes, 3, &all).unwrap();
        let err = check_folds(&d, &classes, 4, &all).unwrap_err();
        assert!(err.to_string().ends_with("use --folds 3 or 5"), "{err}");
    }
}
