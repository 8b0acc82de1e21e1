//! One boosting tree fitted to gradients and hessians, grown the way
//! scikit-learn's `TreeGrower` grows it: best first (the leaf whose split
//! lowers the loss most is split next) until `max_leaf_nodes`, `max_depth`
//! or `min_samples_leaf` stop it, with split gains read off per-bin
//! gradient/hessian histograms. A node builds the histogram of its smaller
//! child and gets the larger one by subtraction from its own.
//!
//! Missing values: for a feature that had missing values in training, both
//! sides are tried for them at every split (scanning bins left to right with
//! missing rows right, then right to left with missing rows left) and the
//! better wins; "present left, missing right" is one of the candidates. For
//! a feature without, missing values at prediction follow the child that had
//! more training rows.

use super::binning::{BinMapper, Binned, HISTOGRAM_WIDTH, MISSING_BIN};
use crate::train::cart::ALL_PRESENT_LEFT;

/// A split must leave each child at least this much hessian
/// (scikit-learn's `min_hessian_to_split`).
const MIN_HESSIAN_TO_SPLIT: f64 = 1e-3;

pub(super) struct GrowerParams {
    pub max_leaf_nodes: Option<usize>,
    pub max_depth: u32,
    pub min_samples_leaf: usize,
    pub l2_regularization: f64,
    /// Multiplies every leaf value (the learning rate).
    pub shrinkage: f64,
}

/// A grown tree in creation order: the root first, children after their parent.
pub(super) struct GrownTree {
    pub nodes: Vec<GrownNode>,
}

