//! One row through every tree of an ensemble, by finding each tree's exit
//! leaf from the splits the row fails rather than by walking: QuickScorer
//! (Lucchese et al., SIGIR 2015), with checkpoints.
//!
//! Each tree keeps a bit per leaf, its leaves numbered left to right (in
//! as many 64-bit words as it needs). A split that `x` fails (goes right
//! at) rules out every leaf of its left subtree, so it clears their bits;
//! the exit leaf is then the leftmost leaf still set. No leaf left of it
//! survives: each lies in the left subtree of a split on the exit path that
//! `x` went right at. Its own bit is never cleared: it lies in the left
//! subtree of no split `x` failed.
//!
//! The splits of each feature are sorted by threshold, so the splits `x`
//! fails (`threshold < x[f]`) are a prefix, found by binary search. Rather
//! than clearing bits for each of them, a row starts from a checkpoint (the
//! bits after failing every split up to it, kept every `stride` splits) and
//! clears bits for fewer than `stride` more. A missing value fails a fixed
//! set of splits, kept whole. So a row costs, per feature, one pass over
//! the ensemble's words and a few splits, read in order, instead of a walk
//! whose every step waits on the one before.
//!
//! The leaves found are the walk's, and their values are added tree by
//! tree in the same order, so answers are bit-identical to the walk's.
//! Numeric splits only. [`ExitLeaves::cheaper_than_walking`] keeps the walk
//! for ensembles of huge trees, where the words would cost more than it.

use super::{Compact, FEATURE, LEAF, MISSING_LEFT, Node};

/// Splits between checkpoints, at least: a row clears bits for fewer than
/// this many splits of a feature past the checkpoint it starts from.
const STRIDE: usize = 32;
/// The checkpoints of an ensemble take at most this many bytes; larger
/// ensembles space them further apart.
const MOST_CHECKPOINT_BYTES: usize = 8 << 20;
/// Up to this many words, a row's leaf bits live on the stack (1 KB, set
/// for every row: a larger array would cost more to set for every row).
const STACK_WORDS: usize = 128;

#[derive(Debug, Clone, PartialEq)]
pub(super) struct ExitLeaves {
    /// The clears of feature `f` are `starts[f]..starts[f + 1]`, by threshold.
    starts: Vec<u32>,
    /// Thresholds, apart from the clears so the search reads only them.
    thresholds: Vec<f64>,
    /// What failing each split does, one word at a time: a split whose left
    /// subtree spans several words has one clear per word, all at its
    /// threshold (so a row fails all of them or none).
    clears: Vec<Clear>,
    /// Every `stride` clears of a feature, the leaf bits of the whole
    /// ensemble after all the clears so far: feature `f`'s `j`th checkpoint
    /// (`j` from 1) is the `n_words` words from
    /// `(checkpoint_rows[f] + j - 1) * n_words`.
    checkpoints: Vec<u64>,
    checkpoint_rows: Vec<u32>,
    stride: usize,
    /// The leaf bits after the clears a missing value of feature `f` makes:
    /// the `n_words` words from `f * n_words`.
    missing: Vec<u64>,
    /// Tree `t`'s leaf bits are words `first_word[t]..first_word[t + 1]`.
    first_word: Vec<u32>,
    /// Per tree, where the values of its first leaf are in `Compact::values`
    /// (its leaves' values follow each other, left to right, as `emit` wrote them).
    first_value: Vec<u32>,
    /// Values per leaf.
    width: Vec<u32>,
}

/// One word of what failing a split does.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Clear {
    word: u32,
    /// The word with the bits of the split's left subtree cleared.
    mask: u64,
}

