//! The learners `lifeboat train` offers, each with the preprocessing it
//! needs, and one function that fits any of them on validated rows.

use super::matrix::Matrix;
use super::prep::{self, Encoding};
use super::{TrainError, cart, forest, gbdt, logistic};
use crate::model::{Estimator, Link, Preprocessor};
use crate::schema::{Row, Schema};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Learner {
    Logistic,
    Tree,
    Forest,
    Gbdt,
}

impl Learner {
    /// Every learner, in the order `--learner auto` tries them.
    pub const ALL: [Learner; 4] = [
        Learner::Logistic,
        Learner::Tree,
        Learner::Forest,
        Learner::Gbdt,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Learner::Logistic => "logistic",
            Learner::Tree => "tree",
            Learner::Forest => "forest",
            Learner::Gbdt => "gbdt",
        }
    }

    /// The name in words, for reports.
    pub fn description(self) -> &'static str {
        match self {
            Learner::Logistic => "logistic regression",
            Learner::Tree => "decision tree",
            Learner::Forest => "random forest",
            Learner::Gbdt => "gradient boosting",
        }
    }

    /// Whether the learner needs rows of two classes to fit (the tree
    /// learners); logistic regression fits rows of one.
    pub fn needs_two_classes(self) -> bool {
        self != Learner::Logistic
    }

    pub fn from_name(name: &str) -> Option<Learner> {
        Learner::ALL.into_iter().find(|l| l.name() == name)
    }

    fn encoding(self) -> Encoding {
        match self {
            Learner::Logistic => Encoding::Linear,
            // scikit-learn's trees and forests want no missing values; its
            // histogram boosting routes them itself, and so does ours.
            Learner::Tree | Learner::Forest => Encoding::TreesImputed,
            Learner::Gbdt => Encoding::TreesMissing,
        }
    }

    /// The settings of this learner, for the report.
    pub fn params(self) -> Vec<(String, String)> {
        match self {
            Learner::Logistic => logistic::LogisticParams::default().describe(),
            Learner::Tree => cart::TreeParams::default().describe(),
            Learner::Forest => forest::ForestParams::default().describe(),
            Learner::Gbdt => gbdt::GbdtParams::default().describe(),
        }
    }
}

/// A fitted preprocessing + estimator pair.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub preprocessor: Preprocessor,
    pub estimator: Estimator,
    pub link: Link,
    pub params: Vec<(String, String)>,
}

impl Fitted {
    /// Class probabilities for one row.
    pub fn probabilities(
        &self,
        row: &Row,
        features: &mut Vec<f64>,
        raw: &mut Vec<f64>,
    ) -> Vec<f64> {
        features.resize(self.preprocessor.n_features(), 0.0);
        raw.resize(self.estimator.n_outputs(), 0.0);
        self.preprocessor.transform(row, features);
        self.estimator.raw(features, raw);
        self.link.probabilities(raw)
    }
}

/// Checks that `learner` can prepare `rows` (logistic regression
/// standardizes every number column; a value too far from its column's mean
/// cannot be), without fitting it.
pub fn check(learner: Learner, schema: &Schema, rows: &[Row]) -> Result<(), TrainError> {
    match learner.encoding() {
        Encoding::Linear => prep::fit(schema, rows, Encoding::Linear).map(drop),
        Encoding::TreesImputed | Encoding::TreesMissing => Ok(()),
    }
}

/// Fits `learner` (with its default settings) on `rows`.
pub fn fit(
    learner: Learner,
    schema: &Schema,
    rows: &[Row],
    y: &[u32],
    n_classes: usize,
    seed: u64,
) -> Result<Fitted, TrainError> {
    let preprocessor = prep::fit(schema, rows, learner.encoding())?;
    let x: Matrix = prep::design_matrix(&preprocessor, rows);
    let (estimator, link) = match learner {
        Learner::Logistic => {
            let means = prep::column_means(&x);
            let (linear, link) = logistic::fit(
                &x,
                y,
                n_classes,
                &logistic::LogisticParams::default(),
                means,
            )?;
            (Estimator::Linear(linear), link)
        }
        Learner::Tree => {
            let tree = cart::decision_tree(&x, y, n_classes, &cart::TreeParams::default(), seed)?;
            (Estimator::Trees(tree), Link::Identity)
        }
        Learner::Forest => {
            let params = forest::ForestParams::default();
            let forest = forest::random_forest(&x, y, n_classes, &params, seed)?;
            (Estimator::Trees(forest), Link::Identity)
        }
        Learner::Gbdt => {
            let params = gbdt::GbdtParams::default();
            let boosted = gbdt::gradient_boosting(&x, y, n_classes, &params, seed)?;
            (Estimator::Trees(boosted.ensemble), boosted.link)
        }
    };
    Ok(Fitted {
        preprocessor,
        estimator,
        link,
        params: learner.params(),
    })
}
