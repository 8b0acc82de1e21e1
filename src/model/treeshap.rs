//! Exact TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent Individualized
//! Feature Attribution for Tree Ensembles", Algorithm 2): per-feature
//! contributions that add up to the raw score minus the expected score, where
//! "expected" follows the training cover of each branch (path-dependent).
//!
//! Written here rather than taken from a crate because it must run on our own
//! flat trees (with missing-value routing and categorical splits), and no
//! maintained pure-Rust crate offers it for foreign tree layouts.

use super::trees::{Combine, Split, Tree, TreeEnsemble};

const NO_FEATURE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, Default)]
struct PathElement {
    feature: u32,
    zero_fraction: f64,
    one_fraction: f64,
    weight: f64,
}

impl TreeEnsemble {
    /// The expected raw score over the training data, following covers: the
    /// base value that TreeSHAP contributions add up from.
    pub fn expected_value(&self) -> Vec<f64> {
        match self.runtime.get(self) {
            Some(compact) => compact.expected().to_vec(),
            None => self.expected_value_walk(),
        }
    }

    /// [`TreeEnsemble::expected_value`] worked out from every node.
    pub(crate) fn expected_value_walk(&self) -> Vec<f64> {
        let n_out = self.n_outputs as usize;
        let mut out = vec![0.0; n_out];
        let mut leaf = vec![0.0; n_out];
        for tree in &self.trees {
            let width = self.leaf_width(tree);
            leaf[..width].fill(0.0);
            self.expected_leaf(tree.root as usize, width, 1.0, &mut leaf);
            add_leaf(tree, &leaf[..width], 1.0, &mut out);
        }
        self.finish_combine(&mut out);
        for (o, b) in out.iter_mut().zip(&self.base_score) {
            *o += b;
        }
        out
    }

    fn expected_leaf(&self, node: usize, width: usize, weight: f64, acc: &mut [f64]) {
        let n = &self.nodes[node];
        if let Split::Leaf { value } = n.split {
            let values = &self.leaf_values[value as usize..value as usize + width];
            for (a, v) in acc.iter_mut().zip(values) {
                *a += weight * v;
            }
            return;
        }
        let (l, r) = (&self.nodes[n.left as usize], &self.nodes[n.right as usize]);
        let (fl, fr) = child_fractions(n.cover, l.cover, r.cover);
        self.expected_leaf(n.left as usize, width, weight * fl, acc);
        self.expected_leaf(n.right as usize, width, weight * fr, acc);
    }

    fn finish_combine(&self, out: &mut [f64]) {
        if self.combine == Combine::Mean && !self.trees.is_empty() {
            let n = self.trees.len() as f64;
            out.iter_mut().for_each(|o| *o /= n);
        }
    }

    /// SHAP values of one feature vector: `phi[feature * n_outputs + output]`.
    /// `phi` must have `n_features * n_outputs` slots; it is overwritten.
    pub fn shap_values(&self, x: &[f64], phi: &mut [f64]) {
        let mut buf = Vec::new();
        let x = self.prepare(x, &mut buf);
        phi.fill(0.0);
        let max_depth = self.trees.iter().map(|t| t.depth).max().unwrap_or(0) as usize;
        // Each level copies its parent's path right after it: O(depth²) in all.
        let d = max_depth + 4;
        let mut path = vec![PathElement::default(); d * (d + 1) / 2 + d];
        let recip: Vec<f64> = (0..=d + 1).map(|k| 1.0 / k as f64).collect();
        for tree in &self.trees {
            let mut walk = Walk {
                ensemble: self,
                tree,
                x,
                phi: &mut *phi,
                path: &mut path,
                recip: &recip,
            };
            walk.recurse(tree.root as usize, 0, 0, 1.0, 1.0, NO_FEATURE);
        }
        self.finish_combine(phi);
    }
}

fn child_fractions(parent: f64, left: f64, right: f64) -> (f64, f64) {
    if parent > 0.0 {
        (left / parent, right / parent)
    } else if left + right > 0.0 {
        (left / (left + right), right / (left + right))
    } else {
        (0.5, 0.5)
    }
}

