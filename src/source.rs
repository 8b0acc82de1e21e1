//! Where a model comes from: a built-in name, a `.lifeboat` file, or a file
//! made by another tool (a scikit-learn pickle or joblib file, or an ONNX model) imported on the
//! fly. Every command and the server resolve `--model` here, so they accept
//! the same things.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::builtin::{self, BuiltinError};
use crate::import::{self, Format, ImportError};
use crate::model::file::{self, LoadError, Loaded};
use crate::model::report::Origin;
use crate::schema::Schema;
use crate::schema::document::DocumentError;

/// Files larger than this are refused before they are read into memory.
const MAX_FILE_BYTES: u64 = 2 << 30;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Builtin(#[from] BuiltinError),
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{} is larger than {MAX_FILE_BYTES} bytes; it is refused to protect memory", path.display())]
    TooLarge { path: PathBuf },
    #[error("{}: {error}", path.display())]
    Load { path: PathBuf, error: LoadError },
    #[error("{error}")]
    Import { error: ImportError },
    #[error("the schema {}: {error}", path.display())]
    Schema { path: PathBuf, error: DocumentError },
    #[error(
        "--schema applies to imported models (pickle, joblib, ONNX); {0} carries its own schema (retrain or convert the original with --schema to change it)"
    )]
    SchemaForNative(String),
}

/// Loads the model named by `spec`: `None` is the built-in Titanic model,
/// `builtin:NAME` another built-in model, anything else a path. `schema` (a
/// TOML file) names and labels the inputs of an imported model.
pub fn load(spec: Option<&str>, schema: Option<&Path>) -> Result<Loaded, SourceError> {
    let schema = schema.map(read_schema).transpose()?;
    match spec {
        None | Some("") => native(builtin::titanic(), schema, "the built-in model"),
        Some(name) if name.starts_with(builtin::PREFIX) => {
            native(builtin::load(&name[builtin::PREFIX.len()..]), schema, name)
        }
        Some(path) => load_path(Path::new(path), schema),
    }
}

fn native(
    loaded: Result<Loaded, BuiltinError>,
    schema: Option<Schema>,
    name: &str,
) -> Result<Loaded, SourceError> {
    if schema.is_some() {
        return Err(SourceError::SchemaForNative(name.to_string()));
    }
    Ok(loaded?)
}

fn read_schema(path: &Path) -> Result<Schema, SourceError> {
    let text = std::fs::read_to_string(path).map_err(|error| SourceError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    Schema::from_toml(&text).map_err(|error| SourceError::Schema {
        path: path.to_path_buf(),
        error,
    })
}

/// Loads a model file from disk: a `.lifeboat` file, or an import.
pub fn load_path(path: &Path, schema: Option<Schema>) -> Result<Loaded, SourceError> {
    let read_err = |error| SourceError::Read {
        path: path.to_path_buf(),
        error,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    // Sized once from the file's length: growing by doubling would copy a
    // large model several times over (and touch twice its memory) at start.
    let size = file
        .metadata()
        .map_or(0, |m| m.len().min(MAX_FILE_BYTES + 1));
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(SourceError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    let name = path.to_string_lossy();
    match import::detect(&bytes, &name) {
        Some(Format::Lifeboat) | None => {
            if schema.is_some() && import::detect(&bytes, &name).is_some() {
                return Err(SourceError::SchemaForNative(path.display().to_string()));
            }
            file::from_bytes(&bytes).map_err(|error| SourceError::Load {
                path: path.to_path_buf(),
                error,
            })
        }
        Some(_) => {
            let model = import::from_bytes(&bytes, &name, schema)
                .map_err(|error| SourceError::Import { error })?;
            // The import hashed these bytes already: a few milliseconds of
            // a start for a large forest.
            let sha256 = match &model.report.origin {
                Origin::Imported { file_sha256, .. } => file_sha256.clone(),
                Origin::Trained { .. } => file::hex(&Sha256::digest(&bytes)),
            };
            Ok(Loaded { model, sha256 })
        }
    }
}

/// A short description of `spec` for logs and pages.
pub fn describe(spec: Option<&str>) -> String {
    match spec {
        None | Some("") => format!("{}{} (built in)", builtin::PREFIX, builtin::BUILTINS[0].0),
        Some(s) => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_is_known_by_the_hash_of_its_file() {
        // The import's own hash is reused: it must be the file's.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sklearn");
        for name in ["dtc_binary_array.p4.pkl", "dtc_binary_array.zlib.joblib"] {
            let path = dir.join(name);
            let loaded = load_path(&path, None).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(loaded.sha256, file::hex(&Sha256::digest(&bytes)), "{name}");
            assert_eq!(loaded.sha256.len(), 64);
        }
    }
}
