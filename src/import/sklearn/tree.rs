//! scikit-learn's `Tree` (the `tree_` of every decision tree, forest and
//! gradient boosting stage) into lifeboat's flat [`TreeEnsemble`] arrays.
//!
//! `Tree.__reduce__` gives `(Tree, (n_features, n_classes, n_outputs),
//! {"max_depth", "node_count", "nodes", "values"})`; `nodes` is a record array
//! (`left_child`, `right_child`, `feature`, `threshold`,
//! `weighted_n_node_samples`, `missing_go_to_left` since 1.3, ...), children
//! are numbered after their parent and leaves have `left_child == -1`.

use crate::model::trees::{MAX_DEPTH, Node as TreeNode, Split, Tree, TreeEnsemble};
use crate::quote::quoted;

use super::SklearnError;
use super::object::Obj;

/// One fitted tree, as arrays.
pub struct SkTree {
    pub left: Vec<i64>,
    pub right: Vec<i64>,
    pub feature: Vec<i64>,
    pub threshold: Vec<f64>,
    pub cover: Vec<f64>,
    pub missing_left: Vec<bool>,
    /// `values[node * width .. (node + 1) * width]`, `width = n_outputs × max_n_classes`.
    pub values: Vec<f64>,
    pub width: usize,
}

/// Reads the `tree_` attribute of a fitted tree estimator.
pub fn read(estimator: &Obj) -> Result<SkTree, SklearnError> {
    let tree = estimator.child("tree_")?;
    let nodes = tree.array("nodes")?;
    let field_i = |name: &str| {
        nodes
            .field_i64(name)
            .ok_or_else(|| tree.bad("nodes", format!("has no integer field {}", quoted(name))))
    };
    let field_f = |name: &str| {
        nodes
            .field_f64(name)
            .ok_or_else(|| tree.bad("nodes", format!("has no numeric field {}", quoted(name))))
    };
    let left = field_i("left_child")?;
    let n = left.len();
    // scikit-learn < 1.3 has no missing-value routing; NaN was refused then.
    let missing_left = match nodes.field_f64("missing_go_to_left") {
        Some(m) => m.into_iter().map(|v| v != 0.0).collect(),
        None => vec![false; n],
    };
    let values_array = tree.array("values")?;
    let values = values_array
        .to_f64()
        .ok_or_else(|| tree.bad("values", "should be numbers"))?;
    let width = values_array.shape.iter().skip(1).product::<usize>();
    if values_array.shape.first() != Some(&n) || values.len() != n * width || width == 0 {
        return Err(tree.bad(
            "values",
            format!("has shape {:?} for {n} nodes", values_array.shape),
        ));
    }
    if tree.has("max_depth") && tree.int("max_depth")? > i64::from(MAX_DEPTH) {
        return Err(tree.bad(
            "max_depth",
            format!("is above the {MAX_DEPTH} levels lifeboat serves"),
        ));
    }
    Ok(SkTree {
        right: field_i("right_child")?,
        feature: field_i("feature")?,
        threshold: field_f("threshold")?,
        cover: field_f("weighted_n_node_samples")?,
        missing_left,
        left,
        values,
        width,
    })
}

impl SkTree {
    pub fn len(&self) -> usize {
        self.left.len()
    }

    /// The stored values of node `i` (`n_outputs × max_n_classes`).
    pub fn value(&self, i: usize) -> &[f64] {
        &self.values[i * self.width..(i + 1) * self.width]
    }

