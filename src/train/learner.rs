//! The learners `lifeboat train` offers, each with the preprocessing it
//! needs, and one function that fits any of them on validated rows.

use super::matrix::Matrix;
use super::prep::{self, Encoding};
use super::{TrainError, logistic};
use crate::model::{Estimator, Link, Preprocessor};
use crate::schema::{Row, Schema};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Learner {
    Logistic,
}

impl Learner {
    /// Every learner, in the order `--learner auto` tries them.
    pub const ALL: [Learner; 1] = [Learner::Logistic];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Learner::Logistic => "logistic",
        }
    }

    /// The name in words, for reports.
    pub fn description(self) -> &'static str {
        match self {
            Learner::Logistic => "logistic regression",
        }
    }

    pub fn from_name(name: &str) -> Option<Learner> {
        Learner::ALL.into_iter().find(|l| l.name() == name)
    }

    fn encoding(self) -> Encoding {
        match self {
            Learner::Logistic => Encoding::Linear,
        }
    }

    /// The settings of this learner, for the report.
    pub fn params(self) -> Vec<(String, String)> {
        match self {
            Learner::Logistic => logistic::LogisticParams::default().describe(),
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

/// Fits `learner` (with its default settings) on `rows`.
pub fn fit(
    learner: Learner,
    schema: &Schema,
    rows: &[Row],
    y: &[u32],
    n_classes: usize,
    _seed: u64,
) -> Result<Fitted, TrainError> {
    let preprocessor = prep::fit(schema, rows, learner.encoding());
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
    };
    Ok(Fitted {
        preprocessor,
        estimator,
        link,
        params: learner.params(),
    })
}
