//! The compact form a [`TreeEnsemble`] runs in: built once when the ensemble
//! is checked (every load, import and training ends in a check), never stored,
//! so the `.lifeboat` format does not change.
//!
//! Each node is 16 bytes (threshold, feature with flags, right child); the
//! left child is always the next node (each tree is laid out depth first), and
//! the leaf values of every tree are copied next to each other. A leaf keeps
//! the offset of its values in the bits of a NaN threshold and points to
//! itself on both sides, so walking on from a leaf stays there: many rows can
//! walk one tree in lockstep without branching on where each one is. One
//! row (a prediction) walks eight trees at a time that way, from a copy of
//! its features padded to 256, so that reading a feature is one byte load
//! and no bounds check: the low byte of a node's feature word is the
//! feature itself whenever a row has at most 256 of them. The nodes are
//! padded too, to a power of two, so that a node index masked with the
//! length less one is the same index and needs no bounds check either.
//! Both save about 4,000 of a 100-tree forest's 57,000 instructions per JSON
//! prediction, in safe code.
//!
//! Where every tree has at most 64 leaves (boosting's usual trees), one
//! row does not walk at all: `exit_leaves` finds each tree's leaf from the
//! splits the row fails, which takes the built-in boosted model's
//! prediction from about 1.25 to 0.87 µs, and its JSON predict from 54.1 k to
//! 41.0 k instructions under callgrind.
//!
//! Answers are bit-identical to [`TreeEnsemble::raw_plain`]: the same
//! comparisons (on the same, possibly f32-rounded, inputs), the same leaves,
//! and the leaf values added in the same order, tree by tree.

use std::hint::select_unpredictable;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use super::shap_table::LeafTable;

mod exit_leaves;
use super::trees::{Combine, MAX_DEPTH, Split, TreeEnsemble};
use exit_leaves::ExitLeaves;

/// The node is a leaf (`feature & FEATURE` is then 0, so reading it is harmless).
const LEAF: u32 = 1 << 31;
/// The node splits on a category set (`threshold` holds where the set is).
const CATEGORICAL: u32 = 1 << 30;
/// A missing (NaN) value goes left.
const MISSING_LEFT: u32 = 1 << 29;
/// The feature index, below the flags.
const FEATURE: u32 = MISSING_LEFT - 1;
/// A quiet NaN; a leaf's value offset is in its low 32 bits.
const NAN_BITS: u64 = 0x7ff8_0000_0000_0000;
/// Rows that walk one tree together.
const LANES: usize = 8;
/// Rows of up to this many features are walked from a copy this long, so
/// that a feature index masked to it (its low byte) needs no bounds check.
/// Zeroing the copy (2 KB) costs less than the checks and masks it saves.
const PADDED: usize = 256;
/// Rows scored tree by tree together, so each tree stays in cache.
pub(crate) const BLOCK: usize = 512;

#[derive(Debug, Clone, Copy)]
#[repr(C, align(16))]
struct Node {
    threshold: f64,
    feature: u32,
    /// The right child; a leaf's own index.
    right: u32,
}