    /// Appends this tree to `ensemble`. `leaf(i)` gives the values stored at
    /// leaf `i` (as many as the tree's leaf width in the ensemble), or why
    /// they cannot be used.
    pub fn append_to(
        &self,
        ensemble: &mut TreeEnsemble,
        output: Option<u32>,
        leaf: impl Fn(usize) -> Result<Vec<f64>, String>,
    ) -> Result<(), String> {
        let n = self.len();
        if n == 0 {
            return Err("a tree has no nodes".into());
        }
        let base = ensemble.nodes.len();
        let mut depth = vec![0u32; n];
        // Children come after parents, so a backward pass sees children first.
        for i in (0..n).rev() {
            if self.left[i] < 0 {
                continue;
            }
            let (l, r) = (self.left[i], self.right[i]);
            let child = |c: i64| usize::try_from(c).ok().filter(|c| *c > i && *c < n);
            let (Some(l), Some(r)) = (child(l), child(r)) else {
                return Err(format!(
                    "node {i} has children {l} and {r}, which do not follow it"
                ));
            };
            depth[i] = 1 + depth[l].max(depth[r]);
            if depth[i] > MAX_DEPTH {
                return Err(format!("a tree is deeper than {MAX_DEPTH} levels"));
            }
        }
        for i in 0..n {
            let cover = self.cover.get(i).copied().unwrap_or(0.0);
            let node = if self.left[i] < 0 {
                let values = leaf(i).map_err(|why| format!("leaf node {i} {why}"))?;
                let offset =
                    u32::try_from(ensemble.leaf_values.len()).map_err(|_| "too many leaves")?;
                ensemble.leaf_values.extend(values);
                TreeNode::leaf(offset, cover)
            } else {
                let feature = u32::try_from(self.feature[i])
                    .map_err(|_| format!("node {i} splits on feature {}", self.feature[i]))?;
                let index = |c: i64| {
                    u32::try_from(base + c as usize).map_err(|_| "too many nodes".to_string())
                };
                TreeNode {
                    split: Split::Numeric {
                        feature,
                        threshold: self.threshold[i],
                    },
                    left: index(self.left[i])?,
                    right: index(self.right[i])?,
                    missing_left: self.missing_left[i],
                    cover,
                }
            };
            ensemble.nodes.push(node);
        }
        ensemble.trees.push(Tree {
            root: u32::try_from(base).map_err(|_| "too many nodes")?,
            output,
            depth: depth[0],
        });
        Ok(())
    }
}

