//! A flat, array-based tree ensemble: one decision tree, a random forest
//! (the mean of the trees' outputs) or gradient boosting (their sum plus a
//! base score). Trees trained here and trees imported from scikit-learn are
//! all stored in this one form.
//!
//! Nodes of every tree live in one `Vec`, children always after their parent,
//! so a walk from any root must end, and a checked ensemble can be traversed
//! without bounds surprises. Prediction runs on a compact copy built by
//! [`TreeEnsemble::check`] (`model::tree_runtime`, never stored), which gives
//! the plain walk's answers ([`TreeEnsemble::raw_plain`]) bit for bit.

use serde::{Deserialize, Serialize};

use super::tree_runtime::{self, Runtime};

/// Deeper trees are refused at load (explanations need O(depth²) scratch space).
pub const MAX_DEPTH: u32 = 512;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeEnsemble {
    pub n_features: u32,
    /// The width of the raw score (1 for binary boosting and regression,
    /// the number of classes for forests and multiclass boosting).
    pub n_outputs: u32,
    pub trees: Vec<Tree>,
    pub nodes: Vec<Node>,
    pub leaf_values: Vec<f64>,
    /// Bit sets of the categories that go left at categorical splits.
    pub bitsets: Vec<u32>,
    /// Forests average their trees; boosting sums them.
    pub combine: Combine,
    /// Added to the combined score: the initial prediction of boosting.
    pub base_score: Vec<f64>,
    /// Compare features as 32-bit floats, as scikit-learn's trees do, so that
    /// imported trees give bit-identical answers.
    pub f32_inputs: bool,
    /// The compact form prediction runs on, built by [`TreeEnsemble::check`]
    /// (so at every load); never stored. Edit the arrays only before the
    /// check, or check again after (an edit the check notices turns it off).
    #[serde(skip)]
    pub(crate) runtime: Runtime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Combine {
    Mean,
    Sum,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tree {
    pub root: u32,
    /// `Some(k)`: each leaf holds one value, added to raw output k (boosting
    /// trains one tree per class). `None`: each leaf holds `n_outputs` values.
    pub output: Option<u32>,
    /// The number of splits on the longest path from the root to a leaf.
    pub depth: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub split: Split,
    /// Children (ignored for leaves).
    pub left: u32,
    pub right: u32,
    /// Where a missing (NaN) value goes.
    pub missing_left: bool,
    /// The training weight that reached this node: what TreeSHAP averages by.
    pub cover: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Split {
    /// `value` is the offset of the leaf's values in `leaf_values`.
    Leaf { value: u32 },
    /// Go left when `x[feature] <= threshold`.
    Numeric { feature: u32, threshold: f64 },
    /// Go left when the integer category `x[feature]` is in the bit set
    /// `bitsets[start..start + words]`; values outside it follow the missing side.
    Categorical {
        feature: u32,
        start: u32,
        words: u32,
    },
}

impl Node {
    pub fn leaf(value: u32, cover: f64) -> Node {
        Node {
            split: Split::Leaf { value },
            left: 0,
            right: 0,
            missing_left: false,
            cover,
        }
    }

    pub fn is_leaf(&self) -> bool {
        matches!(self.split, Split::Leaf { .. })
    }
}

impl TreeEnsemble {
    /// An ensemble with no trees yet, for learners and importers to append to.
    pub fn empty(
        n_features: usize,
        n_outputs: usize,
        combine: Combine,
        base_score: Vec<f64>,
        f32_inputs: bool,
    ) -> TreeEnsemble {
        TreeEnsemble {
            n_features: n_features as u32,
            n_outputs: n_outputs as u32,
            trees: Vec::new(),
            nodes: Vec::new(),
            leaf_values: Vec::new(),
            bitsets: Vec::new(),
            combine,
            base_score,
            f32_inputs,
            runtime: Runtime::default(),
        }
    }

    /// The width of a tree's leaves.
    pub fn leaf_width(&self, tree: &Tree) -> usize {
        if tree.output.is_some() {
            1
        } else {
            self.n_outputs as usize
        }
    }

    /// Whether `x` goes to the left child of the split node `node`.
    #[inline]
    pub(crate) fn goes_left(&self, node: &Node, x: &[f64]) -> bool {
        match node.split {
            Split::Numeric { feature, threshold } => {
                let v = x[feature as usize];
                if v.is_nan() {
                    node.missing_left
                } else {
                    v <= threshold
                }
            }
            Split::Categorical {
                feature,
                start,
                words,
            } => {
                let v = x[feature as usize];
                let in_range = v >= 0.0 && v.fract() == 0.0 && v < (words as f64) * 32.0;
                if !in_range {
                    return node.missing_left;
                }
                let c = v as usize;
                let word = self.bitsets[start as usize + c / 32];
                word >> (c % 32) & 1 == 1
            }
            Split::Leaf { .. } => false,
        }
    }

    /// The offset of the leaf values `x` reaches in `tree`.
    #[inline]
    pub(crate) fn leaf_of(&self, tree: &Tree, x: &[f64]) -> usize {
        let mut node = &self.nodes[tree.root as usize];
        loop {
            if let Split::Leaf { value } = node.split {
                return value as usize;
            }
            let next = if self.goes_left(node, x) {
                node.left
            } else {
                node.right
            };
            node = &self.nodes[next as usize];
        }
    }

    /// Rounds features to f32 when this ensemble compares in f32 (see `f32_inputs`).
    pub(crate) fn prepare<'a>(&self, x: &'a [f64], buf: &'a mut Vec<f64>) -> &'a [f64] {
        if self.f32_inputs {
            buf.clear();
            buf.extend(x.iter().map(|v| *v as f32 as f64));
            buf
        } else {
            x
        }
    }

    /// The raw score of one feature vector into `out` (length `n_outputs`).
    pub fn raw(&self, x: &[f64], out: &mut [f64]) {
        let Some(compact) = self.runtime.get(self) else {
            return self.raw_plain(x, out);
        };
        if self.f32_inputs {
            let mut stack = [0.0; 32];
            let mut heap = Vec::new();
            let rounded = if x.len() <= stack.len() {
                &mut stack[..x.len()]
            } else {
                heap.resize(x.len(), 0.0);
                &mut heap[..]
            };
            for (r, v) in rounded.iter_mut().zip(x) {
                *r = *v as f32 as f64;
            }
            compact.raw(self, rounded, out);
        } else {
            compact.raw(self, x, out);
        }
    }

    /// Raw scores of many rows: `x` holds `n_features` values per row, `out`
    /// gets `n_outputs` per row. The same answers as [`TreeEnsemble::raw`] row
    /// by row, computed tree by tree over blocks of rows.
    pub fn raw_batch(&self, x: &[f64], out: &mut [f64]) {
        let (nf, no) = (self.n_features as usize, self.n_outputs as usize);
        assert_eq!(
            x.len() / nf.max(1),
            out.len() / no.max(1),
            "rows in and out"
        );
        let Some(compact) = self.runtime.get(self) else {
            for (x, out) in x.chunks(nf.max(1)).zip(out.chunks_mut(no.max(1))) {
                self.raw_plain(x, out);
            }
            return;
        };
        if !self.f32_inputs {
            return compact.raw_batch(self, x, out);
        }
        let mut rounded = Vec::with_capacity(tree_runtime::BLOCK * nf);
        for (x, out) in x
            .chunks(tree_runtime::BLOCK * nf)
            .zip(out.chunks_mut(tree_runtime::BLOCK * no))
        {
            rounded.clear();
            rounded.extend(x.iter().map(|v| *v as f32 as f64));
            compact.raw_batch(self, &rounded, out);
        }
    }

    /// The reference walk over the stored arrays, one node at a time; what the
    /// compact form must always agree with (and what runs before a check).
    pub fn raw_plain(&self, x: &[f64], out: &mut [f64]) {
        let mut buf = Vec::new();
        let x = self.prepare(x, &mut buf);
        out.fill(0.0);
        for tree in &self.trees {
            let leaf = self.leaf_of(tree, x);
            match tree.output {
                Some(k) => out[k as usize] += self.leaf_values[leaf],
                None => {
                    let values = &self.leaf_values[leaf..leaf + out.len()];
                    for (o, v) in out.iter_mut().zip(values) {
                        *o += v;
                    }
                }
            }
        }
        tree_runtime::finish(self, out);
    }

    /// Checks every index, so that prediction can trust the arrays, then
    /// builds the compact form prediction runs on.
    pub fn check(&self) -> Result<(), String> {
        self.check_arrays()?;
        self.runtime.prepare(self);
        Ok(())
    }

    fn check_arrays(&self) -> Result<(), String> {
        let n_out = self.n_outputs as usize;
        if n_out == 0 {
            return Err("a tree ensemble needs at least one output".into());
        }
        if self.trees.is_empty() {
            return Err("a tree ensemble needs at least one tree".into());
        }
        if self.base_score.len() != n_out {
            return Err(format!(
                "{} base scores for {n_out} outputs",
                self.base_score.len()
            ));
        }
        if self
            .leaf_values
            .iter()
            .chain(&self.base_score)
            .any(|v| !v.is_finite())
        {
            return Err("a leaf value or base score is not a finite number".into());
        }
        for (t, tree) in self.trees.iter().enumerate() {
            if let Some(k) = tree.output
                && k as usize >= n_out
            {
                return Err(format!("tree {t} adds to output {k} of {n_out}"));
            }
            let width = self.leaf_width(tree);
            let depth = self
                .check_tree(tree.root as usize, width, 0)
                .map_err(|e| format!("tree {t}: {e}"))?;
            if depth != tree.depth {
                return Err(format!(
                    "tree {t} says depth {} but is {depth} deep",
                    tree.depth
                ));
            }
        }
        Ok(())
    }

    fn check_tree(&self, root: usize, width: usize, level: u32) -> Result<u32, String> {
        if level > MAX_DEPTH {
            return Err(format!("deeper than {MAX_DEPTH} levels"));
        }
        let node = self
            .nodes
            .get(root)
            .ok_or_else(|| format!("node {root} does not exist ({} nodes)", self.nodes.len()))?;
        if !(node.cover.is_finite() && node.cover >= 0.0) {
            return Err(format!("node {root} has cover {}", node.cover));
        }
        let feature = match node.split {
            Split::Leaf { value } => {
                let end = value as usize + width;
                if end > self.leaf_values.len() {
                    return Err(format!("leaf {root} reads values past the end"));
                }
                return Ok(0);
            }
            Split::Numeric { feature, threshold } => {
                if threshold.is_nan() {
                    return Err(format!("node {root} has a NaN threshold"));
                }
                feature
            }
            Split::Categorical {
                feature,
                start,
                words,
            } => {
                if words == 0 || start as usize + words as usize > self.bitsets.len() {
                    return Err(format!("node {root} reads a category set past the end"));
                }
                feature
            }
        };
        if feature >= self.n_features {
            return Err(format!(
                "node {root} splits on feature {feature} of {}",
                self.n_features
            ));
        }
        let (l, r) = (node.left as usize, node.right as usize);
        if l <= root || r <= root {
            return Err(format!(
                "node {root} has a child that does not come after it"
            ));
        }
        let dl = self.check_tree(l, width, level + 1)?;
        let dr = self.check_tree(r, width, level + 1)?;
        Ok(1 + dl.max(dr))
    }

    /// The depth of the subtree under `node` (for builders filling `Tree::depth`).
    pub fn depth_of(&self, node: usize) -> u32 {
        let n = &self.nodes[node];
        if n.is_leaf() {
            0
        } else {
            1 + self
                .depth_of(n.left as usize)
                .max(self.depth_of(n.right as usize))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// x0 <= 0.5 ? (x1 <= 2 ? [1,0] : [0,1]) : [0.25, 0.75]
    pub fn small_forest() -> TreeEnsemble {
        let split = |feature, threshold, left, right, cover| Node {
            split: Split::Numeric { feature, threshold },
            left,
            right,
            missing_left: true,
            cover,
        };
        TreeEnsemble {
            n_features: 2,
            n_outputs: 2,
            trees: vec![
                Tree {
                    root: 0,
                    output: None,
                    depth: 2,
                },
                Tree {
                    root: 5,
                    output: None,
                    depth: 0,
                },
            ],
            nodes: vec![
                split(0, 0.5, 1, 4, 10.0),
                split(1, 2.0, 2, 3, 6.0),
                Node::leaf(0, 4.0),
                Node::leaf(2, 2.0),
                Node::leaf(4, 4.0),
                Node::leaf(6, 10.0),
            ],
            leaf_values: vec![1.0, 0.0, 0.0, 1.0, 0.25, 0.75, 0.5, 0.5],
            bitsets: vec![],
            combine: Combine::Mean,
            base_score: vec![0.0, 0.0],
            f32_inputs: false,
            runtime: Runtime::default(),
        }
    }

    #[test]
    fn predicts_and_averages() {
        let f = small_forest();
        f.check().unwrap();
        let mut out = [0.0; 2];
        f.raw(&[0.0, 1.0], &mut out);
        assert_eq!(out, [0.75, 0.25]);
        f.raw(&[1.0, 1.0], &mut out);
        assert_eq!(out, [0.375, 0.625]);
        f.raw(&[f64::NAN, 3.0], &mut out); // missing goes left
        assert_eq!(out, [0.25, 0.75]);
    }

    #[test]
    fn categorical_splits() {
        let mut f = small_forest();
        f.nodes[0].split = Split::Categorical {
            feature: 0,
            start: 0,
            words: 1,
        };
        f.nodes[0].missing_left = false;
        f.bitsets = vec![0b101]; // categories 0 and 2 go left
        let mut out = [0.0; 2];
        f.raw(&[2.0, 1.0], &mut out);
        assert_eq!(out, [0.75, 0.25]);
        f.raw(&[1.0, 1.0], &mut out);
        assert_eq!(out, [0.375, 0.625]);
        f.raw(&[40.0, 1.0], &mut out); // outside the set: the missing side (right)
        assert_eq!(out, [0.375, 0.625]);
    }

    #[test]
    fn check_rejects_broken_arrays() {
        let mut f = small_forest();
        f.nodes[1].left = 0;
        assert!(f.check().unwrap_err().contains("does not come after"));
        let mut f = small_forest();
        f.nodes[1].right = 99;
        assert!(f.check().unwrap_err().contains("does not exist"));
        let mut f = small_forest();
        f.nodes[1].split = Split::Numeric {
            feature: 7,
            threshold: 1.0,
        };
        assert!(f.check().unwrap_err().contains("feature 7"));
        let mut f = small_forest();
        f.leaf_values.pop();
        assert!(f.check().unwrap_err().contains("past the end"));
        let mut f = small_forest();
        f.trees[0].depth = 5;
        assert!(f.check().unwrap_err().contains("depth"));
        let mut f = small_forest();
        f.base_score.push(1.0);
        assert!(f.check().is_err());
    }

    #[test]
    fn f32_inputs_round_like_scikit_learn() {
        let mut f = small_forest();
        // 0.5000000001 rounds to 0.5f32, which is <= 0.5.
        f.f32_inputs = true;
        let mut out = [0.0; 2];
        f.raw(&[0.500_000_000_1, 1.0], &mut out);
        assert_eq!(out, [0.75, 0.25]);
        f.f32_inputs = false;
        f.raw(&[0.500_000_000_1, 1.0], &mut out);
        assert_eq!(out, [0.375, 0.625]);
    }
}