impl PartialEq for Node {
    fn eq(&self, other: &Node) -> bool {
        self.threshold.to_bits() == other.threshold.to_bits()
            && self.feature == other.feature
            && self.right == other.right
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct CTree {
    root: u32,
    /// The raw output each leaf value adds to; `ALL`: one value per output.
    output: u32,
    /// Has a categorical split: walked one row at a time.
    categorical: bool,
}

const ALL: u32 = u32::MAX;

/// Array lengths the compact form was built from: a cheap guard against
/// trees appended after it was built.
type Shape = [usize; 6];

#[derive(Debug, PartialEq)]
pub(crate) struct Compact {
    /// Every tree's nodes, then unreachable leaves up to a power of two, so
    /// that `index & (len - 1)` is the index itself and needs no bounds check.
    nodes: Vec<Node>,
    values: Vec<f64>,
    bitsets: Vec<u32>,
    trees: Vec<CTree>,
    n_features: usize,
    n_outputs: usize,
    shape: Shape,
    /// The ensemble's expected raw score (TreeSHAP's base value): a walk of
    /// every node, so it is worked out here once rather than per explanation.
    expected: Vec<f64>,
    /// One row's exit leaves found from the splits it fails, for ensembles
    /// of small numeric trees (see `exit_leaves`); else one row walks.
    exit: Option<ExitLeaves>,
}

fn shape(e: &TreeEnsemble) -> Shape {
    [
        e.trees.len(),
        e.nodes.len(),
        e.leaf_values.len(),
        e.bitsets.len(),
        e.n_features as usize,
        e.n_outputs as usize,
    ]
}

impl Compact {
    pub(crate) fn expected(&self) -> &[f64] {
        &self.expected
    }

    /// The compact form of `e`, or `None` if `e` is not sound (the plain walk
    /// then runs, as it always did) or is too large for the flags.
    pub(crate) fn build(e: &TreeEnsemble) -> Option<Compact> {
        let n_features = e.n_features as usize;
        if n_features == 0 || n_features > FEATURE as usize || e.n_outputs == 0 {
            return None;
        }
        let mut c = Compact {
            nodes: Vec::with_capacity(e.nodes.len()),
            values: Vec::with_capacity(e.leaf_values.len()),
            bitsets: e.bitsets.clone(),
            trees: Vec::with_capacity(e.trees.len()),
            n_features,
            n_outputs: e.n_outputs as usize,
            shape: shape(e),
            expected: e.expected_value_walk(),
            exit: None,
        };
        for tree in &e.trees {
            let output = match tree.output {
                Some(k) if k < e.n_outputs => k,
                Some(_) => return None,
                None => ALL,
            };
            let width = e.leaf_width(tree);
            let mut categorical = false;
            let root = c.emit(e, tree.root as usize, width, 0, &mut categorical)?;
            c.trees.push(CTree {
                root,
                output,
                categorical,
            });
        }
        u32::try_from(c.values.len()).ok()?;
        let depths = e.trees.iter().map(|t| t.depth as usize).sum();
        let emitted = c.nodes.len();
        if ExitLeaves::one_word_trees(&c, emitted) {
            c.exit = ExitLeaves::build(&c, emitted).filter(|x| x.cheaper_than_walking(depths));
        }
        // Pad to a power of two (see `nodes`) with leaves no node points to.
        let padded = c.nodes.len().max(1).checked_next_power_of_two()?;
        u32::try_from(padded).ok()?;
        while c.nodes.len() < padded {
            let index = c.nodes.len() as u32;
            c.nodes.push(Node {
                threshold: f64::from_bits(NAN_BITS),
                feature: LEAF,
                right: index,
            });
        }
        Some(c)
    }

    /// Appends the subtree under `node` depth first; returns its index.
    fn emit(
        &mut self,
        e: &TreeEnsemble,
        node: usize,
        width: usize,
        level: u32,
        categorical: &mut bool,
    ) -> Option<u32> {
        if level > MAX_DEPTH {
            return None;
        }
        let n = e.nodes.get(node)?;
        let index = u32::try_from(self.nodes.len()).ok()?;
        let flag = |f: u32| -> Option<u32> {
            if (f as usize) >= self.n_features {
                return None;
            }
            Some(f | if n.missing_left { MISSING_LEFT } else { 0 })
        };
        let (threshold, feature) = match n.split {
            Split::Leaf { value } => {
                let values = e.leaf_values.get(value as usize..value as usize + width)?;
                let offset = self.values.len() as u64;
                self.values.extend_from_slice(values);
                self.nodes.push(Node {
                    threshold: f64::from_bits(NAN_BITS | offset),
                    feature: LEAF,
                    right: index,
                });
                return Some(index);
            }
            Split::Numeric { feature, threshold } => {
                if threshold.is_nan() {
                    return None;
                }
                (threshold, flag(feature)?)
            }
            Split::Categorical {
                feature,
                start,
                words,
            } => {
                if words == 0 || start as usize + words as usize > e.bitsets.len() {
                    return None;
                }
                *categorical = true;
                let at = f64::from_bits((start as u64) << 32 | words as u64);
                (at, flag(feature)? | CATEGORICAL)
            }
        };
        // Children must come after their parent, as `check` requires: no cycles.
        if n.left as usize <= node || n.right as usize <= node {
            return None;
        }
        self.nodes.push(Node {
            threshold,
            feature,
            right: 0,
        });
        let left = self.emit(e, n.left as usize, width, level + 1, categorical)?;
        debug_assert_eq!(left, index + 1);
        let right = self.emit(e, n.right as usize, width, level + 1, categorical)?;
        self.nodes[index as usize].right = right;
        Some(index)
    }

    /// The nodes and the mask that keeps an index in them without a bounds
    /// check: every index a walk holds is below the length, a power of two
    /// (`build`), so masking leaves it as it is; slicing to `mask + 1` lets
    /// the compiler see that the masked index is in bounds.
    #[inline(always)]
    fn masked(&self) -> (&[Node], usize) {
        debug_assert!(self.nodes.len().is_power_of_two());
        let mask = self.nodes.len() - 1;
        (&self.nodes[..=mask], mask)
    }

    /// Whether this was built from arrays of `e`'s lengths.
    fn fits(&self, e: &TreeEnsemble) -> bool {
        self.shape == shape(e)
    }

    /// The offset in `values` of the leaf `x` reaches from `root`.
    #[inline]
    fn leaf(&self, root: u32, x: &[f64]) -> usize {
        let (nodes, mask) = self.masked();
        let mut at = root as usize;
        loop {
            let node = nodes[at & mask];
            let left = if node.feature & (LEAF | CATEGORICAL) == 0 {
                let v = x[(node.feature & FEATURE) as usize];
                (v <= node.threshold) | (v.is_nan() & (node.feature & MISSING_LEFT != 0))
            } else if node.feature & LEAF != 0 {
                return node.threshold.to_bits() as u32 as usize;
            } else {
                self.category_left(node, x)
            };
            at = if left { at + 1 } else { node.right as usize };
        }
    }

    /// The categorical test of [`TreeEnsemble::goes_left`].
    #[cold]
    fn category_left(&self, node: Node, x: &[f64]) -> bool {
        let v = x[(node.feature & FEATURE) as usize];
        let bits = node.threshold.to_bits();
        let (start, words) = ((bits >> 32) as usize, bits as u32);
        let in_range = v >= 0.0 && v.fract() == 0.0 && v < (words as f64) * 32.0;
        if !in_range {
            return node.feature & MISSING_LEFT != 0;
        }
        let c = v as usize;
        self.bitsets[start + c / 32] >> (c % 32) & 1 == 1
    }

    /// The leaves `LANES` walks reach together, each from `at[lane]` with the
    /// features at `x[from[lane]..]` (numeric splits only): rows through one
    /// tree, or one row through several trees. Leaves point to themselves, so
    /// the walk ends when every lane stands on one. `MISSING`: some value may
    /// be NaN (without any, `v <= threshold` alone decides).
    #[inline(always)]
    fn walk<const MISSING: bool>(
        &self,
        mut at: [usize; LANES],
        x: &[f64],
        from: [usize; LANES],
    ) -> [usize; LANES] {
        let (nodes, mask) = self.masked();
        loop {
            let mut all = LEAF;
            for lane in 0..LANES {
                let node = nodes[at[lane] & mask];
                all &= node.feature;
                let v = x[from[lane] + (node.feature & FEATURE) as usize];
                let left = if MISSING {
                    (v <= node.threshold) | (v.is_nan() & (node.feature & MISSING_LEFT != 0))
                } else {
                    v <= node.threshold
                };
                // Without a branch: where rows go is data, not a pattern.
                at[lane] = select_unpredictable(left, at[lane] + 1, node.right as usize);
            }
            if all & LEAF != 0 {
                return at.map(|a| nodes[a & mask].threshold.to_bits() as u32 as usize);
            }
        }
    }

    /// [`Compact::walk`] of one row of at most [`PADDED`] features, padded:
    /// every index is masked into the copy, so none is checked. Masking
    /// keeps the feature (below `PADDED` when `n_features` is) and drops the
    /// flags; a leaf reads `x[0]`, harmlessly.
    #[inline(always)]
    fn walk_padded<const MISSING: bool>(
        &self,
        mut at: [usize; LANES],
        x: &[f64; PADDED],
    ) -> [usize; LANES] {
        let (nodes, mask) = self.masked();
        loop {
            let mut all = LEAF;
            for at in at.iter_mut() {
                let node = nodes[*at & mask];
                all &= node.feature;
                let v = x[node.feature as usize & (PADDED - 1)];
                let left = if MISSING {
                    (v <= node.threshold) | (v.is_nan() & (node.feature & MISSING_LEFT != 0))
                } else {
                    v <= node.threshold
                };
                *at = select_unpredictable(left, *at + 1, node.right as usize);
            }
            if all & LEAF != 0 {
                return at.map(|a| nodes[a & mask].threshold.to_bits() as u32 as usize);
            }
        }
    }

    #[inline]
    fn add(&self, tree: &CTree, leaf: usize, out: &mut [f64]) {
        if tree.output == ALL {
            let values = &self.values[leaf..leaf + out.len()];
            for (o, v) in out.iter_mut().zip(values) {
                *o += v;
            }
        } else {
            out[tree.output as usize] += self.values[leaf];
        }
    }

    /// [`TreeEnsemble::raw`] of one prepared feature vector: from the
    /// splits it fails where the trees are small enough, else walked.
    pub(crate) fn raw(&self, e: &TreeEnsemble, x: &[f64], out: &mut [f64]) {
        match &self.exit {
            Some(exit) => {
                out.fill(0.0);
                exit.add(self, &x[..self.n_features], out);
                finish(e, out);
            }
            None => self.raw_walk(e, x, out),
        }
    }

    /// [`Compact::raw`] by walking: `LANES` trees at a time walk together.
    fn raw_walk(&self, e: &TreeEnsemble, x: &[f64], out: &mut [f64]) {
        let x = &x[..self.n_features];
        let missing = x.iter().any(|v| v.is_nan());
        let mut padded = [0.0; PADDED];
        let fits = x.len() <= PADDED;
        if fits {
            padded[..x.len()].copy_from_slice(x);
        }
        out.fill(0.0);
        for group in self.trees.chunks(LANES) {
            if group.len() == LANES && !group.iter().any(|t| t.categorical) {
                let roots = std::array::from_fn(|t| group[t].root as usize);
                let leaves = match (fits, missing) {
                    (true, true) => self.walk_padded::<true>(roots, &padded),
                    (true, false) => self.walk_padded::<false>(roots, &padded),
                    (false, true) => self.walk::<true>(roots, x, [0; LANES]),
                    (false, false) => self.walk::<false>(roots, x, [0; LANES]),
                };
                for (tree, leaf) in group.iter().zip(leaves) {
                    self.add(tree, leaf, out);
                }
            } else {
                for tree in group {
                    let leaf = self.leaf(tree.root, x);
                    self.add(tree, leaf, out);
                }
            }
        }
        finish(e, out);
    }

    /// Raw scores of the rows in `x` (prepared, `n_features` each) into `out`
    /// (`n_outputs` each): row by row from the splits they fail where the
    /// trees are small enough (1 M rows of the built-in gradient boosting
    /// through `lifeboat predict` took 1.12 to 1.17 s so, 1.45 to 1.65 s
    /// walked), else walked.
    pub(crate) fn raw_batch(&self, e: &TreeEnsemble, x: &[f64], out: &mut [f64]) {
        let (nf, no) = (self.n_features, self.n_outputs);
        let Some(exit) = &self.exit else {
            return self.raw_batch_walk(e, x, out);
        };
        for (x, o) in x.chunks(nf).zip(out.chunks_mut(no)) {
            o.fill(0.0);
            exit.add(self, x, o);
            finish(e, o);
        }
    }

    /// [`Compact::raw_batch`] by walking: tree by tree over blocks of rows.
    fn raw_batch_walk(&self, e: &TreeEnsemble, x: &[f64], out: &mut [f64]) {
        let (nf, no) = (self.n_features, self.n_outputs);
        out.fill(0.0);
        for (xb, ob) in x.chunks(BLOCK * nf).zip(out.chunks_mut(BLOCK * no)) {
            let rows = ob.len() / no;
            let missing = xb.iter().any(|v| v.is_nan());
            for tree in &self.trees {
                let mut r = 0;
                if !tree.categorical {
                    while r + LANES <= rows {
                        let x = &xb[r * nf..(r + LANES) * nf];
                        let roots = [tree.root as usize; LANES];
                        let from = std::array::from_fn(|lane| lane * nf);
                        let leaves = if missing {
                            self.walk::<true>(roots, x, from)
                        } else {
                            self.walk::<false>(roots, x, from)
                        };
                        for (lane, leaf) in leaves.into_iter().enumerate() {
                            let row = r + lane;
                            self.add(tree, leaf, &mut ob[row * no..(row + 1) * no]);
                        }
                        r += LANES;
                    }
                }
                for row in r..rows {
                    let leaf = self.leaf(tree.root, &xb[row * nf..(row + 1) * nf]);
                    self.add(tree, leaf, &mut ob[row * no..(row + 1) * no]);
                }
            }
            for o in ob.chunks_mut(no) {
                finish(e, o);
            }
        }
    }
}

/// Combines the summed tree outputs and adds the base score, as the plain walk does.
#[inline]
pub(crate) fn finish(e: &TreeEnsemble, out: &mut [f64]) {
    if e.combine == Combine::Mean && !e.trees.is_empty() {
        let n = e.trees.len() as f64;
        for o in out.iter_mut() {
            *o /= n;
        }
    }
    for (o, b) in out.iter_mut().zip(&e.base_score) {
        *o += b;
    }
}

/// Where a `TreeEnsemble` keeps its compact form. Not stored in files
/// (`#[serde(skip)]`), ignored by `==`, shared by clones.
#[derive(Default)]
pub struct Runtime {
    compact: OnceLock<Option<Arc<Compact>>>,
    /// TreeSHAP's table of leaves, built by the first explanation.
    leaf_table: OnceLock<Option<Arc<LeafTable>>>,
    /// Set when a check found the arrays changed since the compact form was
    /// built: the plain walk runs from then on.
    stale: AtomicBool,
}

impl Runtime {
    /// Builds the compact form of `e` the first time; on later calls, makes
    /// sure it still matches `e`'s arrays (else stops using it).
    pub(crate) fn prepare(&self, e: &TreeEnsemble) {
        let mut fresh = None;
        let built = self.compact.get_or_init(|| {
            fresh = Some(());
            Compact::build(e).map(Arc::new)
        });
        if fresh.is_none() && built.as_deref() != Compact::build(e).as_ref() {
            self.stale.store(true, Ordering::Relaxed);
        }
    }

    /// The compact form, if it is built and still fits `e`.
    #[inline]
    pub(crate) fn get(&self, e: &TreeEnsemble) -> Option<&Compact> {
        let c = self.compact.get()?.as_deref()?;
        (c.fits(e) && !self.stale.load(Ordering::Relaxed)).then_some(c)
    }

    /// The leaf table of `e` for TreeSHAP, built on first use, while the
    /// compact form fits `e` (so `e` passed its check and has not changed).
    pub(crate) fn leaf_table(&self, e: &TreeEnsemble) -> Option<&LeafTable> {
        self.get(e)?;
        self.leaf_table
            .get_or_init(|| LeafTable::build(e).map(Arc::new))
            .as_deref()
    }
}

impl Clone for Runtime {
    fn clone(&self) -> Runtime {
        let compact = OnceLock::new();
        if let Some(c) = self.compact.get() {
            let _ = compact.set(c.clone());
        }
        let leaf_table = OnceLock::new();
        if let Some(t) = self.leaf_table.get() {
            let _ = leaf_table.set(t.clone());
        }
        Runtime {
            compact,
            leaf_table,
            stale: AtomicBool::new(self.stale.load(Ordering::Relaxed)),
        }
    }
}

impl PartialEq for Runtime {
    fn eq(&self, _: &Runtime) -> bool {
        true
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let built = matches!(self.compact.get(), Some(Some(_)));
        f.debug_struct("Runtime").field("built", &built).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::trees::{Node, Tree};
    use crate::train::cart::tests::xor;

    /// A small seeded generator (tests only).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 33
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn unit(&mut self) -> f64 {
            self.next() as f64 / (1u64 << 31) as f64
        }
    }

    /// Rows around the thresholds (which are in 0..4): some NaN, some exactly
    /// on a threshold, some categories out of range, some needing f32 rounding.
    fn rows(rng: &mut Lcg, n_features: usize, n: usize) -> Vec<f64> {
        (0..n * n_features)
            .map(|_| match rng.below(10) {
                0 => f64::NAN,
                1 => rng.below(5) as f64 * 0.5,
                2 => rng.below(40) as f64,
                3 => 0.5 + 1e-12,
                4 => -(rng.unit() * 3.0),
                _ => rng.unit() * 4.0,
            })
            .collect()
    }

    /// A random ensemble with numeric and categorical splits, both missing
    /// sides, per-class or full-width leaves, `n_trees` trees.
    fn random_ensemble(
        rng: &mut Lcg,
        nf: usize,
        n_trees: u32,
        per_class: bool,
        categorical: bool,
    ) -> TreeEnsemble {
        let no = 3;
        let combine = if per_class {
            Combine::Sum
        } else {
            Combine::Mean
        };
        let base = (0..no).map(|k| k as f64 * 0.1 - 0.05).collect();
        let mut e = TreeEnsemble::empty(nf, no, combine, base, rng.below(2) == 0);
        for t in 0..n_trees {
            let output = per_class.then_some(t % no as u32);
            let width = if per_class { 1 } else { no };
            let depth = 1 + rng.below(7) as u32;
            let root = grow(&mut e, rng, depth, width, categorical);
            let depth = e.depth_of(root as usize);
            e.trees.push(Tree {
                root,
                output,
                depth,
            });
        }
        e.check().unwrap();
        e
    }

    fn grow(e: &mut TreeEnsemble, rng: &mut Lcg, depth: u32, width: usize, cat: bool) -> u32 {
        let index = e.nodes.len() as u32;
        if depth == 0 || rng.below(6) == 0 {
            let value = e.leaf_values.len() as u32;
            for _ in 0..width {
                e.leaf_values.push(rng.unit() * 2.0 - 1.0);
            }
            e.nodes.push(Node::leaf(value, 1.0));
            return index;
        }
        let feature = rng.below(e.n_features as u64) as u32;
        let split = if cat && rng.below(4) == 0 {
            let start = e.bitsets.len() as u32;
            let words = 1 + rng.below(2) as u32;
            for _ in 0..words {
                e.bitsets.push(rng.next() as u32);
            }
            Split::Categorical {
                feature,
                start,
                words,
            }
        } else {
            Split::Numeric {
                feature,
                threshold: rng.below(9) as f64 * 0.5,
            }
        };
        e.nodes.push(Node {
            split,
            left: 0,
            right: 0,
            missing_left: rng.below(2) == 0,
            cover: 1.0,
        });
        let left = grow(e, rng, depth - 1, width, cat);
        let right = grow(e, rng, depth - 1, width, cat);
        e.nodes[index as usize].left = left;
        e.nodes[index as usize].right = right;
        index
    }

    /// The compact walk, row by row and in blocks, gives the plain walk's
    /// answers bit for bit on `n` rows (odd counts, so the lockstep groups
    /// and the remainder both run).
    fn assert_same(e: &TreeEnsemble, x: &[f64]) {
        assert!(e.runtime.get(e).is_some(), "the compact form is built");
        let (nf, no) = (e.n_features as usize, e.n_outputs as usize);
        let n = x.len() / nf;
        let mut plain = vec![0.0; n * no];
        let mut one = vec![0.0; n * no];
        let mut walked = vec![0.0; n * no];
        let mut blocked = vec![0.0; n * no];
        let mut blocks_walked = vec![0.0; n * no];
        let compact = e.runtime.get(e).unwrap();
        let mut prepared = Vec::new();
        for (((x, p), o), w) in x
            .chunks(nf)
            .zip(plain.chunks_mut(no))
            .zip(one.chunks_mut(no))
            .zip(walked.chunks_mut(no))
        {
            e.raw_plain(x, p);
            e.raw(x, o);
            compact.raw_walk(e, e.prepare(x, &mut prepared), w);
        }
        e.raw_batch(x, &mut blocked);
        let prepared: Vec<f64> = x
            .chunks(nf)
            .flat_map(|x| e.prepare(x, &mut Vec::new()).to_vec())
            .collect();
        compact.raw_batch_walk(e, &prepared, &mut blocks_walked);
        let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&plain), bits(&one), "one row at a time");
        assert_eq!(bits(&plain), bits(&walked), "one row at a time, walked");
        assert_eq!(bits(&plain), bits(&blocks_walked), "in blocks, walked");
        assert_eq!(bits(&plain), bits(&blocked), "in blocks");
    }

