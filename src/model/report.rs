//! Where a model came from and how good it is: the training report stored in
//! every model file and shown by `lifeboat inspect` and the model card.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The lifeboat version that wrote the file.
    pub lifeboat_version: String,
    /// When the model was made, RFC 3339 in UTC.
    pub created: String,
    /// The estimator in words, e.g. "gradient boosting".
    pub learner: String,
    /// The estimator's settings, as `(name, value)` pairs.
    pub params: Vec<(String, String)>,
    pub origin: Origin,
    pub cross_validation: Option<CrossValidation>,
    /// Mean absolute contribution of each schema field over the training rows
    /// (empty when unknown): the model card's importance chart.
    pub field_importance: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Origin {
    /// Trained by `lifeboat train`.
    Trained {
        /// The file name of the training data (no directories, which say nothing portable).
        data_file: String,
        /// SHA-256 of the training data file, as hex.
        data_sha256: String,
        /// Rows used for training.
        rows: u64,
        /// Rows left out because they failed validation or had no target.
        skipped_rows: u64,
        seed: u64,
    },
    /// Converted from a file made by another tool (scikit-learn, ONNX).
    Imported {
        format: String,
        file_name: String,
        file_sha256: String,
        /// The producing library and its version, when the file says.
        producer: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossValidation {
    pub folds: u32,
    /// One entry per learner tried, in the order tried.
    pub results: Vec<LearnerResult>,
    /// The index in `results` of the learner that was kept.
    pub chosen: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnerResult {
    pub learner: String,
    pub params: Vec<(String, String)>,
    pub metrics: Metrics,
}

/// Out-of-fold metrics: every row is scored by a model that did not see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub accuracy: f64,
    /// The standard deviation of accuracy across folds.
    pub accuracy_std: f64,
    /// Binary: the ROC AUC of the positive class. Multiclass: the macro
    /// average of one-vs-rest AUCs. `None` when a fold lacked a class.
    pub roc_auc: Option<f64>,
    pub log_loss: f64,
    /// `confusion[actual][predicted]`, summed over folds.
    pub confusion: Vec<Vec<u64>>,
}
