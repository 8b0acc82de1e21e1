//! Learners: from a table of validated rows to a [`crate::model::Model`].
//! Everything here is deterministic given the seed.

pub mod cart;
pub mod forest;
pub mod gbdt;
pub mod matrix;
pub mod rng;

/// Why training could not run. Each variant says what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error("there are no rows to train on")]
    NoRows,
    #[error("the target has {0} class(es) in the training rows; a classifier needs at least two")]
    TooFewClasses(usize),
    #[error("{what} has {found} entries but there are {expected} rows")]
    Length {
        what: &'static str,
        found: usize,
        expected: usize,
    },
    #[error("class index {found} is out of range for {n_classes} classes")]
    ClassOutOfRange { found: u32, n_classes: usize },
    #[error("invalid setting: {0}")]
    Param(String),
    #[error("the feature matrix has no columns; a learner needs at least one feature")]
    NoFeatures,
    #[error(
        "the feature matrix says {rows} rows × {cols} columns but holds {len} numbers; build it with `Matrix::zeros` or `Matrix::select`"
    )]
    MatrixShape {
        rows: usize,
        cols: usize,
        len: usize,
    },
    #[error(
        "feature {feature} of row {row} (both counted from 0) is {value}; trees accept finite numbers, or NaN for a missing value"
    )]
    InfiniteFeature {
        row: usize,
        feature: usize,
        value: f64,
    },
}