    #[test]
    fn random_ensembles_agree_with_the_plain_walk() {
        let mut rng = Lcg(7);
        for case in 0..60 {
            let n_trees = [1, 3, 8, 9, 17, 40][case % 6];
            let e = random_ensemble(&mut rng, 4, n_trees, case % 2 == 0, case % 3 != 0);
            let n = [1, 7, 8, 33, BLOCK + 13][case % 5];
            let x = rows(&mut rng, e.n_features as usize, n);
            assert_same(&e, &x);
            assert!(e.runtime.get(&e).is_some());
            let bits = |v: Vec<f64>| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(e.expected_value()), bits(e.expected_value_walk()));
            // Without any NaN, the blocks take the faster comparison.
            let x: Vec<f64> = x
                .iter()
                .map(|v| if v.is_nan() { 1.0 } else { *v })
                .collect();
            assert_same(&e, &x);
        }
    }

    /// Exit leaves, used or not, give the plain walk's answers bit for bit.
    fn assert_exit_same(e: &TreeEnsemble, exit: &ExitLeaves, x: &[f64]) {
        let c = e.runtime.get(e).unwrap();
        let (nf, no) = (e.n_features as usize, e.n_outputs as usize);
        let mut prepared = Vec::new();
        for x in x.chunks(nf) {
            let (mut plain, mut found) = (vec![0.0; no], vec![0.0; no]);
            e.raw_plain(x, &mut plain);
            exit.add(c, e.prepare(x, &mut prepared), &mut found);
            finish(e, &mut found);
            let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&plain), bits(&found), "row {x:?}");
        }
    }

    #[test]
    fn exit_leaves_are_the_walks() {
        let mut rng = Lcg(31);
        let (mut found, mut checkpoints, mut wide, mut used) = (0, 0, 0, 0);
        for case in 0..80 {
            let n_trees = [1, 2, 9, 40][case % 4];
            let categorical = case % 5 == 0;
            let mut e = random_ensemble(&mut rng, 3, n_trees, case % 2 == 0, categorical);
            if case % 3 == 1 {
                // Trees of hundreds of leaves, whose bits span several words.
                let width = e.n_outputs as usize;
                let root = grow(&mut e, &mut rng, 10, width, false);
                let depth = e.depth_of(root as usize);
                e.trees.push(Tree {
                    root,
                    output: None,
                    depth,
                });
                // A fresh runtime: the old one saw the ensemble change.
                e.runtime = Runtime::default();
                e.check().unwrap();
            }
            let numeric = !e
                .nodes
                .iter()
                .any(|n| matches!(n.split, Split::Categorical { .. }));
            let c = Compact::build(&e).unwrap();
            let exit = ExitLeaves::build(&c, e.nodes.len());
            assert_eq!(exit.is_some(), numeric, "case {case}");
            used += usize::from(c.exit.is_some());
            assert_same(&e, &rows(&mut rng, 3, 50));
            if let Some(exit) = exit {
                found += 1;
                checkpoints += usize::from(exit.has_checkpoints());
                wide += usize::from(exit.spans_words());
                assert_exit_same(&e, &exit, &rows(&mut rng, 3, 200));
            }
        }
        assert!(found > 40, "{found} of 80 ensembles had exit leaves");
        assert!(checkpoints > 10, "{checkpoints} of them had checkpoints");
        assert!(wide > 10, "{wide} of them had trees of several words");
        assert!(used > 10, "{used} of them used exit leaves");
        // Trees of one word, exactly, and of two.
        for leaves in [64, 65, 129] {
            let mut e = TreeEnsemble::empty(1, 1, Combine::Sum, vec![0.0], false);
            let root = comb(&mut e, leaves);
            e.trees.push(Tree {
                root,
                output: Some(0),
                depth: e.depth_of(root as usize),
            });
            e.check().unwrap();
            let exit = ExitLeaves::build(&Compact::build(&e).unwrap(), e.nodes.len()).unwrap();
            let x: Vec<f64> = (0..=2 * leaves).map(|i| i as f64 * 0.5 - 0.25).collect();
            assert_exit_same(&e, &exit, &x);
            assert_exit_same(&e, &exit, &[f64::NAN]);
        }
    }

    #[test]
    fn ensembles_of_huge_trees_walk() {
        let mut rng = Lcg(5);
        let mut e = TreeEnsemble::empty(8, 1, Combine::Sum, vec![0.0], false);
        for _ in 0..8 {
            let root = grow(&mut e, &mut rng, 16, 1, false);
            let depth = e.depth_of(root as usize);
            e.trees.push(Tree {
                root,
                output: Some(0),
                depth,
            });
        }
        e.check().unwrap();
        let c = Compact::build(&e).unwrap();
        let exit = ExitLeaves::build(&c, e.nodes.len()).unwrap();
        assert!(c.exit.is_none(), "{} nodes", e.nodes.len());
        assert!(!ExitLeaves::one_word_trees(&c, e.nodes.len()));
        assert_exit_same(&e, &exit, &rows(&mut rng, 8, 100));
        assert_same(&e, &rows(&mut rng, 8, 100));
    }

    /// A tree of `leaves` leaves in a chain to the right: split `k` sends
    /// `x <= k` to leaf `k` (whose value is `k`).
    fn comb(e: &mut TreeEnsemble, leaves: usize) -> u32 {
        let first = e.nodes.len() as u32;
        for k in 0..leaves - 1 {
            let split = e.nodes.len() as u32;
            e.nodes.push(Node {
                split: Split::Numeric {
                    feature: 0,
                    threshold: k as f64,
                },
                left: split + 1,
                right: split + 2,
                missing_left: k % 2 == 0,
                cover: 1.0,
            });
            e.leaf_values.push(k as f64);
            e.nodes
                .push(Node::leaf(e.leaf_values.len() as u32 - 1, 1.0));
        }
        e.leaf_values.push((leaves - 1) as f64);
        e.nodes
            .push(Node::leaf(e.leaf_values.len() as u32 - 1, 1.0));
        first
    }

    #[test]
    fn nodes_are_padded_to_a_power_of_two_with_unreachable_leaves() {
        // Walks mask node indices with `len - 1`: any other length would
        // send rows to the wrong nodes (or round a leaf-less loop forever).
        let mut rng = Lcg(23);
        for n_trees in [1, 2, 3, 5, 8, 9, 30] {
            let e = random_ensemble(&mut rng, 4, n_trees, false, true);
            let c = Compact::build(&e).unwrap();
            assert!(c.nodes.len().is_power_of_two(), "{} nodes", c.nodes.len());
            assert!(c.nodes.len() >= e.nodes.len());
            for (i, node) in c.nodes.iter().enumerate().skip(e.nodes.len()) {
                assert_eq!((node.feature, node.right as usize), (LEAF, i));
            }
            for node in &c.nodes[..e.nodes.len()] {
                assert!(
                    (node.right as usize) < e.nodes.len(),
                    "no node points past the trees"
                );
            }
        }
    }

    #[test]
    fn wide_rows_agree_with_the_plain_walk() {
        // Up to `PADDED` features, a row is walked from a padded copy; wider
        // rows are walked in place. Numeric splits only, so every group of
        // `LANES` trees walks in lockstep.
        let mut rng = Lcg(19);
        for nf in [PADDED - 1, PADDED, PADDED + 1, 300] {
            for per_class in [false, true] {
                let e = random_ensemble(&mut rng, nf, 24, per_class, false);
                let x = rows(&mut rng, nf, 101);
                assert_same(&e, &x);
            }
        }
    }

    #[test]
    fn trained_forests_and_boosting_agree_with_the_plain_walk() {
        let (x, y) = xor(400, 3);
        let params = crate::train::forest::ForestParams {
            n_trees: 20,
            ..Default::default()
        };
        let forest = crate::train::forest::random_forest(&x, &y, 2, &params, 5).unwrap();
        let gbdt = crate::train::gbdt::gradient_boosting(&x, &y, 2, &Default::default(), 5)
            .unwrap()
            .ensemble;
        let (x3, y3) = (
            &x,
            y.iter()
                .map(|c| c + (*c == 0) as u32 * 2)
                .collect::<Vec<_>>(),
        );
        let multi = crate::train::gbdt::gradient_boosting(x3, &y3, 3, &Default::default(), 5)
            .unwrap()
            .ensemble;
        let mut rng = Lcg(11);
        for e in [&forest, &gbdt, &multi] {
            e.check().unwrap();
            assert_same(e, &x.data);
            assert_same(e, &rows(&mut rng, e.n_features as usize, 1000));
        }
    }

    #[test]
    fn imported_scikit_learn_trees_agree_with_the_plain_walk() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sklearn");
        let mut rng = Lcg(13);
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.ends_with(".p5.pkl") {
                continue;
            }
            let Ok(model) = crate::import::from_path(&path, None) else {
                continue;
            };
            let super::super::Estimator::Trees(e) = &model.estimator else {
                continue;
            };
            let x = rows(&mut rng, e.n_features as usize, 700);
            assert_same(e, &x);
            seen += 1;
        }
        assert!(seen >= 15, "only {seen} tree fixtures");
    }

    #[test]
    fn edits_after_the_check_turn_the_compact_form_off() {
        let mut rng = Lcg(17);
        let mut e = random_ensemble(&mut rng, 4, 9, false, false);
        assert!(e.runtime.get(&e).is_some());
        // Appending is noticed at once; editing in place at the next check.
        let mut appended = e.clone();
        appended.leaf_values.push(0.0);
        assert!(appended.runtime.get(&appended).is_none());
        e.leaf_values[0] += 1.0;
        e.check().unwrap();
        assert!(e.runtime.get(&e).is_none());
        // The base value of explanations follows the edit too.
        assert_eq!(e.expected_value(), e.expected_value_walk());
        let x = rows(&mut rng, 4, 20);
        let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
        for x in x.chunks(4) {
            e.raw(x, &mut a);
            e.raw_plain(x, &mut b);
            assert_eq!(a, b);
        }
        // A fresh ensemble (as loaded from a file) builds it again.
        let copy = TreeEnsemble {
            runtime: Runtime::default(),
            ..e.clone()
        };
        copy.check().unwrap();
        assert!(copy.runtime.get(&copy).is_some());
        assert_eq!(copy, e, "the compact form is not part of equality");
    }
}