impl ExitLeaves {
    /// The exit-leaf form of the compact trees `c` (as `Compact::build`
    /// emitted them, before padding), or `None` if a split is not numeric.
    pub(super) fn build(c: &Compact, emitted: usize) -> Option<ExitLeaves> {
        if c.trees.iter().any(|t| t.categorical) {
            return None;
        }
        let mut by_feature: Vec<Vec<(f64, Clear)>> = vec![Vec::new(); c.n_features];
        // Which words a missing value clears, and how: (feature, word, mask).
        let mut missing_clears = Vec::new();
        let mut first_word = vec![0u32];
        let mut first_value = Vec::with_capacity(c.trees.len());
        let mut width = Vec::with_capacity(c.trees.len());
        for (t, tree) in c.trees.iter().enumerate() {
            // `emit` wrote each tree depth first, left child next: a tree's
            // nodes run to the next tree's root, its leaves in index order
            // are its leaves left to right, and a split's left subtree is
            // the nodes between it and its right child.
            let start = tree.root as usize;
            let end = c.trees.get(t + 1).map_or(emitted, |n| n.root as usize);
            let nodes = c.nodes.get(start..end)?;
            // Leaves before each node, in this tree.
            let mut before = Vec::with_capacity(nodes.len() + 1);
            let mut leaves = 0usize;
            for node in nodes {
                before.push(leaves);
                leaves += usize::from(node.feature & LEAF != 0);
            }
            before.push(leaves);
            let values: Vec<usize> = nodes
                .iter()
                .filter(|n| n.feature & LEAF != 0)
                .map(leaf_offset)
                .collect();
            let w = if tree.output == super::ALL {
                c.n_outputs
            } else {
                1
            };
            // The arithmetic below relies on the leaves' values lying one
            // after the other; `emit` writes them so, but check it.
            if values.is_empty()
                || values
                    .iter()
                    .enumerate()
                    .any(|(k, v)| *v != values[0] + k * w)
            {
                return None;
            }
            first_value.push(u32::try_from(values[0]).ok()?);
            width.push(u32::try_from(w).ok()?);
            let base = *first_word.last()? as usize;
            first_word.push(u32::try_from(base + leaves.div_ceil(64)).ok()?);
            for (i, node) in nodes.iter().enumerate() {
                if node.feature & LEAF != 0 {
                    continue;
                }
                let right = (node.right as usize).checked_sub(start)?;
                let (from, to) = (before[i], *before.get(right)?);
                let feature = (node.feature & FEATURE) as usize;
                for word in from / 64..to.div_ceil(64) {
                    let (lo, hi) = (
                        from.max(word * 64) - word * 64,
                        to.min(word * 64 + 64) - word * 64,
                    );
                    let left = if hi - lo == 64 {
                        u64::MAX
                    } else {
                        ((1u64 << (hi - lo)) - 1) << lo
                    };
                    let clear = Clear {
                        word: u32::try_from(base + word).ok()?,
                        mask: !left,
                    };
                    if node.feature & MISSING_LEFT == 0 {
                        missing_clears.push((feature, clear));
                    }
                    by_feature[feature].push((node.threshold, clear));
                }
            }
        }
        let n_words = *first_word.last()? as usize;
        let mut missing = vec![u64::MAX; c.n_features.checked_mul(n_words)?];
        for (feature, clear) in missing_clears {
            missing[feature * n_words + clear.word as usize] &= clear.mask;
        }
        let n_clears: usize = by_feature.iter().map(Vec::len).sum();
        let stride = stride(n_clears, n_words);
        let mut exit = ExitLeaves {
            starts: vec![0],
            thresholds: Vec::with_capacity(n_clears),
            clears: Vec::with_capacity(n_clears),
            checkpoints: Vec::new(),
            checkpoint_rows: Vec::new(),
            stride,
            missing,
            first_word,
            first_value,
            width,
        };
        for mut clears in by_feature {
            clears.sort_by(|a, b| a.0.total_cmp(&b.0));
            let row = exit.checkpoints.len() / n_words.max(1);
            exit.checkpoint_rows.push(u32::try_from(row).ok()?);
            let mut bits = vec![u64::MAX; n_words];
            for (i, (threshold, clear)) in clears.into_iter().enumerate() {
                exit.thresholds.push(threshold);
                exit.clears.push(clear);
                bits[clear.word as usize] &= clear.mask;
                if (i + 1) % stride == 0 {
                    exit.checkpoints.extend_from_slice(&bits);
                }
            }
            exit.starts.push(u32::try_from(exit.clears.len()).ok()?);
        }
        Some(exit)
    }

    /// Whether every tree of `c` (as `Compact::build` emitted them) has at
    /// most 64 leaves, one word: a pass over the nodes, so that other
    /// ensembles do not build exit leaves at load only to drop them.
    ///
    /// Trees of more words find the right leaves too, but measured no
    /// quicker: on the tutorial's 100-tree scikit-learn forest (321 words,
    /// 19,163 clears) 1.4 to 1.6 µs per row, as the walk's 1.4 µs, though
    /// with a third of its instructions. So they walk.
    pub(super) fn one_word_trees(c: &Compact, emitted: usize) -> bool {
        c.trees.iter().enumerate().all(|(t, tree)| {
            let end = c.trees.get(t + 1).map_or(emitted, |n| n.root as usize);
            c.nodes
                .get(tree.root as usize..end)
                .is_some_and(|nodes| nodes.iter().filter(|n| n.feature & LEAF != 0).count() <= 64)
        })
    }

