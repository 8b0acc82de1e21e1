//! Foreign model files to a [`Model`]: importers translate, they never serve.
//!
//! The path is bytes → a faithful foreign value tree → `Model`:
//! - [`joblib`] opens the container (plain or compressed),
//! - [`pickle`] interprets the pickle without executing it,
//! - [`sklearn`] maps scikit-learn objects onto lifeboat's own preprocessing
//!   and estimators, so imported models share the one prediction path.
//!
//! `lifeboat convert` writes the result as a `.lifeboat` file, so serving never
//! needs this code. ONNX is meant to sit beside pickle as another [`Format`].

pub mod joblib;
pub mod pickle;
pub mod sklearn;

use sha2::{Digest, Sha256};

use crate::model::Model;
use crate::schema::Schema;

/// The formats lifeboat imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A `.lifeboat` file: not an import; load it with `model::file`.
    Lifeboat,
    /// A pickle stream (`pickle.dump`, or an uncompressed `joblib.dump`).
    Pickle,
    /// A compressed joblib container.
    Joblib(joblib::Container),
    // ONNX goes here: detected by content (a protobuf ModelProto) or `.onnx`.
}

/// Why a file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("could not read {file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error(
        "{file} is larger than {limit} bytes; it is refused to protect memory (raise the limit if you trust it)"
    )]
    TooLarge { file: String, limit: usize },
    #[error("{file} is a lifeboat model file already; load it directly instead of importing it")]
    AlreadyLifeboat { file: String },
    #[error(
        "{file} is not a format lifeboat imports (it starts with {start}); expected a scikit-learn pickle (.pkl, .pickle) or joblib file (.joblib)"
    )]
    UnknownFormat { file: String, start: String },
    #[error("{file}: {source}")]
    Container {
        file: String,
        source: joblib::ContainerError,
    },
    #[error("{file}{}: {source}", .decompressed.map(|c| format!(" (offsets count in its {c}-decompressed contents)")).unwrap_or_default())]
    Pickle {
        file: String,
        /// The compression of a joblib container, whose contents the offsets count in.
        decompressed: Option<&'static str>,
        source: pickle::PickleError,
    },
    #[error("{file}: {source}")]
    Sklearn {
        file: String,
        source: sklearn::SklearnError,
    },
}

/// Which format `bytes` are in: by content first, then by the file extension.
pub fn detect(bytes: &[u8], file_name: &str) -> Option<Format> {
    if bytes.starts_with(crate::model::file::MAGIC) {
        return Some(Format::Lifeboat);
    }
    match joblib::Container::detect(bytes) {
        Some(joblib::Container::Plain) => return Some(Format::Pickle),
        Some(c) => return Some(Format::Joblib(c)),
        None => {}
    }
    // Protocol 0/1 pickles have no header; fall back on the name.
    let lower = file_name.to_ascii_lowercase();
    if [".pkl", ".pickle", ".joblib", ".sav"]
        .iter()
        .any(|ext| lower.ends_with(ext))
    {
        return Some(Format::Pickle);
    }
    None
}

/// Imports a scikit-learn model from the bytes of a pickle or joblib file.
///
/// `file_name` is recorded in the model's report (without directories) and
/// used to name the model; `schema` optionally gives field names, labels,
/// ranges and translations (it must match what the model takes).
pub fn from_bytes(
    bytes: &[u8],
    file_name: &str,
    schema: Option<Schema>,
) -> Result<Model, ImportError> {
    from_bytes_with(bytes, file_name, schema, pickle::Limits::default())
}

/// Reads and imports a pickle or joblib file.
///
/// ```
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sklearn/tutorial_rf_array.p5.pkl");
/// let model = lifeboat::import::from_path(std::path::Path::new(path), None).unwrap();
/// assert_eq!(model.schema.fields.len(), 7); // x0 .. x6: it was trained on a bare array
/// assert_eq!(model.report.learner, "RandomForestClassifier");
/// ```
pub fn from_path(path: &std::path::Path, schema: Option<Schema>) -> Result<Model, ImportError> {
    use std::io::Read;
    let file = path.display().to_string();
    let limit = pickle::Limits::default().max_input_bytes;
    let io = |source| ImportError::Io {
        file: file.clone(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > limit {
        return Err(ImportError::TooLarge { file, limit });
    }
    from_bytes(&bytes, &file, schema)
}

/// [`from_bytes`] with explicit resource limits.
pub fn from_bytes_with(
    bytes: &[u8],
    file_name: &str,
    schema: Option<Schema>,
    limits: pickle::Limits,
) -> Result<Model, ImportError> {
    let file = base_name(file_name).to_string();
    let (stream, container) = match detect(bytes, file_name) {
        Some(Format::Lifeboat) => return Err(ImportError::AlreadyLifeboat { file }),
        None => {
            return Err(ImportError::UnknownFormat {
                start: describe_start(bytes),
                file,
            });
        }
        Some(Format::Pickle) => (std::borrow::Cow::Borrowed(bytes), "pickle"),
        Some(Format::Joblib(c)) => {
            let stream = joblib::unpack(bytes, c, limits.max_input_bytes).map_err(|source| {
                ImportError::Container {
                    file: file.clone(),
                    source,
                }
            })?;
            (std::borrow::Cow::Owned(stream), c.name())
        }
    };
    let tree = pickle::load(&stream, limits).map_err(|source| match source {
        // A scikit-learn class outside the allow-list is a model lifeboat does
        // not convert: say which ones it does.
        pickle::PickleError::Forbidden {
            module,
            name,
            offset,
            ..
        } if module.starts_with("sklearn.") => ImportError::Sklearn {
            file: file.clone(),
            source: sklearn::SklearnError::UnknownClass {
                class: format!("{module}.{name} (named at byte {offset})"),
            },
        },
        source => ImportError::Pickle {
            file: file.clone(),
            decompressed: (container != "pickle").then_some(container),
            source,
        },
    })?;
    let origin = sklearn::Source {
        format: if container == "pickle" {
            "pickle".to_string()
        } else {
            format!("joblib ({container})")
        },
        file_name: file.clone(),
        file_sha256: hex(&Sha256::digest(bytes)),
    };
    sklearn::import(&tree, origin, schema).map_err(|source| ImportError::Sklearn { file, source })
}

fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn describe_start(bytes: &[u8]) -> String {
    let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    if head.is_empty() {
        "nothing: the file is empty".into()
    } else {
        format!("bytes {}", head.join(" "))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
