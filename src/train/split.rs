//! Stratified splits: k folds for cross-validation, and one held-out part for
//! early stopping. Each class is shuffled with the seed and dealt out in turn,
//! so every fold has about the same class balance.

use super::rng::Rng;

/// `fold_of[i]` for each row: which of `k` folds row i belongs to.
pub fn stratified_folds(y: &[u32], n_classes: usize, k: usize, rng: &mut Rng) -> Vec<usize> {
    let mut fold_of = vec![0; y.len()];
    let mut next = 0;
    for class in 0..n_classes {
        let mut rows: Vec<usize> = (0..y.len()).filter(|&i| y[i] as usize == class).collect();
        rng.shuffle(&mut rows);
        for i in rows {
            fold_of[i] = next % k;
            next += 1;
        }
    }
    fold_of
}

/// Splits rows into (train, held-out) with about `fraction` of each class held out.
pub fn stratified_holdout(
    y: &[u32],
    n_classes: usize,
    fraction: f64,
    rng: &mut Rng,
) -> (Vec<usize>, Vec<usize>) {
    let mut train = Vec::new();
    let mut held = Vec::new();
    for class in 0..n_classes {
        let mut rows: Vec<usize> = (0..y.len()).filter(|&i| y[i] as usize == class).collect();
        rng.shuffle(&mut rows);
        let n_held = ((rows.len() as f64) * fraction).round() as usize;
        let n_held = n_held.min(rows.len().saturating_sub(1));
        held.extend_from_slice(&rows[..n_held]);
        train.extend_from_slice(&rows[n_held..]);
    }
    train.sort_unstable();
    held.sort_unstable();
    (train, held)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_balanced() {
        let y: Vec<u32> = (0..100).map(|i| u32::from(i % 4 == 0)).collect();
        let folds = stratified_folds(&y, 2, 5, &mut Rng::new(1));
        for f in 0..5 {
            let rows: Vec<usize> = (0..100).filter(|&i| folds[i] == f).collect();
            assert_eq!(rows.len(), 20);
            assert_eq!(rows.iter().filter(|&&i| y[i] == 1).count(), 5);
        }
    }

    #[test]
    fn holdout_keeps_each_class() {
        let y: Vec<u32> = (0..50).map(|i| (i % 3) as u32).collect();
        let (train, held) = stratified_holdout(&y, 3, 0.2, &mut Rng::new(3));
        assert_eq!(train.len() + held.len(), 50);
        for c in 0..3 {
            assert!(held.iter().any(|&i| y[i] == c));
        }
    }
}