    /// Whether finding exit leaves should cost fewer instructions, roughly,
    /// than walking trees of these depths (summed over trees): about 13 per
    /// level walked, against about 1.5 per word of each feature's
    /// checkpoint, 3 per clear past it and 8 per tree to find its leaf.
    pub(super) fn cheaper_than_walking(&self, depths: usize) -> bool {
        let n_words = self.n_words();
        let mut cost = 8 * self.first_value.len();
        for f in 0..self.starts.len() - 1 {
            let clears = (self.starts[f + 1] - self.starts[f]) as usize;
            if clears >= self.stride {
                cost += n_words * 3 / 2;
            }
            cost += 3 * clears.min(self.stride);
        }
        cost < 13 * depths
    }

    fn n_words(&self) -> usize {
        *self.first_word.last().unwrap_or(&0) as usize
    }

    #[cfg(test)]
    pub(super) fn has_checkpoints(&self) -> bool {
        !self.checkpoints.is_empty()
    }

    #[cfg(test)]
    pub(super) fn spans_words(&self) -> bool {
        self.first_word.windows(2).any(|w| w[1] - w[0] > 1)
    }

    /// Adds each tree's exit-leaf values for `x` (`n_features` long) to
    /// `out`, tree by tree.
    pub(super) fn add(&self, c: &Compact, x: &[f64], out: &mut [f64]) {
        let n = self.n_words();
        let (mut stack, mut heap) = ([u64::MAX; STACK_WORDS], Vec::new());
        let bits = if n <= STACK_WORDS {
            &mut stack[..n]
        } else {
            heap.resize(n, u64::MAX);
            &mut heap[..]
        };
        for (f, &v) in x.iter().enumerate() {
            let (a, b) = (self.starts[f] as usize, self.starts[f + 1] as usize);
            if v.is_nan() {
                and(bits, &self.missing[f * n..(f + 1) * n]);
                continue;
            }
            // `x` goes left at `v <= threshold`; it fails the rest.
            let failed = self.thresholds[a..b].partition_point(|t| *t < v);
            let checkpoints = failed / self.stride;
            if checkpoints > 0 {
                let row = self.checkpoint_rows[f] as usize + checkpoints - 1;
                and(bits, &self.checkpoints[row * n..(row + 1) * n]);
            }
            for clear in &self.clears[a + checkpoints * self.stride..a + failed] {
                bits[clear.word as usize] &= clear.mask;
            }
        }
        for (t, tree) in c.trees.iter().enumerate() {
            let words = &bits[self.first_word[t] as usize..self.first_word[t + 1] as usize];
            // The exit leaf's bit is always set (see the module).
            let word = words.iter().position(|w| *w != 0).unwrap_or(0);
            let leaf = word * 64 + words[word].trailing_zeros() as usize;
            let offset = self.first_value[t] as usize + leaf * self.width[t] as usize;
            c.add(tree, offset, out);
        }
    }
}

/// The clears between checkpoints: [`STRIDE`], or more where the
/// checkpoints would take more than [`MOST_CHECKPOINT_BYTES`].
fn stride(n_clears: usize, n_words: usize) -> usize {
    let mut stride = STRIDE;
    while (n_clears / stride)
        .saturating_mul(n_words)
        .saturating_mul(8)
        > MOST_CHECKPOINT_BYTES
    {
        stride *= 2;
    }
    stride
}

/// Clears in `bits` what is clear in `masks`, word by word.
#[inline]
fn and(bits: &mut [u64], masks: &[u64]) {
    // Indexing equal lengths, which the compiler turns into vector code
    // (a zip of the two it did not).
    let n = bits.len().min(masks.len());
    let (bits, masks) = (&mut bits[..n], &masks[..n]);
    for i in 0..n {
        bits[i] &= masks[i];
    }
}

/// Where a compact leaf's values start (kept in its threshold's bits).
fn leaf_offset(node: &Node) -> usize {
    node.threshold.to_bits() as u32 as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_are_spaced_to_fit_their_budget() {
        assert_eq!(stride(3_000, 100), STRIDE);
        assert_eq!(stride(0, 100), STRIDE);
        for (n_clears, n_words) in [(1 << 20, 1_000), (50_000, 5_000), (usize::MAX / 64, 1)] {
            let s = stride(n_clears, n_words);
            assert!(s > STRIDE, "{n_clears} clears of {n_words} words");
            assert!((n_clears / s) * n_words * 8 <= MOST_CHECKPOINT_BYTES);
            assert!((n_clears / (s / 2)) * n_words * 8 > MOST_CHECKPOINT_BYTES);
        }
    }
}
