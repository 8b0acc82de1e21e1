//! `ai.onnx.ml.TreeEnsembleClassifier` and `TreeEnsembleRegressor` (opsets 1
//! and 3), evaluated as onnxruntime does: float32 thresholds and sums, every
//! branch mode, `nodes_missing_value_tracks_true`, base values, the
//! aggregate functions, and onnxruntime's conventions for binary classifiers
//! whose leaves score one class only (gradient boosting writes one log-odds
//! and one base value; ours turns it into two probabilities as onnxruntime does).
//!
//! Everything a file says is checked when the op is built: node and leaf ids
//! exist, children come after their parent (so a walk always ends), class
//! and target ids are in range. Evaluation then uses checked indexing only.

use std::collections::HashMap;

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

use super::{Compat, CompatOp, Floats, Post, logistic, parse_post};
use crate::onnx::graph;
use crate::quote::quoted;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Mode {
    Leq,
    Lt,
    Gte,
    Gt,
    Eq,
    Neq,
    Leaf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Aggregate {
    Sum,
    Average,
    Min,
    Max,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Labels {
    Ints(Vec<i64>),
    Strings(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Kind {
    Classifier {
        labels: Labels,
        /// Two classes, with leaf weights for one of them only.
        binary: bool,
        all_positive: bool,
    },
    Regressor {
        aggregate: Aggregate,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Node {
    mode: Mode,
    feature: usize,
    threshold: u32,
    nan_true: bool,
    if_true: usize,
    if_false: usize,
    /// This leaf's weights: `weights[leaf.0..leaf.1]`.
    leaf: (usize, usize),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TreeEnsemble {
    kind: Kind,
    n_outputs: usize,
    n_features: usize,
    nodes: Vec<Node>,
    roots: Vec<usize>,
    /// (output index, weight bits)
    weights: Vec<(usize, u32)>,
    base: Floats,
    post: Post,
}

pub fn build_classifier(
    _: &ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    Ok((expand(Compat(parse(node, true)?)), vec![]))
}

pub fn build_regressor(
    _: &ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    Ok((expand(Compat(parse(node, false)?)), vec![]))
}

fn parse(node: &NodeProto, classifier: bool) -> TractResult<TreeEnsemble> {
    let op = &node.op_type;
    let name = quoted(&node.name);
    for a in &node.attribute {
        if a.name.ends_with("_as_tensor") {
            bail!(
                "{op} {name}: attribute {} (double precision trees) is not supported; export with float32 inputs",
                crate::quote::name(&a.name)
            );
        }
    }
    let ints = |attr: &str| graph::ints(node, attr).unwrap_or_default();
    let tree_ids = ints("nodes_treeids");
    let node_ids = ints("nodes_nodeids");
    let features = ints("nodes_featureids");
    let true_ids = ints("nodes_truenodeids");
    let false_ids = ints("nodes_falsenodeids");
    let values = graph::floats(node, "nodes_values").unwrap_or_default();
    let modes = graph::strings(node, "nodes_modes").unwrap_or_default();
    let n = node_ids.len();
    if n == 0 {
        bail!("{op} {name} has no nodes");
    }
    let tracks = ints("nodes_missing_value_tracks_true");
    for (attr, len) in [
        ("nodes_treeids", tree_ids.len()),
        ("nodes_featureids", features.len()),
        ("nodes_truenodeids", true_ids.len()),
        ("nodes_falsenodeids", false_ids.len()),
        ("nodes_values", values.len()),
        ("nodes_modes", modes.len()),
    ] {
        if len != n {
            bail!("{op} {name}: {attr} has {len} entries for {n} nodes");
        }
    }
    if !tracks.is_empty() && tracks.len() != n {
        bail!(
            "{op} {name}: nodes_missing_value_tracks_true has {} entries for {n} nodes",
            tracks.len()
        );
    }
    let mut index: HashMap<(i64, i64), usize> = HashMap::with_capacity(n);
    for i in 0..n {
        if index.insert((tree_ids[i], node_ids[i]), i).is_some() {
            bail!(
                "{op} {name}: tree {} has node {} twice",
                tree_ids[i],
                node_ids[i]
            );
        }
    }
    let mut nodes = Vec::with_capacity(n);
    for i in 0..n {
        let mode = match modes[i].as_str() {
            "BRANCH_LEQ" => Mode::Leq,
            "BRANCH_LT" => Mode::Lt,
            "BRANCH_GTE" => Mode::Gte,
            "BRANCH_GT" => Mode::Gt,
            "BRANCH_EQ" => Mode::Eq,
            "BRANCH_NEQ" => Mode::Neq,
            "LEAF" => Mode::Leaf,
            other => bail!(
                "{op} {name}: node mode {} is not an ONNX node mode",
                quoted(other)
            ),
        };
        let child = |id: i64| -> TractResult<usize> {
            if id <= node_ids[i] {
                bail!(
                    "{op} {name}: tree {} node {} has child {id}, which does not come after it",
                    tree_ids[i],
                    node_ids[i]
                );
            }
            index
                .get(&(tree_ids[i], id))
                .copied()
                .ok_or_else(|| format_err!("{op} {name}: tree {} has no node {id}", tree_ids[i]))
        };
        let (if_true, if_false, feature) = if mode == Mode::Leaf {
            (0, 0, 0)
        } else {
            let f = usize::try_from(features[i])
                .map_err(|_| format_err!("{op} {name}: feature id {} is negative", features[i]))?;
            (child(true_ids[i])?, child(false_ids[i])?, f)
        };
        nodes.push(Node {
            mode,
            feature,
            threshold: values[i].to_bits(),
            nan_true: tracks.get(i).is_some_and(|t| *t != 0),
            if_true,
            if_false,
            leaf: (0, 0),
        });
    }
    // Roots: the lowest node id of each tree, trees in id order.
    let mut roots: Vec<(i64, i64, usize)> = Vec::new();
    for i in 0..n {
        match roots.iter_mut().find(|r| r.0 == tree_ids[i]) {
            Some(r) if node_ids[i] < r.1 => *r = (tree_ids[i], node_ids[i], i),
            Some(_) => {}
            None => roots.push((tree_ids[i], node_ids[i], i)),
        }
    }
    roots.sort_by_key(|r| r.0);
    let roots: Vec<usize> = roots.into_iter().map(|r| r.2).collect();

    let prefix = if classifier { "class" } else { "target" };
    let w_tree = ints(&format!("{prefix}_treeids"));
    let w_node = ints(&format!("{prefix}_nodeids"));
    let w_id = ints(&format!("{prefix}_ids"));
    let w_value = graph::floats(node, &format!("{prefix}_weights")).unwrap_or_default();
    let m = w_id.len();
    if w_tree.len() != m || w_node.len() != m || w_value.len() != m {
        bail!("{op} {name}: the {prefix}_* weight attributes differ in length");
    }
    let (kind, n_outputs) = if classifier {
        let labels = match (
            graph::ints(node, "classlabels_int64s").filter(|v| !v.is_empty()),
            graph::strings(node, "classlabels_strings").filter(|v| !v.is_empty()),
        ) {
            (Some(i), None) => Labels::Ints(i),
            (None, Some(s)) => Labels::Strings(s),
            _ => {
                bail!("{op} {name} needs exactly one of classlabels_int64s and classlabels_strings")
            }
        };
        let k = match &labels {
            Labels::Ints(v) => v.len(),
            Labels::Strings(v) => v.len(),
        };
        let mut ids: Vec<i64> = w_id.clone();
        ids.sort_unstable();
        ids.dedup();
        let kind = Kind::Classifier {
            labels,
            binary: k == 2 && ids.len() == 1,
            all_positive: w_value.iter().all(|w| *w >= 0.0),
        };
        (kind, k)
    } else {
        let aggregate = match graph::string(node, "aggregate_function").as_deref() {
            None | Some("SUM") => Aggregate::Sum,
            Some("AVERAGE") => Aggregate::Average,
            Some("MIN") => Aggregate::Min,
            Some("MAX") => Aggregate::Max,
            Some(other) => bail!(
                "{op} {name}: aggregate_function {} is not one of SUM, AVERAGE, MIN, MAX",
                quoted(other)
            ),
        };
        let targets = graph::int(node, "n_targets").unwrap_or(1);
        let targets = usize::try_from(targets)
            .ok()
            .filter(|t| (1..=4096).contains(t))
            .ok_or_else(|| format_err!("{op} {name}: n_targets is {targets}"))?;
        (Kind::Regressor { aggregate }, targets)
    };
    // Leaf weights, grouped by node.
    let mut entries: Vec<(usize, usize, u32)> = Vec::with_capacity(m);
    for j in 0..m {
        let at = index.get(&(w_tree[j], w_node[j])).copied().ok_or_else(|| {
            format_err!(
                "{op} {name}: a weight is for tree {} node {}, which does not exist",
                w_tree[j],
                w_node[j]
            )
        })?;
        if nodes[at].mode != Mode::Leaf {
            bail!(
                "{op} {name}: a weight is for tree {} node {}, which is not a leaf",
                w_tree[j],
                w_node[j]
            );
        }
        let id = usize::try_from(w_id[j])
            .ok()
            .filter(|id| *id < n_outputs)
            .ok_or_else(|| {
                format_err!(
                    "{op} {name}: a weight is for output {} of {n_outputs}",
                    w_id[j]
                )
            })?;
        entries.push((at, id, w_value[j].to_bits()));
    }
    entries.sort_by_key(|e| e.0);
    let mut weights = Vec::with_capacity(m);
    let mut start = 0;
    while start < entries.len() {
        let at = entries[start].0;
        let end = start + entries[start..].iter().take_while(|e| e.0 == at).count();
        nodes[at].leaf = (start, end);
        weights.extend(entries[start..end].iter().map(|e| (e.1, e.2)));
        start = end;
    }
    let base = graph::floats(node, "base_values").unwrap_or_default();
    if !base.is_empty() && base.len() != n_outputs && base.len() != 1 {
        bail!(
            "{op} {name}: {} base values for {n_outputs} outputs",
            base.len()
        );
    }
    let post = parse_post(node)?;
    let n_features = nodes
        .iter()
        .filter(|n| n.mode != Mode::Leaf)
        .map(|n| n.feature + 1)
        .max()
        .unwrap_or(0);
    Ok(TreeEnsemble {
        kind,
        n_outputs,
        n_features,
        nodes,
        roots,
        weights,
        base: Floats(base),
        post,
    })
}

impl TreeEnsemble {
    /// The leaf a tree sends row `x` to. Children always come after their
    /// parent (checked at build), so the walk ends.
    fn leaf(&self, root: usize, x: &[f32]) -> TractResult<&Node> {
        let mut at = root;
        loop {
            let node = &self.nodes[at];
            if node.mode == Mode::Leaf {
                return Ok(node);
            }
            let v = *x.get(node.feature).ok_or_else(|| {
                format_err!("the trees read feature {} of {}", node.feature, x.len())
            })?;
            let t = f32::from_bits(node.threshold);
            let cond = match node.mode {
                Mode::Leq => v <= t,
                Mode::Lt => v < t,
                Mode::Gte => v >= t,
                Mode::Gt => v > t,
                Mode::Eq => v == t,
                Mode::Neq => v != t,
                Mode::Leaf => false,
            } || (node.nan_true && v.is_nan());
            at = if cond { node.if_true } else { node.if_false };
        }
    }

    /// Scores one row into `out` (`n_outputs` numbers).
    fn score(&self, x: &[f32], out: &mut [f32]) -> TractResult<()> {
        let k = self.n_outputs;
        let mut scores = vec![0f32; k];
        let mut has = vec![false; k];
        let aggregate = match self.kind {
            Kind::Regressor { aggregate } => aggregate,
            Kind::Classifier { .. } => Aggregate::Sum,
        };
        for &root in &self.roots {
            let leaf = self.leaf(root, x)?;
            for &(id, w) in &self.weights[leaf.leaf.0..leaf.leaf.1] {
                let w = f32::from_bits(w);
                let s = &mut scores[id];
                *s = match aggregate {
                    Aggregate::Sum | Aggregate::Average => *s + w,
                    Aggregate::Min if has[id] => s.min(w),
                    Aggregate::Max if has[id] => s.max(w),
                    Aggregate::Min | Aggregate::Max => w,
                };
                has[id] = true;
            }
        }
        let base = &self.base.0;
        match &self.kind {
            Kind::Regressor { aggregate } => {
                let trees = self.roots.len() as f32;
                for j in 0..k {
                    if *aggregate == Aggregate::Average {
                        scores[j] /= trees;
                    }
                    if base.len() == k {
                        scores[j] += base[j];
                    }
                }
                // onnxruntime applies post transforms to multi-target regressors only.
                if k > 1 {
                    self.transform(&mut scores);
                }
                out.copy_from_slice(&scores);
            }
            Kind::Classifier {
                binary,
                all_positive,
                ..
            } if k == 2 => {
                // onnxruntime's binary conventions (TreeAggregatorClassifier::FinalizeScores).
                let mut add_second = -1;
                let mut pair = true;
                if base.len() == 2 {
                    if has[1] {
                        scores[1] = base[1] + scores[0];
                        scores[0] = -scores[1];
                    } else {
                        scores[1] += base[1];
                        scores[0] += base[0];
                    }
                } else if base.len() == 1 {
                    scores[0] += base[0];
                    pair = has[1];
                } else {
                    add_second = 3;
                    pair = has[1];
                }
                let positive = if pair && has[1] {
                    scores[1]
                } else if has[0] {
                    scores[0]
                } else {
                    0.0
                };
                if *binary {
                    add_second = match (*all_positive, positive) {
                        (true, p) if p > 0.5 => 0,
                        (true, _) => 1,
                        (false, p) if p > 0.0 => 2,
                        (false, _) => 3,
                    };
                }
                if pair {
                    self.transform(&mut scores);
                } else {
                    let s = scores[0];
                    scores = match (add_second, self.post) {
                        (0 | 1, _) => vec![1.0 - s, s],
                        (2 | 3, Post::Logistic) => vec![logistic(-s), logistic(s)],
                        (2, _) => vec![-s, s],
                        (3, _) => vec![s, -s],
                        _ => bail!(
                            "a binary tree classifier without one-class leaves gave one score"
                        ),
                    };
                }
                out.copy_from_slice(&scores);
            }
            Kind::Classifier { .. } => {
                for (j, b) in base.iter().enumerate().take(k) {
                    scores[j] += b;
                }
                self.transform(&mut scores);
                out.copy_from_slice(&scores);
            }
        }
        Ok(())
    }

    fn transform(&self, scores: &mut [f32]) {
        self.post.apply(scores);
    }

    fn check_input(&self, shape: &ShapeFact) -> TractResult<()> {
        if shape.rank() != 2 {
            bail!(
                "the trees take a [rows, features] input, not rank {}",
                shape.rank()
            );
        }
        if let Ok(f) = shape[1].to_usize()
            && f < self.n_features
        {
            bail!(
                "the trees read feature #{} but the input has {f}",
                self.n_features - 1
            );
        }
        Ok(())
    }
}

impl Op for TreeEnsemble {
    fn name(&self) -> StaticName {
        match self.kind {
            Kind::Classifier { .. } => "TreeEnsembleClassifier".into(),
            Kind::Regressor { .. } => "TreeEnsembleRegressor".into(),
        }
    }

    op_as_typed_op!();
}

impl EvalOp for TreeEnsemble {
    op_out_of_plan!();

    fn eval(&self, _: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let x = input.cast_to::<f32>()?;
        let x = x.to_plain_array_view::<f32>()?;
        if x.ndim() != 2 {
            bail!(
                "the trees take a [rows, features] input, not {:?}",
                x.shape()
            );
        }
        let (rows, width) = (x.shape()[0], x.shape()[1]);
        let k = self.n_outputs;
        let mut scores = vec![0f32; rows * k];
        let mut row = vec![0f32; width];
        for (r, slot) in scores.chunks_mut(k).enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                *v = x[[r, c]];
            }
            self.score(&row, slot)?;
        }
        let scores = tract_ndarray::Array2::from_shape_vec((rows, k), scores)?;
        let Kind::Classifier { labels, .. } = &self.kind else {
            return Ok(tvec!(scores.into_tensor().into_tvalue()));
        };
        // The label output is the argmax of the probabilities: lifeboat reads
        // the probabilities only, and this keeps the two consistent.
        let best: Vec<usize> = scores
            .outer_iter()
            .map(|p| {
                p.iter()
                    .enumerate()
                    .fold(0, |b, (i, v)| if *v > p[b] { i } else { b })
            })
            .collect();
        let labels = match labels {
            Labels::Ints(l) => {
                tract_ndarray::Array1::from_iter(best.iter().map(|b| l[*b])).into_tensor()
            }
            Labels::Strings(l) => {
                tract_ndarray::Array1::from_iter(best.iter().map(|b| l[*b].clone())).into_tensor()
            }
        };
        Ok(tvec!(
            labels.into_tvalue(),
            scores.into_tensor().into_tvalue()
        ))
    }
}

impl TypedOp for TreeEnsemble {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        self.check_input(&inputs[0].shape)?;
        let rows = inputs[0].shape[0].clone();
        let scores = f32::fact([rows.clone(), self.n_outputs.into()]);
        Ok(match &self.kind {
            Kind::Classifier {
                labels: Labels::Ints(_),
                ..
            } => tvec!(i64::fact([rows]), scores),
            Kind::Classifier {
                labels: Labels::Strings(_),
                ..
            } => tvec!(String::fact([rows]), scores),
            Kind::Regressor { .. } => tvec!(scores),
        })
    }

    as_op!();
}

impl CompatOp for TreeEnsemble {
    fn n_outputs(&self) -> usize {
        match self.kind {
            Kind::Classifier { .. } => 2,
            Kind::Regressor { .. } => 1,
        }
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 1)?;
        check_output_arity(outputs, CompatOp::n_outputs(self))?;
        let scores = &outputs[outputs.len() - 1];
        s.equals(&scores.datum_type, f32::datum_type())?;
        s.equals(&scores.rank, 2)?;
        s.equals(&scores.shape[0], &inputs[0].shape[0])?;
        s.equals(&scores.shape[1], self.n_outputs.to_dim())?;
        if let Kind::Classifier { labels, .. } = &self.kind {
            let dt = match labels {
                Labels::Ints(_) => i64::datum_type(),
                Labels::Strings(_) => String::datum_type(),
            };
            s.equals(&outputs[0].datum_type, dt)?;
            s.equals(&outputs[0].rank, 1)?;
            s.equals(&outputs[0].shape[0], &inputs[0].shape[0])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::AttributeProto;

    fn ints(name: &str, v: &[i64]) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            ints: v.to_vec(),
            ..Default::default()
        }
    }

    fn floats(name: &str, v: &[f32]) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            floats: v.to_vec(),
            ..Default::default()
        }
    }

    fn strings(name: &str, v: &[&str]) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            strings: v.iter().map(|s| s.as_bytes().to_vec()).collect(),
            ..Default::default()
        }
    }

    /// One tree: node 0 tests feature 0 with `mode` against 1.0, children
    /// `true_id` and 2; `leaves` are (node, class, weight).
    fn stump(mode: &str, true_id: i64, leaves: &[(i64, i64, f32)]) -> NodeProto {
        NodeProto {
            op_type: "TreeEnsembleClassifier".into(),
            name: "t".into(),
            attribute: vec![
                ints("nodes_treeids", &[0, 0, 0]),
                ints("nodes_nodeids", &[0, 1, 2]),
                ints("nodes_featureids", &[0, 0, 0]),
                strings("nodes_modes", &[mode, "LEAF", "LEAF"]),
                floats("nodes_values", &[1.0, 0.0, 0.0]),
                ints("nodes_truenodeids", &[true_id, 0, 0]),
                ints("nodes_falsenodeids", &[2, 0, 0]),
                ints("nodes_missing_value_tracks_true", &[1, 0, 0]),
                ints("class_treeids", &vec![0; leaves.len()]),
                ints(
                    "class_nodeids",
                    &leaves.iter().map(|l| l.0).collect::<Vec<_>>(),
                ),
                ints("class_ids", &leaves.iter().map(|l| l.1).collect::<Vec<_>>()),
                floats(
                    "class_weights",
                    &leaves.iter().map(|l| l.2).collect::<Vec<_>>(),
                ),
                ints("classlabels_int64s", &[0, 1]),
            ],
            ..Default::default()
        }
    }

    /// Leaf 1 says class 0, leaf 2 class 1, as skl2onnx writes a decision tree.
    const TREE: &[(i64, i64, f32)] = &[(1, 0, 1.0), (1, 1, 0.0), (2, 0, 0.0), (2, 1, 1.0)];

    fn scores(op: &TreeEnsemble, x: f32) -> Vec<f32> {
        let mut out = vec![0.0; 2];
        op.score(&[x], &mut out).unwrap();
        out
    }

    #[test]
    fn every_branch_mode_and_missing_values() {
        let op = parse(&stump("BRANCH_GTE", 1, TREE), true).unwrap();
        assert_eq!(scores(&op, 1.0), vec![1.0, 0.0]);
        assert_eq!(scores(&op, 0.5), vec![0.0, 1.0]);
        // nodes_missing_value_tracks_true sends NaN to the true branch.
        assert_eq!(scores(&op, f32::NAN), vec![1.0, 0.0]);
        let op = parse(&stump("BRANCH_LT", 1, TREE), true).unwrap();
        assert_eq!(scores(&op, 1.0), vec![0.0, 1.0]);
        let op = parse(&stump("BRANCH_NEQ", 1, TREE), true).unwrap();
        assert_eq!(scores(&op, 1.0), vec![0.0, 1.0]);
    }

    #[test]
    fn damaged_trees_are_refused_when_built() {
        let e = parse(&stump("BRANCH_LEQ", 0, TREE), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not come after it"), "{e}");
        let e = parse(&stump("BRANCH_LEQ", 7, TREE), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no node 7"), "{e}");
        let e = parse(&stump("BRANCH_LEQ", 1, &[(1, 5, 1.0)]), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("output 5 of 2"), "{e}");
        let e = parse(&stump("BRANCH_SOMETIMES", 1, TREE), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("BRANCH_SOMETIMES"), "{e}");
        let e = parse(&stump("BRANCH_LEQ", 1, &[(0, 0, 1.0)]), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a leaf"), "{e}");
    }

    #[test]
    fn one_class_binary_leaves_follow_onnxruntime() {
        // Gradient boosting: leaves score class 0 only (log-odds of either
        // sign), one base value, LOGISTIC: two probabilities.
        let mut node = stump("BRANCH_LEQ", 1, &[(1, 0, 1.0), (2, 0, -1.0)]);
        node.attribute.push(floats("base_values", &[0.5]));
        node.attribute.push(AttributeProto {
            name: "post_transform".into(),
            s: b"LOGISTIC".to_vec(),
            ..Default::default()
        });
        let op = parse(&node, true).unwrap();
        let s = scores(&op, 0.0);
        let p = logistic(1.5);
        assert!(
            (s[1] - p).abs() < 1e-7 && (s[0] - (1.0 - p)).abs() < 1e-6,
            "{s:?}"
        );
    }
}
