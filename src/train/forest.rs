//! Random forests of CART trees, as scikit-learn's `RandomForestClassifier`
//! builds them: each tree grows on a bootstrap sample of the rows (drawn with
//! replacement, as many as there are rows) and draws `sqrt(n_features)`
//! features at each node; the forest's probability is the mean of its trees'
//! class distributions (`Combine::Mean`, served with `Link::Identity`).
//!
//! Single-threaded on purpose: a given seed must give the same forest on
//! every machine, and the training sets lifeboat meets are small.

use super::TrainError;
use super::cart::{self, MaxFeatures, TreeGrower, TreeParams};
use super::matrix::Matrix;
use super::rng::Rng;
use crate::model::trees::{Combine, TreeEnsemble};

/// Settings of a random forest.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestParams {
    /// How many trees to average (default 100, as scikit-learn).
    pub n_trees: u32,
    /// Grow each tree on a bootstrap sample (default true). Without it every
    /// tree sees every row, and only the feature draws differ.
    pub bootstrap: bool,
    /// Settings of each tree: scikit-learn's defaults with `max_features =
    /// Sqrt` (fully grown trees, leaves of one row allowed).
    pub tree: TreeParams,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            n_trees: 100,
            bootstrap: true,
            tree: TreeParams {
                max_features: MaxFeatures::Sqrt,
                ..TreeParams::default()
            },
        }
    }
}

impl ForestParams {
    /// Every setting as (name, value), for the model report.
    pub fn describe(&self) -> Vec<(String, String)> {
        let mut settings = vec![
            ("n_trees".to_string(), self.n_trees.to_string()),
            ("bootstrap".to_string(), self.bootstrap.to_string()),
        ];
        settings.extend(self.tree.describe());
        settings
    }
}

