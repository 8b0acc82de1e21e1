//! Where a model comes from: a built-in name, or a file on disk. Every command
//! and the server resolve `--model` here, so they accept the same things.

use std::path::{Path, PathBuf};

use crate::builtin::{self, BuiltinError};
use crate::model::file::{self, LoadError, Loaded};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Builtin(#[from] BuiltinError),
    #[error("cannot read the model file {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {error}", path.display())]
    Load { path: PathBuf, error: LoadError },
}

/// Loads the model named by `spec`: `None` is the built-in Titanic model,
/// `builtin:NAME` another built-in model, anything else a path.
pub fn load(spec: Option<&str>) -> Result<Loaded, SourceError> {
    match spec {
        None => Ok(builtin::titanic()?),
        Some(name) if name.starts_with(builtin::PREFIX) => {
            Ok(builtin::load(&name[builtin::PREFIX.len()..])?)
        }
        Some(path) => load_path(Path::new(path)),
    }
}

/// Loads a model file from disk.
pub fn load_path(path: &Path) -> Result<Loaded, SourceError> {
    let read_err = |error| SourceError::Read {
        path: path.to_path_buf(),
        error,
    };
    let f = std::fs::File::open(path).map_err(read_err)?;
    file::read(f).map_err(|error| match error {
        LoadError::Io(e) => read_err(e),
        error => SourceError::Load {
            path: path.to_path_buf(),
            error,
        },
    })
}

/// A short description of `spec` for logs and pages.
pub fn describe(spec: Option<&str>) -> String {
    match spec {
        None => format!("{}{} (built in)", builtin::PREFIX, builtin::BUILTINS[0].0),
        Some(s) => s.to_string(),
    }
}