fn add_leaf(tree: &Tree, leaf: &[f64], scale: f64, out: &mut [f64]) {
    match tree.output {
        Some(k) => out[k as usize] += scale * leaf[0],
        None => {
            for (o, v) in out.iter_mut().zip(leaf) {
                *o += scale * v;
            }
        }
    }
}

struct Walk<'a> {
    ensemble: &'a TreeEnsemble,
    tree: &'a Tree,
    x: &'a [f64],
    phi: &'a mut [f64],
    path: &'a mut [PathElement],
    /// `recip[k]` = 1/k, for every k a path of this ensemble can need.
    recip: &'a [f64],
}

impl Walk<'_> {
    /// `parent` is the start of the parent's path in the buffer; this node's
    /// path is a copy placed right after it.
    fn recurse(
        &mut self,
        node_index: usize,
        parent: usize,
        mut unique_depth: usize,
        parent_zero: f64,
        parent_one: f64,
        parent_feature: u32,
    ) {
        let start = parent + unique_depth + 1;
        self.path
            .copy_within(parent..parent + unique_depth + 1, start);
        let path = start;
        extend(
            &mut self.path[path..],
            unique_depth,
            parent_zero,
            parent_one,
            parent_feature,
            self.recip,
        );
        let ens = self.ensemble;
        let node = &ens.nodes[node_index];
        let split_feature = match node.split {
            Split::Leaf { value } => {
                let width = ens.leaf_width(self.tree);
                let leaf = &ens.leaf_values[value as usize..value as usize + width];
                let n_out = ens.n_outputs as usize;
                for i in 1..=unique_depth {
                    let w = unwound_sum(&self.path[path..], unique_depth, i, self.recip);
                    let el = self.path[path + i];
                    let scale = w * (el.one_fraction - el.zero_fraction);
                    let f = el.feature as usize;
                    add_leaf(
                        self.tree,
                        leaf,
                        scale,
                        &mut self.phi[f * n_out..(f + 1) * n_out],
                    );
                }
                return;
            }
            Split::Numeric { feature, .. } | Split::Categorical { feature, .. } => feature,
        };
        let (hot, cold) = if ens.goes_left(node, self.x) {
            (node.left as usize, node.right as usize)
        } else {
            (node.right as usize, node.left as usize)
        };
        let (fh, fc) = child_fractions(node.cover, ens.nodes[hot].cover, ens.nodes[cold].cover);
        let mut incoming_zero = 1.0;
        let mut incoming_one = 1.0;
        // A feature met again on this path: undo its earlier split, then redo it here.
        if let Some(k) = (0..=unique_depth).find(|&k| self.path[path + k].feature == split_feature)
        {
            incoming_zero = self.path[path + k].zero_fraction;
            incoming_one = self.path[path + k].one_fraction;
            unwind(&mut self.path[path..], unique_depth, k, self.recip);
            unique_depth -= 1;
        }
        self.recurse(
            hot,
            path,
            unique_depth + 1,
            fh * incoming_zero,
            incoming_one,
            split_feature,
        );
        self.recurse(
            cold,
            path,
            unique_depth + 1,
            fc * incoming_zero,
            0.0,
            split_feature,
        );
    }
}

// The three path operations below divide only through `recip` (1/k for
// small k) and one reciprocal per call: divisions chained through the loops
// were most of the time on deep forests.

fn extend(
    path: &mut [PathElement],
    depth: usize,
    zero: f64,
    one: f64,
    feature: u32,
    recip: &[f64],
) {
    path[depth] = PathElement {
        feature,
        zero_fraction: zero,
        one_fraction: one,
        weight: if depth == 0 { 1.0 } else { 0.0 },
    };
    let inv_d1 = recip[depth + 1];
    for i in (0..depth).rev() {
        let w = path[i].weight * inv_d1;
        path[i + 1].weight += one * w * (i + 1) as f64;
        path[i].weight = zero * w * (depth - i) as f64;
    }
}

