//! `HistGradientBoostingClassifier` / `HistGradientBoostingRegressor`:
//! `_baseline_prediction` plus the leaf values of every `TreePredictor`
//! (already scaled by the learning rate), inputs compared as float64.
//!
//! Routing mirrors `_predict_one_from_raw_data` in `_predictor.pyx`: NaN
//! follows `missing_go_to_left`; at a categorical split a category in
//! `raw_left_cat_bitsets` goes left, another known category (the bin
//! mapper's `bin_thresholds_`) goes right, and a negative or unknown
//! category follows the missing side. lifeboat folds "unknown goes the
//! missing way" into the left set, so one 256-bit set per split suffices.
//! scikit-learn >= 1.4 first re-encodes categorical inputs with its own
//! `_preprocessor` (an OrdinalEncoder in a ColumnTransformer), applied here
//! like any other transformer.

use crate::model::trees::{Combine, Node as TreeNode, Split, Tree, TreeEnsemble};
use crate::model::{Estimator, Link};
use crate::quote::quoted;

use super::features::{Col, Fields};
use super::object::Obj;
use super::tree;
use super::{Fitted, SklearnError, Target};

/// Words of a 256-category bit set (scikit-learn's `X_BITSET_INNER_DTYPE[8]`).
const WORDS: usize = 8;

/// Applies the estimator's own preprocessor (scikit-learn >= 1.4), if any.
pub fn preprocess(
    est: &Obj,
    cols: Vec<Col>,
    fields: &mut Fields,
    depth: usize,
) -> Result<Vec<Col>, SklearnError> {
    if est.is_none("_preprocessor") {
        return Ok(cols);
    }
    let pre = est.child("_preprocessor")?;
    super::transform(&pre, cols, fields, depth + 1)
}

pub fn convert(est: &Obj, n_features: usize) -> Result<Fitted, SklearnError> {
    let classifier = est.class().ends_with("Classifier");
    let k = usize::try_from(est.int("n_trees_per_iteration_")?).unwrap_or(0);
    let loss = est.child("_loss")?;
    let (target, link) = if classifier {
        let classes = super::classes(est)?;
        let link = match (classes.len(), k) {
            (2, 1) => Link::Logistic,
            (c, k) if c == k && c > 2 => Link::Softmax,
            (c, k) => {
                return Err(est.bad("n_trees_per_iteration_", format!("is {k} for {c} classes")));
            }
        };
        (Target::Classes(classes), link)
    } else {
        // Poisson, gamma and Tweedie losses predict exp(raw).
        if !matches!(
            loss.class(),
            "HalfSquaredError" | "AbsoluteError" | "PinballLoss" | "HuberLoss"
        ) {
            return Err(SklearnError::Unsupported {
                class: est.class().to_string(),
                why: format!("its loss {} predicts through a log link", loss.class()),
            });
        }
        (Target::Value, Link::Identity)
    };
    let mut ens = tree::ensemble(n_features, k, Combine::Sum, false);
    let baseline = est.f64s("_baseline_prediction")?;
    if baseline.len() != k {
        return Err(est.bad(
            "_baseline_prediction",
            format!("has {} values for {k} outputs", baseline.len()),
        ));
    }
    ens.base_score = baseline;
    let known = known_categories(est, n_features)?;
    for (i, iteration) in est.items("_predictors")?.iter().enumerate() {
        let trees = est
            .pickle
            .items(*iteration)
            .ok_or_else(|| est.bad("_predictors", "should be a list of lists"))?;
        if trees.len() != k {
            return Err(est.bad(
                "_predictors",
                format!("iteration {i} has {} trees, not {k}", trees.len()),
            ));
        }
        for (output, id) in trees.iter().enumerate() {
            let predictor = Obj::at(est.pickle, *id, Some(est.class()))?;
            append(&mut ens, &predictor, output as u32, &known).map_err(|why| {
                est.bad(
                    "_predictors",
                    format!("iteration {i}, tree {output}: {why}"),
                )
            })?;
        }
    }
    if ens.trees.is_empty() {
        return Err(est.bad("_predictors", "is empty"));
    }
    Ok(Fitted::new(Estimator::Trees(ens), link, target).nan(true))
}

/// The known categories of each categorical feature, as 256-bit sets.
fn known_categories(
    est: &Obj,
    n_features: usize,
) -> Result<Vec<Option<[u32; WORDS]>>, SklearnError> {
    let mapper = est.child("_bin_mapper")?;
    let mut out = vec![None; n_features];
    if mapper.is_none("is_categorical_") {
        return Ok(out);
    }
    let is_cat = mapper.f64s("is_categorical_")?;
    let thresholds = mapper.items("bin_thresholds_")?;
    for (f, flag) in is_cat.iter().enumerate() {
        if *flag == 0.0 {
            continue;
        }
        let values = thresholds
            .get(f)
            .and_then(|id| super::object::f64s(est.pickle, *id))
            .ok_or_else(|| {
                mapper.bad(
                    "bin_thresholds_",
                    format!("has no categories for feature {f}"),
                )
            })?;
        let mut set = [0u32; WORDS];
        for v in values {
            // `set_bitset` takes the category as X_BINNED_DTYPE (uint8).
            if (0.0..256.0).contains(&v) {
                let c = v as usize;
                set[c / 32] |= 1 << (c % 32);
            }
        }
        if let Some(slot) = out.get_mut(f) {
            *slot = Some(set);
        }
    }
    Ok(out)
}