/// numpy's `sum` of a contiguous row (pairwise summation, `pairwise_sum` in
/// numpy/_core/src/umath/loops_utils.h), so normalized leaf probabilities are
/// bit-identical to `predict_proba`'s `proba /= proba.sum(axis=1)`.
pub fn numpy_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for v in a {
            res += v;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for (j, slot) in r.iter_mut().enumerate() {
                *slot += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for v in &a[i..] {
            res += v;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        numpy_sum(&a[..n2]) + numpy_sum(&a[n2..])
    }
}

/// How far from 1 the class fractions of a leaf written by scikit-learn >= 1.4
/// may sum (each is a weighted count over the leaf's weight, rounded once).
const FRACTIONS_SUM_TOLERANCE: f64 = 1e-9;

/// Class probabilities at a leaf, as `DecisionTreeClassifier.predict_proba`
/// computes them. scikit-learn >= 1.4 stores class fractions in `tree_.value`
/// and returns them as they are; before, it stored weighted counts and
/// divided the first `k` by their sum (a zero sum counting as 1).
///
/// Values no `fit` writes are refused rather than passed on as
/// probabilities: any that is not a finite number or is negative, and, from
/// 1.4, fractions that do not sum to 1 (`predict_proba` would return them
/// unchanged, so scikit-learn itself would answer "probabilities" such as 2.0).
/// The error completes "leaf node N ...".
pub fn leaf_probabilities(
    values: &[f64],
    k: usize,
    version: (u32, u32),
) -> Result<Vec<f64>, String> {
    let v = &values[..k.min(values.len())];
    let shown = || {
        let mut text: Vec<String> = v.iter().take(6).map(|x| format!("{x}")).collect();
        if v.len() > 6 {
            text.push("...".into());
        }
        format!("[{}]", text.join(", "))
    };
    if v.iter().any(|x| !x.is_finite()) {
        return Err(format!(
            "holds the class values {}, which are not all finite numbers; a classifier's \
             leaf holds class fractions or counts",
            shown()
        ));
    }
    if v.iter().any(|x| *x < 0.0) {
        return Err(format!(
            "holds the class values {}: a classifier's leaf holds class fractions or \
             counts, never a negative number; the file was not written by scikit-learn's \
             fit, or was changed since",
            shown()
        ));
    }
    let sum = numpy_sum(v);
    if version >= (1, 4) {
        if (sum - 1.0).abs() > FRACTIONS_SUM_TOLERANCE {
            return Err(format!(
                "holds the class values {}, which sum to {sum}; scikit-learn {}.{} stores \
                 class fractions that sum to 1 and predict_proba returns them unchanged, so \
                 these would not be probabilities; the file was not written by \
                 scikit-learn's fit, or was changed since",
                shown(),
                version.0,
                version.1
            ));
        }
        return Ok(v.to_vec());
    }
    let sum = if sum == 0.0 { 1.0 } else { sum };
    Ok(v.iter().map(|x| x / sum).collect())
}

/// An empty ensemble to append trees to.
pub fn ensemble(
    n_features: usize,
    n_outputs: usize,
    combine: crate::model::trees::Combine,
    f32_inputs: bool,
) -> TreeEnsemble {
    TreeEnsemble::empty(
        n_features,
        n_outputs,
        combine,
        vec![0.0; n_outputs],
        f32_inputs,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_matches_numpy_blocks() {
        let a: Vec<f64> = (0..300).map(|i| 0.1 * f64::from(i)).collect();
        // Reference values from numpy 2.4: np.sum(np.arange(n) * 0.1)
        assert_eq!(numpy_sum(&a[..5]), 1.0);
        assert_eq!(numpy_sum(&a[..20]), 19.0);
        assert_eq!(numpy_sum(&a), 4485.0);
        assert_eq!(numpy_sum(&a[..133]), 877.800_000_000_000_1);
        assert_eq!(
            leaf_probabilities(&[0.0, 0.0], 2, (1, 3)).unwrap(),
            vec![0.0, 0.0]
        );
        assert_eq!(
            leaf_probabilities(&[1.0, 3.0, 9.0], 2, (1, 3)).unwrap(),
            vec![0.25, 0.75]
        );
        assert_eq!(
            leaf_probabilities(&[0.3, 0.7, 0.0], 2, (1, 9)).unwrap(),
            vec![0.3, 0.7]
        );
    }

    #[test]
    fn leaves_that_are_not_class_fractions_or_counts_are_refused() {
        // Before 1.4, counts are divided by their sum, as predict_proba did.
        assert_eq!(
            leaf_probabilities(&[2.0, 0.5], 2, (1, 3)).unwrap(),
            vec![0.8, 0.2]
        );
        // Fractions that sum to 1 up to rounding are taken as they are.
        let third = 1.0 / 3.0;
        assert_eq!(
            leaf_probabilities(&[third, third, third], 3, (1, 9)).unwrap(),
            vec![third; 3]
        );
        // From 1.4, predict_proba returns the stored values unchanged: values
        // that do not sum to 1 would be answered as probabilities such as 2.
        let err = leaf_probabilities(&[2.0, 0.5], 2, (1, 9)).unwrap_err();
        assert!(
            err.starts_with("holds the class values [2, 0.5], which sum to 2.5; scikit-learn 1.9"),
            "{err}"
        );
        assert!(leaf_probabilities(&[0.0, 0.0], 2, (1, 4)).is_err());
        // Negative values, in any version, even when they sum to 1.
        for version in [(0, 24), (1, 3), (1, 4), (1, 9)] {
            let err = leaf_probabilities(&[-1.0, 2.0], 2, version).unwrap_err();
            assert!(
                err.contains("[-1, 2]") && err.contains("never a negative number"),
                "{err}"
            );
        }
        let err = leaf_probabilities(&[f64::NAN, 1.0], 2, (1, 9)).unwrap_err();
        assert!(err.contains("[NaN, 1]"), "{err}");
        // Only the first k values are the classes' (the rest is padding).
        assert!(leaf_probabilities(&[0.5, 0.5, -7.0], 2, (1, 9)).is_ok());
    }
}