/// Trains a random forest on all rows of `x`. Each tree gets its own
/// generator forked from `seed`, so the forest depends on nothing else.
pub fn random_forest(
    x: &Matrix,
    y: &[u32],
    n_classes: usize,
    params: &ForestParams,
    seed: u64,
) -> Result<TreeEnsemble, TrainError> {
    cart::check_inputs(x, y, n_classes)?;
    if params.n_trees == 0 {
        return Err(TrainError::Param(
            "n_trees is 0; a forest needs at least one tree".into(),
        ));
    }
    let grower = TreeGrower::new(x, y, n_classes, &params.tree)?;
    let mut ensemble =
        cart::empty_ensemble(x.n_cols, n_classes, Combine::Mean, vec![0.0; n_classes]);
    let mut rng = Rng::new(seed);
    let mut weights = vec![0.0; x.n_rows];
    for _ in 0..params.n_trees {
        let mut tree_rng = rng.fork();
        if params.bootstrap {
            // Counts as weights: the tree scikit-learn grows on a bootstrap sample.
            weights.fill(0.0);
            for _ in 0..x.n_rows {
                weights[tree_rng.below(x.n_rows)] += 1.0;
            }
        } else {
            weights.fill(1.0);
        }
        grower.grow(&mut ensemble, &weights, &mut tree_rng);
    }
    Ok(ensemble)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Link;
    use crate::train::cart::tests::{
        accuracy, assert_sound, cv_accuracy, matrix, titanic, uniform, xor,
    };

    fn small(n_trees: u32) -> ForestParams {
        ForestParams {
            n_trees,
            ..ForestParams::default()
        }
    }

    #[test]
    fn averages_its_trees_into_probabilities() {
        let (x, y) = xor(300, 1);
        let forest = random_forest(&x, &y, 2, &small(20), 5).unwrap();
        assert_sound(&forest, &x);
        assert_eq!(forest.trees.len(), 20);
        assert_eq!(forest.combine, Combine::Mean);
        let mut raw = [0.0; 2];
        for i in 0..x.n_rows {
            forest.raw(x.row(i), &mut raw);
            assert!((raw[0] + raw[1] - 1.0).abs() < 1e-12);
        }
        assert!(accuracy(&forest, Link::Identity, &x, &y) > 0.97);
        let (x_test, y_test) = xor(300, 2);
        assert!(accuracy(&forest, Link::Identity, &x_test, &y_test) > 0.9);
    }

    #[test]
    fn bootstrap_covers_count_draws() {
        let (x, y) = xor(100, 3);
        let forest = random_forest(&x, &y, 2, &small(10), 0).unwrap();
        for tree in &forest.trees {
            // n draws of n rows: the root weighs n, but leaves fewer distinct rows.
            assert_eq!(forest.nodes[tree.root as usize].cover, 100.0);
        }
        let no_bootstrap = ForestParams {
            bootstrap: false,
            tree: TreeParams::default(),
            n_trees: 3,
        };
        // Every row, every feature: each tree is the plain decision tree.
        let forest = random_forest(&x, &y, 2, &no_bootstrap, 0).unwrap();
        assert_sound(&forest, &x);
        assert_eq!(accuracy(&forest, Link::Identity, &x, &y), 1.0);
    }

    #[test]
    fn same_seed_same_forest_other_seed_other_forest() {
        let (x, y) = xor(200, 4);
        let a = random_forest(&x, &y, 2, &small(10), 42).unwrap();
        assert_eq!(a, random_forest(&x, &y, 2, &small(10), 42).unwrap());
        assert_ne!(a, random_forest(&x, &y, 2, &small(10), 43).unwrap());
    }

    #[test]
    fn three_classes_with_missing_values() {
        let mut rng = Rng::new(8);
        let mut x = uniform(300, 3, &mut rng);
        let y: Vec<u32> = (0..300)
            .map(|i| (x.get(i, 0) * 3.0).floor() as u32)
            .collect();
        for i in (0..300).step_by(7) {
            x.data[i * 3 + 1] = f64::NAN;
        }
        let forest = random_forest(&x, &y, 3, &small(30), 1).unwrap();
        assert_sound(&forest, &x);
        assert_eq!(forest.n_outputs, 3);
        assert!(accuracy(&forest, Link::Identity, &x, &y) > 0.97);
    }

    #[test]
    fn a_tree_may_see_one_class_only() {
        // Three rows of class 1 among many: some bootstrap samples miss them
        // all; those trees are one leaf and still give two probabilities.
        let rows: Vec<Vec<f64>> = (0..40).map(|i| vec![i as f64]).collect();
        let y: Vec<u32> = (0..40).map(|i| u32::from(i < 1)).collect();
        let x = matrix(&rows);
        let forest = random_forest(&x, &y, 2, &small(50), 0).unwrap();
        assert_sound(&forest, &x);
        let single_leaf = forest
            .trees
            .iter()
            .filter(|t| forest.nodes[t.root as usize].is_leaf())
            .count();
        assert!(single_leaf > 0);
    }

    #[test]
    fn bad_settings_are_refused() {
        let (x, y) = xor(20, 5);
        assert!(matches!(
            random_forest(&x, &y, 2, &small(0), 0),
            Err(TrainError::Param(_))
        ));
        let too_many_features = ForestParams {
            tree: TreeParams {
                max_features: MaxFeatures::Count(4),
                ..TreeParams::default()
            },
            ..ForestParams::default()
        };
        assert!(matches!(
            random_forest(&x, &y, 2, &too_many_features, 0),
            Err(TrainError::Param(_))
        ));
        assert_eq!(
            random_forest(&x, &y[..3], 2, &small(2), 0),
            Err(TrainError::Length {
                what: "the target",
                found: 3,
                expected: 20
            })
        );
    }

    #[test]
    fn describe_lists_forest_and_tree_settings() {
        let described = ForestParams::default().describe();
        assert_eq!(described[0], ("n_trees".into(), "100".into()));
        assert!(described.contains(&("max_features".into(), "sqrt".into())));
        assert_eq!(described.len(), 2 + TreeParams::default().describe().len());
    }

    #[test]
    fn titanic_cross_validation() {
        let Some((x, y)) = titanic() else { return };
        let accuracy = cv_accuracy(&x, &y, true, |x, y| {
            let forest = random_forest(x, y, 2, &ForestParams::default(), 0).unwrap();
            assert_sound(&forest, x);
            (forest, Link::Identity)
        });
        println!("random forest, 5-fold CV accuracy on Titanic: {accuracy:.4}");
        // scikit-learn's RandomForestClassifier: 0.824 on these folds.
        assert!(accuracy > 0.80, "{accuracy}");
    }
}