fn append(
    ens: &mut TreeEnsemble,
    predictor: &Obj,
    output: u32,
    known: &[Option<[u32; WORDS]>],
) -> Result<(), String> {
    let nodes = predictor.array("nodes").map_err(|e| e.to_string())?;
    let field_f = |name: &str| {
        nodes
            .field_f64(name)
            .ok_or_else(|| format!("nodes have no field {}", quoted(name)))
    };
    let value = field_f("value")?;
    let count = field_f("count")?;
    let feature = field_f("feature_idx")?;
    let threshold = field_f("num_threshold")?;
    let missing_left = field_f("missing_go_to_left")?;
    let left = field_f("left")?;
    let right = field_f("right")?;
    let is_leaf = field_f("is_leaf")?;
    let is_cat = nodes
        .field_f64("is_categorical")
        .unwrap_or_else(|| vec![0.0; value.len()]);
    let bitset_idx = nodes
        .field_f64("bitset_idx")
        .unwrap_or_else(|| vec![0.0; value.len()]);
    // Read once per tree: the rows of `raw_left_cat_bitsets`, (n_splits, 8) uint32.
    let left_sets = if predictor.is_none("raw_left_cat_bitsets") {
        None
    } else {
        let sets = predictor
            .array("raw_left_cat_bitsets")
            .map_err(|e| e.to_string())?;
        Some(sets.to_f64().ok_or("category sets are not numbers")?)
    };
    let n = value.len();
    if n == 0 {
        return Err("a tree has no nodes".into());
    }
    let base = ens.nodes.len();
    let mut depth = vec![0u32; n];
    for i in (0..n).rev() {
        if is_leaf[i] != 0.0 {
            continue;
        }
        let child =
            |c: f64| (c > i as f64 && c < n as f64 && c.fract() == 0.0).then_some(c as usize);
        let (Some(l), Some(r)) = (child(left[i]), child(right[i])) else {
            return Err(format!("node {i} has children that do not follow it"));
        };
        depth[i] = 1 + depth[l].max(depth[r]);
        if depth[i] > crate::model::trees::MAX_DEPTH {
            return Err("a tree is too deep".into());
        }
    }
    for i in 0..n {
        let node = if is_leaf[i] != 0.0 {
            let offset = u32::try_from(ens.leaf_values.len()).map_err(|_| "too many leaves")?;
            ens.leaf_values.push(value[i]);
            TreeNode::leaf(offset, count[i])
        } else {
            let f = feature[i];
            if !(f >= 0.0 && f < ens.n_features as f64) {
                return Err(format!("node {i} splits on feature {f}"));
            }
            let f_u = f as u32;
            let split = if is_cat[i] != 0.0 {
                let set = left_set(left_sets.as_deref(), bitset_idx[i])?;
                let known = known.get(f as usize).copied().flatten().ok_or_else(|| {
                    format!(
                        "node {i} splits feature {f} by category, but it has no known categories"
                    )
                })?;
                let start =
                    u32::try_from(ens.bitsets.len()).map_err(|_| "too many category sets")?;
                for w in 0..WORDS {
                    let unknown = !known[w];
                    ens.bitsets
                        .push(set[w] | if missing_left[i] != 0.0 { unknown } else { 0 });
                }
                Split::Categorical {
                    feature: f_u,
                    start,
                    words: WORDS as u32,
                }
            } else {
                Split::Numeric {
                    feature: f_u,
                    threshold: threshold[i],
                }
            };
            let index =
                |c: f64| u32::try_from(base + c as usize).map_err(|_| "too many nodes".to_string());
            TreeNode {
                split,
                left: index(left[i])?,
                right: index(right[i])?,
                missing_left: missing_left[i] != 0.0,
                cover: count[i],
            }
        };
        ens.nodes.push(node);
    }
    ens.trees.push(Tree {
        root: u32::try_from(base).map_err(|_| "too many nodes")?,
        output: Some(output),
        depth: depth[0],
    });
    Ok(())
}

/// Row `index` of `raw_left_cat_bitsets`.
fn left_set(words: Option<&[f64]>, index: f64) -> Result<[u32; WORDS], String> {
    let words = words.ok_or("a categorical split without category sets")?;
    let start = (index as usize)
        .checked_mul(WORDS)
        .filter(|s| index >= 0.0 && s.checked_add(WORDS).is_some_and(|end| end <= words.len()));
    let start = start.ok_or_else(|| format!("category set {index} does not exist"))?;
    let mut out = [0u32; WORDS];
    for (w, slot) in out.iter_mut().enumerate() {
        *slot = words[start + w] as u32;
    }
    Ok(out)
}