pub(super) struct GrownNode {
    pub kind: GrownKind,
    /// The training rows that reached the node.
    pub n_samples: usize,
    /// Where its rows sit in [`Grown::samples`].
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum GrownKind {
    Leaf {
        value: f64,
    },
    /// Left when `x[feature] <= threshold`; NaN left iff `missing_left`.
    Split {
        feature: usize,
        threshold: f64,
        missing_left: bool,
        left: usize,
        right: usize,
    },
}

/// A tree and the training rows grouped by the leaf they reached.
pub(super) struct Grown {
    pub tree: GrownTree,
    samples: Vec<u32>,
}

impl Grown {
    /// Each leaf's value and the training rows (indices into the binned rows) in it.
    pub fn leaves(&self) -> impl Iterator<Item = (f64, &[u32])> {
        self.tree.nodes.iter().filter_map(|n| match n.kind {
            GrownKind::Leaf { value } => Some((value, &self.samples[n.start..n.end])),
            GrownKind::Split { .. } => None,
        })
    }
}

impl GrownTree {
    /// The tree's value for raw features `x`, thresholds and all, exactly as
    /// the finished `TreeEnsemble` computes it.
    pub fn predict(&self, x: &[f64]) -> f64 {
        let mut node = 0;
        loop {
            match self.nodes[node].kind {
                GrownKind::Leaf { value } => return value,
                GrownKind::Split {
                    feature,
                    threshold,
                    missing_left,
                    left,
                    right,
                } => {
                    let v = x[feature];
                    let goes_left = if v.is_nan() {
                        missing_left
                    } else {
                        v <= threshold
                    };
                    node = if goes_left { left } else { right };
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct BinTotals {
    gradient: f64,
    hessian: f64,
    count: u32,
}

/// One histogram per feature, `HISTOGRAM_WIDTH` bins each.
type Histogram = Vec<BinTotals>;

#[derive(Debug, Clone, Copy)]
struct SplitInfo {
    gain: f64,
    feature: usize,
    /// Present bins `0..=bin` go left.
    bin: usize,
    missing_left: bool,
    n_left: usize,
    gradient_left: f64,
    hessian_left: f64,
}

/// A node while the tree grows.
struct Open {
    depth: u32,
    gradient: f64,
    hessian: f64,
    histogram: Option<Histogram>,
    split: Option<SplitInfo>,
}

struct Grower<'a> {
    binned: &'a Binned,
    mapper: &'a BinMapper,
    gradients: &'a [f64],
    hessians: &'a [f64],
    params: &'a GrowerParams,
    samples: Vec<u32>,
    nodes: Vec<GrownNode>,
    open: Vec<Open>,
}

/// Grows one tree on all binned rows.
pub(super) fn grow(
    binned: &Binned,
    mapper: &BinMapper,
    gradients: &[f64],
    hessians: &[f64],
    params: &GrowerParams,
) -> Grown {
    let n = binned.n_rows;
    let mut grower = Grower {
        binned,
        mapper,
        gradients,
        hessians,
        params,
        samples: (0..n as u32).collect(),
        nodes: Vec::new(),
        open: Vec::new(),
    };
    grower.run();
    let Grower { nodes, samples, .. } = grower;
    Grown {
        tree: GrownTree { nodes },
        samples,
    }
}

impl Grower<'_> {
    fn run(&mut self) {
        let n = self.binned.n_rows;
        let gradient = self.gradients.iter().sum();
        let hessian = self.hessians.iter().sum();
        self.push_node(0, n, 0, gradient, hessian);
        if n >= 2 * self.params.min_samples_leaf && hessian >= MIN_HESSIAN_TO_SPLIT {
            let histogram = self.histogram(0, n);
            self.open[0].histogram = Some(histogram);
            self.find_split(0);
        }
        let mut n_leaves = 1;
        while let Some(node) = self.most_promising() {
            n_leaves += 1;
            let last = self.params.max_leaf_nodes == Some(n_leaves);
            self.split(node, !last);
            if last {
                break;
            }
        }
        for (node, open) in self.nodes.iter_mut().zip(&self.open) {
            if let GrownKind::Leaf { value } = &mut node.kind {
                *value = self.params.shrinkage
                    * leaf_value(open.gradient, open.hessian, self.params.l2_regularization);
            }
        }
    }

    fn push_node(&mut self, start: usize, end: usize, depth: u32, gradient: f64, hessian: f64) {
        self.nodes.push(GrownNode {
            kind: GrownKind::Leaf { value: 0.0 },
            n_samples: end - start,
            start,
            end,
        });
        self.open.push(Open {
            depth,
            gradient,
            hessian,
            histogram: None,
            split: None,
        });
    }

    /// The splittable leaf with the largest gain; the oldest of equals.
    fn most_promising(&self) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for (i, open) in self.open.iter().enumerate() {
            if let (Some(split), GrownKind::Leaf { .. }) = (open.split, self.nodes[i].kind)
                && best.is_none_or(|(_, gain)| split.gain > gain)
            {
                best = Some((i, split.gain));
            }
        }
        best.map(|(i, _)| i)
    }

    /// Splits leaf `node` as its `split` says; with `grow_on`, finds the
    /// children's own best splits too.
    fn split(&mut self, node: usize, grow_on: bool) {
        let Some(split) = self.open[node].split.take() else {
            return;
        };
        let (start, end) = (self.nodes[node].start, self.nodes[node].end);
        let n_left = self.partition(start, end, &split);
        debug_assert_eq!(n_left, split.n_left);
        let n_right = end - start - n_left;
        let parent = &self.open[node];
        let depth = parent.depth + 1;
        let right_gradient = parent.gradient - split.gradient_left;
        let right_hessian = parent.hessian - split.hessian_left;
        let parent_histogram = self.open[node].histogram.take();
        let left = self.nodes.len();
        self.push_node(
            start,
            start + n_left,
            depth,
            split.gradient_left,
            split.hessian_left,
        );
        self.push_node(start + n_left, end, depth, right_gradient, right_hessian);
        let missing_left = if self.mapper.has_missing[split.feature] {
            split.missing_left
        } else {
            // No missing value in training: NaN follows the larger child
            // (scikit-learn's `TreeGrower.split_next`; ties go right).
            n_left > n_right
        };
        self.nodes[node].kind = GrownKind::Split {
            feature: split.feature,
            threshold: self.threshold(split.feature, split.bin),
            missing_left,
            left,
            right: left + 1,
        };
        if !grow_on || depth >= self.params.max_depth {
            return;
        }
        let min_split = 2 * self.params.min_samples_leaf;
        let splittable = [n_left >= min_split, n_right >= min_split];
        let Some(parent_histogram) = parent_histogram else {
            return;
        };
        if splittable == [false, false] {
            return;
        }
        // Scan the smaller child; the larger one is the parent minus it.
        let (small, large) = if n_left < n_right {
            (left, left + 1)
        } else {
            (left + 1, left)
        };
        let small_histogram = self.histogram(self.nodes[small].start, self.nodes[small].end);
        let large_histogram = parent_histogram
            .iter()
            .zip(&small_histogram)
            .map(|(p, s)| BinTotals {
                gradient: p.gradient - s.gradient,
                hessian: p.hessian - s.hessian,
                count: p.count - s.count,
            })
            .collect();
        self.open[small].histogram = Some(small_histogram);
        self.open[large].histogram = Some(large_histogram);
        for (child, can_split) in [left, left + 1].into_iter().zip(splittable) {
            if can_split {
                self.find_split(child);
            }
            if self.open[child].split.is_none() {
                self.open[child].histogram = None;
            }
        }
    }

    /// The raw-value threshold equivalent to "present bins `0..=bin` go left".
    fn threshold(&self, feature: usize, bin: usize) -> f64 {
        match self.mapper.thresholds[feature].get(bin) {
            Some(t) => *t,
            None => ALL_PRESENT_LEFT,
        }
    }

    /// Moves the rows of `start..end` going left first (each side keeps its
    /// order); returns how many go left.
    fn partition(&mut self, start: usize, end: usize, split: &SplitInfo) -> usize {
        let column = self.binned.column(split.feature);
        let goes_left = |row: u32| {
            let bin = column[row as usize];
            if bin == MISSING_BIN {
                split.missing_left
            } else {
                bin as usize <= split.bin
            }
        };
        let rows = &mut self.samples[start..end];
        let right: Vec<u32> = rows.iter().copied().filter(|&r| !goes_left(r)).collect();
        let mut n_left = 0;
        for i in 0..rows.len() {
            if goes_left(rows[i]) {
                rows[n_left] = rows[i];
                n_left += 1;
            }
        }
        rows[n_left..].copy_from_slice(&right);
        n_left
    }

    fn histogram(&self, start: usize, end: usize) -> Histogram {
        let n_features = self.mapper.thresholds.len();
        let mut histogram = vec![BinTotals::default(); n_features * HISTOGRAM_WIDTH];
        let rows = &self.samples[start..end];
        for (feature, bins) in histogram.chunks_exact_mut(HISTOGRAM_WIDTH).enumerate() {
            let column = self.binned.column(feature);
            for &row in rows {
                let totals = &mut bins[column[row as usize] as usize];
                totals.gradient += self.gradients[row as usize];
                totals.hessian += self.hessians[row as usize];
                totals.count += 1;
            }
        }
        histogram
    }

    /// Finds the best split of `node` with a positive gain, if any, into its
    /// `split` (scikit-learn's `Splitter.find_node_split`).
    fn find_split(&mut self, node: usize) {
        let open = &self.open[node];
        let Some(histogram) = &open.histogram else {
            return;
        };
        let totals = Totals {
            gradient: open.gradient,
            hessian: open.hessian,
            count: self.nodes[node].n_samples,
        };
        let mut best: Option<SplitInfo> = None;
        for (feature, bins) in histogram.chunks_exact(HISTOGRAM_WIDTH).enumerate() {
            let n_bins = self.mapper.n_bins(feature);
            let has_missing = self.mapper.has_missing[feature];
            self.scan_left_to_right(feature, bins, n_bins, has_missing, &totals, &mut best);
            if has_missing {
                self.scan_right_to_left(feature, bins, n_bins, &totals, &mut best);
            }
        }
        self.open[node].split = best;
    }

    /// Present bins `0..=b` left, the rest and missing rows right. When the
    /// feature has missing values, `b` runs up to the last present bin: all
    /// present rows left, missing right.
    fn scan_left_to_right(
        &self,
        feature: usize,
        bins: &[BinTotals],
        n_bins: usize,
        has_missing: bool,
        totals: &Totals,
        best: &mut Option<SplitInfo>,
    ) {
        let end = n_bins - 1 + usize::from(has_missing);
        let mut left = Totals::default();
        for (bin, totals_of_bin) in bins.iter().enumerate().take(end) {
            left.add(totals_of_bin);
            let right = totals.minus(&left);
            if left.count < self.params.min_samples_leaf || left.hessian < MIN_HESSIAN_TO_SPLIT {
                continue;
            }
            if right.count < self.params.min_samples_leaf || right.hessian < MIN_HESSIAN_TO_SPLIT {
                break;
            }
            self.consider(feature, bin, false, &left, &right, totals, best);
        }
    }

    /// Present bins `b+1..` right, the rest and missing rows left.
    fn scan_right_to_left(
        &self,
        feature: usize,
        bins: &[BinTotals],
        n_bins: usize,
        totals: &Totals,
        best: &mut Option<SplitInfo>,
    ) {
        let mut right = Totals::default();
        for bin in (0..n_bins.saturating_sub(1)).rev() {
            right.add(&bins[bin + 1]);
            let left = totals.minus(&right);
            if right.count < self.params.min_samples_leaf || right.hessian < MIN_HESSIAN_TO_SPLIT {
                continue;
            }
            if left.count < self.params.min_samples_leaf || left.hessian < MIN_HESSIAN_TO_SPLIT {
                break;
            }
            self.consider(feature, bin, true, &left, &right, totals, best);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn consider(
        &self,
        feature: usize,
        bin: usize,
        missing_left: bool,
        left: &Totals,
        right: &Totals,
        parent: &Totals,
        best: &mut Option<SplitInfo>,
    ) {
        let l2 = self.params.l2_regularization;
        let gain =
            loss_reduction(left, l2) + loss_reduction(right, l2) - loss_reduction(parent, l2);
        if gain > 0.0 && best.is_none_or(|b| gain > b.gain) {
            *best = Some(SplitInfo {
                gain,
                feature,
                bin,
                missing_left,
                n_left: left.count,
                gradient_left: left.gradient,
                hessian_left: left.hessian,
            });
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    gradient: f64,
    hessian: f64,
    count: usize,
}

impl Totals {
    fn add(&mut self, bin: &BinTotals) {
        self.gradient += bin.gradient;
        self.hessian += bin.hessian;
        self.count += bin.count as usize;
    }

    fn minus(&self, other: &Totals) -> Totals {
        Totals {
            gradient: self.gradient - other.gradient,
            hessian: self.hessian - other.hessian,
            count: self.count - other.count,
        }
    }
}

/// The Newton step of a leaf, `-G / (H + λ)`; scikit-learn adds 1e-15 so
/// that a leaf without curvature gets 0 rather than NaN.
fn leaf_value(gradient: f64, hessian: f64, l2: f64) -> f64 {
    let value = -gradient / (hessian + l2 + 1e-15);
    if value.is_finite() { value } else { 0.0 }
}

/// How much the second-order loss falls when a node takes its best value:
/// `G² / (H + λ)` (XGBoost's equation 7, as scikit-learn's `_split_gain`).
fn loss_reduction(totals: &Totals, l2: f64) -> f64 {
    -totals.gradient * leaf_value(totals.gradient, totals.hessian, l2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::matrix::Matrix;

    fn params(min_samples_leaf: usize) -> GrowerParams {
        GrowerParams {
            max_leaf_nodes: Some(31),
            max_depth: 512,
            min_samples_leaf,
            l2_regularization: 0.0,
            shrinkage: 1.0,
        }
    }

    fn fit(values: &[f64], gradients: &[f64], params: &GrowerParams) -> (BinMapper, Grown) {
        let x = Matrix {
            n_rows: values.len(),
            n_cols: 1,
            data: values.to_vec(),
        };
        let rows: Vec<usize> = (0..values.len()).collect();
        let mapper = BinMapper::fit(&x, &rows, 255);
        let binned = mapper.transform(&x, &rows);
        let hessians = vec![1.0; values.len()];
        let grown = grow(&binned, &mapper, gradients, &hessians, params);
        (mapper, grown)
    }

    fn assert_close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    fn depth(tree: &GrownTree, node: usize) -> u32 {
        match tree.nodes[node].kind {
            GrownKind::Leaf { .. } => 0,
            GrownKind::Split { left, right, .. } => 1 + depth(tree, left).max(depth(tree, right)),
        }
    }

    #[test]
    fn splits_where_the_gradients_change() {
        let values: Vec<f64> = (0..10).map(f64::from).collect();
        let gradients: Vec<f64> = (0..10).map(|i| if i < 6 { 1.0 } else { -1.0 }).collect();
        let (_, grown) = fit(&values, &gradients, &params(1));
        let nodes = &grown.tree.nodes;
        assert_eq!(nodes.len(), 3);
        // More rows went left, so an unseen NaN goes left.
        assert_eq!(
            nodes[0].kind,
            GrownKind::Split {
                feature: 0,
                threshold: 5.5,
                missing_left: true,
                left: 1,
                right: 2
            }
        );
        // Newton steps: -G/H on each side.
        assert_close(grown.tree.predict(&[2.0]), -1.0);
        assert_close(grown.tree.predict(&[8.0]), 1.0);
        assert_close(grown.tree.predict(&[f64::NAN]), -1.0);
        let leaves: Vec<usize> = grown.leaves().map(|(_, rows)| rows.len()).collect();
        assert_eq!(leaves, [6, 4]);
    }

    #[test]
    fn missing_values_take_the_better_side() {
        let mut values: Vec<f64> = (0..10).map(f64::from).collect();
        values.extend([f64::NAN; 4]);
        // Missing rows pull the same way as the low values.
        let gradients: Vec<f64> = (0..14)
            .map(|i| if (5..10).contains(&i) { -1.0 } else { 1.0 })
            .collect();
        let (_, grown) = fit(&values, &gradients, &params(1));
        let GrownKind::Split {
            threshold,
            missing_left,
            ..
        } = grown.tree.nodes[0].kind
        else {
            panic!("no split");
        };
        assert_eq!((threshold, missing_left), (4.5, true));
        // Missing rows alone pull the other way: "present left, missing right".
        let gradients: Vec<f64> = (0..14).map(|i| if i < 10 { 1.0 } else { -1.0 }).collect();
        let (_, grown) = fit(&values, &gradients, &params(1));
        let GrownKind::Split {
            threshold,
            missing_left,
            ..
        } = grown.tree.nodes[0].kind
        else {
            panic!("no split");
        };
        assert_eq!((threshold, missing_left), (ALL_PRESENT_LEFT, false));
    }

    #[test]
    fn limits_are_respected() {
        let values: Vec<f64> = (0..200).map(f64::from).collect();
        let gradients: Vec<f64> = (0..200).map(|i| ((i * 37) % 11) as f64 - 5.0).collect();
        let (_, grown) = fit(&values, &gradients, &params(7));
        let leaves: Vec<usize> = grown.leaves().map(|(_, rows)| rows.len()).collect();
        assert!(leaves.iter().all(|&n| n >= 7), "{leaves:?}");
        assert!(leaves.len() <= 31);
        assert_eq!(leaves.iter().sum::<usize>(), 200);
        let few = GrowerParams {
            max_leaf_nodes: Some(4),
            ..params(1)
        };
        let (_, grown) = fit(&values, &gradients, &few);
        assert_eq!(grown.leaves().count(), 4);
        let shallow = GrowerParams {
            max_depth: 2,
            max_leaf_nodes: None,
            ..params(1)
        };
        let (_, grown) = fit(&values, &gradients, &shallow);
        assert_eq!(depth(&grown.tree, 0), 2);
        let (_, grown) = fit(&values, &gradients, &params(1));
        assert!(depth(&grown.tree, 0) > 2);
    }

    #[test]
    fn too_few_rows_make_a_single_leaf() {
        let (_, grown) = fit(&[1.0, 2.0, 3.0], &[1.0, -1.0, 3.0], &params(2));
        assert_eq!(grown.tree.nodes.len(), 1);
        assert_close(grown.tree.predict(&[0.0]), -1.0);
    }
}