fn unwind(path: &mut [PathElement], depth: usize, index: usize, recip: &[f64]) {
    let one = path[index].one_fraction;
    let zero = path[index].zero_fraction;
    let d1 = (depth + 1) as f64;
    let inv_d1 = recip[depth + 1];
    if one != 0.0 {
        let d1_over_one = d1 / one;
        let mut next_one = path[depth].weight;
        for i in (0..depth).rev() {
            let tmp = path[i].weight;
            path[i].weight = next_one * d1_over_one * recip[i + 1];
            next_one = tmp - path[i].weight * zero * (depth - i) as f64 * inv_d1;
        }
    } else if zero != 0.0 {
        let d1_over_zero = d1 / zero;
        for i in (0..depth).rev() {
            path[i].weight *= d1_over_zero * recip[depth - i];
        }
    }
    for i in index..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero_fraction = path[i + 1].zero_fraction;
        path[i].one_fraction = path[i + 1].one_fraction;
    }
}

fn unwound_sum(path: &[PathElement], depth: usize, index: usize, recip: &[f64]) -> f64 {
    let one = path[index].one_fraction;
    let zero = path[index].zero_fraction;
    let d1 = (depth + 1) as f64;
    let inv_d1 = recip[depth + 1];
    let mut total = 0.0;
    if one != 0.0 {
        let d1_over_one = d1 / one;
        let mut next_one = path[depth].weight;
        for i in (0..depth).rev() {
            let tmp = next_one * d1_over_one * recip[i + 1];
            total += tmp;
            next_one = path[i].weight - tmp * zero * (depth - i) as f64 * inv_d1;
        }
    } else if zero != 0.0 {
        let d1_over_zero = d1 / zero;
        for i in (0..depth).rev() {
            total += path[i].weight * d1_over_zero * recip[depth - i];
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::trees::{Node, tests::small_forest};

    /// E[f(x) | x_S] the way TreeSHAP defines it: follow x on splits over
    /// features in S, average the branches by cover elsewhere.
    fn conditional(
        ens: &TreeEnsemble,
        tree: &Tree,
        node: usize,
        x: &[f64],
        s: u32,
        out: &mut [f64],
        w: f64,
    ) {
        let n = &ens.nodes[node];
        match n.split {
            Split::Leaf { value } => {
                let width = ens.leaf_width(tree);
                add_leaf(
                    tree,
                    &ens.leaf_values[value as usize..value as usize + width],
                    w,
                    out,
                );
            }
            Split::Numeric { feature, .. } | Split::Categorical { feature, .. } => {
                if s >> feature & 1 == 1 {
                    let next = if ens.goes_left(n, x) { n.left } else { n.right };
                    conditional(ens, tree, next as usize, x, s, out, w);
                } else {
                    let (l, r) = (n.left as usize, n.right as usize);
                    let (fl, fr) = child_fractions(n.cover, ens.nodes[l].cover, ens.nodes[r].cover);
                    conditional(ens, tree, l, x, s, out, w * fl);
                    conditional(ens, tree, r, x, s, out, w * fr);
                }
            }
        }
    }

    fn value(ens: &TreeEnsemble, x: &[f64], s: u32) -> Vec<f64> {
        let mut out = vec![0.0; ens.n_outputs as usize];
        for tree in &ens.trees {
            conditional(ens, tree, tree.root as usize, x, s, &mut out, 1.0);
        }
        ens.finish_combine(&mut out);
        out
    }

    /// Shapley values by enumerating every coalition.
    fn brute_force(ens: &TreeEnsemble, x: &[f64]) -> Vec<f64> {
        let n = ens.n_features as usize;
        let k = ens.n_outputs as usize;
        let fact = |m: usize| (1..=m).map(|v| v as f64).product::<f64>();
        let mut phi = vec![0.0; n * k];
        for i in 0..n {
            for s in 0u32..(1 << n) {
                if s >> i & 1 == 1 {
                    continue;
                }
                let size = s.count_ones() as usize;
                let weight = fact(size) * fact(n - size - 1) / fact(n);
                let with = value(ens, x, s | 1 << i);
                let without = value(ens, x, s);
                for o in 0..k {
                    phi[i * k + o] += weight * (with[o] - without[o]);
                }
            }
        }
        phi
    }

    /// A small deterministic generator, so the random trees are the same every run.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn unit(&mut self) -> f64 {
            self.next() as f64 / (1u64 << 31) as f64
        }
    }

    /// Grows a random tree with repeated features, missing routing and a categorical split.
    fn grow(ens: &mut TreeEnsemble, rng: &mut Lcg, depth: u32, cover: f64, width: usize) -> u32 {
        let index = ens.nodes.len() as u32;
        if depth == 0 || rng.below(5) == 0 {
            let value = ens.leaf_values.len() as u32;
            for _ in 0..width {
                ens.leaf_values.push(rng.unit() * 4.0 - 2.0);
            }
            ens.nodes.push(Node::leaf(value, cover));
            return index;
        }
        let feature = rng.below(ens.n_features as u64) as u32;
        let split = if rng.below(4) == 0 {
            let start = ens.bitsets.len() as u32;
            ens.bitsets.push(rng.below(16) as u32);
            Split::Categorical {
                feature,
                start,
                words: 1,
            }
        } else {
            Split::Numeric {
                feature,
                threshold: rng.unit(),
            }
        };
        ens.nodes.push(Node {
            split,
            left: 0,
            right: 0,
            missing_left: rng.below(2) == 0,
            cover,
        });
        let share = 0.1 + 0.8 * rng.unit();
        let left = grow(ens, rng, depth - 1, cover * share, width);
        let right = grow(ens, rng, depth - 1, cover * (1.0 - share), width);
        ens.nodes[index as usize].left = left;
        ens.nodes[index as usize].right = right;
        index
    }

    fn random_ensemble(
        seed: u64,
        n_features: u32,
        n_outputs: u32,
        per_class: bool,
    ) -> TreeEnsemble {
        let mut rng = Lcg(seed);
        let mut ens = TreeEnsemble {
            n_features,
            n_outputs,
            trees: vec![],
            nodes: vec![],
            leaf_values: vec![],
            bitsets: vec![],
            combine: if per_class {
                Combine::Sum
            } else {
                Combine::Mean
            },
            base_score: (0..n_outputs).map(|k| k as f64 * 0.1).collect(),
            f32_inputs: false,
            runtime: Default::default(),
        };
        for t in 0..3 {
            let output = per_class.then_some(t % n_outputs);
            let width = if per_class { 1 } else { n_outputs as usize };
            let root = grow(&mut ens, &mut rng, 4, 100.0, width);
            let depth = ens.depth_of(root as usize);
            ens.trees.push(Tree {
                root,
                output,
                depth,
            });
        }
        ens.check().unwrap();
        ens
    }

    fn assert_close(a: &[f64], b: &[f64]) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-9, "{a:?} != {b:?}");
        }
    }

    #[test]
    fn matches_brute_force_shapley_values() {
        for seed in 0..200 {
            let per_class = seed % 2 == 0;
            let ens = random_ensemble(seed, 4, 2 + (seed % 2) as u32, per_class);
            let mut rng = Lcg(seed + 1000);
            for _ in 0..4 {
                let x: Vec<f64> = (0..4)
                    .map(|_| match rng.below(6) {
                        0 => f64::NAN,
                        1 => rng.below(5) as f64,
                        _ => rng.unit(),
                    })
                    .collect();
                let k = ens.n_outputs as usize;
                let mut phi = vec![0.0; 4 * k];
                ens.shap_values(&x, &mut phi);
                assert_close(&phi, &brute_force(&ens, &x));
                // Additivity: expected value + contributions = prediction.
                let mut raw = vec![0.0; k];
                ens.raw(&x, &mut raw);
                let expected = ens.expected_value();
                for o in 0..k {
                    let sum: f64 = (0..4).map(|f| phi[f * k + o]).sum();
                    assert!((expected[o] + sum - raw[o]).abs() < 1e-9, "seed {seed}");
                }
            }
        }
    }

    #[test]
    fn small_forest_by_hand() {
        let f = small_forest();
        assert_eq!(f.expected_value(), vec![0.5, 0.5]);
        let mut phi = vec![0.0; 4];
        f.shap_values(&[0.0, 1.0], &mut phi);
        assert_close(&phi, &brute_force(&f, &[0.0, 1.0]));
    }
}
