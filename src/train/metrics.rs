//! Classification metrics computed from out-of-fold probabilities.

use crate::model::report::Metrics;

/// Probabilities are clipped to this before the log, as scikit-learn does,
/// so one confident mistake cannot make the loss infinite.
const EPS: f64 = 1e-15;

/// Computes every metric from per-row class probabilities (`probs[i]` has one
/// entry per class) and true classes. `fold_of[i]` names row i's fold, for the
/// spread of accuracy across folds.
pub fn evaluate(probs: &[Vec<f64>], y: &[u32], n_classes: usize, fold_of: &[usize]) -> Metrics {
    let predicted: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
    let mut confusion = vec![vec![0u64; n_classes]; n_classes];
    for (&t, &p) in y.iter().zip(&predicted) {
        confusion[t as usize][p] += 1;
    }
    let n_folds = fold_of.iter().copied().max().map_or(0, |m| m + 1);
    let mut per_fold = vec![(0usize, 0usize); n_folds];
    for ((&t, &p), &f) in y.iter().zip(&predicted).zip(fold_of) {
        per_fold[f].1 += 1;
        if t as usize == p {
            per_fold[f].0 += 1;
        }
    }
    let fold_acc: Vec<f64> = per_fold
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| *c as f64 / *n as f64)
        .collect();
    let correct = y
        .iter()
        .zip(&predicted)
        .filter(|(t, p)| **t as usize == **p)
        .count();
    Metrics {
        accuracy: correct as f64 / y.len().max(1) as f64,
        accuracy_std: std_dev(&fold_acc),
        roc_auc: roc_auc(probs, y, n_classes),
        log_loss: log_loss(probs, y),
        confusion,
    }
}

/// The first index of the largest value (numpy's argmax).
pub fn argmax(p: &[f64]) -> usize {
    p.iter()
        .enumerate()
        .fold(0, |best, (i, v)| if *v > p[best] { i } else { best })
}

fn std_dev(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
}

pub fn log_loss(probs: &[Vec<f64>], y: &[u32]) -> f64 {
    let total: f64 = probs
        .iter()
        .zip(y)
        .map(|(p, &t)| -p[t as usize].clamp(EPS, 1.0 - EPS).ln())
        .sum();
    total / y.len().max(1) as f64
}

/// Binary: the AUC of the second class. Multiclass: the unweighted mean of
/// one-vs-rest AUCs (scikit-learn's `multi_class="ovr", average="macro"`).
pub fn roc_auc(probs: &[Vec<f64>], y: &[u32], n_classes: usize) -> Option<f64> {
    if n_classes == 2 {
        let scores: Vec<f64> = probs.iter().map(|p| p[1]).collect();
        let positive: Vec<bool> = y.iter().map(|&t| t == 1).collect();
        return binary_auc(&scores, &positive);
    }
    let mut sum = 0.0;
    for k in 0..n_classes {
        let scores: Vec<f64> = probs.iter().map(|p| p[k]).collect();
        let positive: Vec<bool> = y.iter().map(|&t| t as usize == k).collect();
        sum += binary_auc(&scores, &positive)?;
    }
    Some(sum / n_classes as f64)
}

/// The Mann–Whitney form of the AUC, with tied scores counted as half.
pub fn binary_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let n_pos = positive.iter().filter(|p| **p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Average ranks over ties, then sum the ranks of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += avg_rank * order[i..=j].iter().filter(|&&k| positive[k]).count() as f64;
        i = j + 1;
    }
    let u = rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Some(u / (n_pos * n_neg) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_known_values() {
        // scikit-learn: roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) == 0.75
        let auc = binary_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
        assert!((auc - 0.75).abs() < 1e-12);
        // Ties count half.
        let auc = binary_auc(&[0.5, 0.5], &[false, true]).unwrap();
        assert!((auc - 0.5).abs() < 1e-12);
        assert_eq!(binary_auc(&[0.5], &[true]), None);
    }

    #[test]
    fn all_metrics() {
        let probs = vec![
            vec![0.9, 0.1],
            vec![0.2, 0.8],
            vec![0.6, 0.4],
            vec![0.3, 0.7],
        ];
        let y = [0, 1, 1, 1];
        let m = evaluate(&probs, &y, 2, &[0, 0, 1, 1]);
        assert_eq!(m.accuracy, 0.75);
        assert_eq!(m.confusion, vec![vec![1, 0], vec![1, 2]]);
        assert_eq!(m.roc_auc, Some(1.0));
        let ll = -(0.9f64.ln() + 0.8f64.ln() + 0.4f64.ln() + 0.7f64.ln()) / 4.0;
        assert!((m.log_loss - ll).abs() < 1e-12);
        assert!((m.accuracy_std - 0.25).abs() < 1e-12);
    }
}
