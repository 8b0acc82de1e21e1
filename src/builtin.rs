//! The models built into the binary: the Titanic model every command uses when
//! no `--model` is given, and its single-learner siblings for comparisons.
//! They are trained by `examples/titanic/train.sh` from Kaggle's train.csv and
//! checked at load like any other model file.

use crate::model::file::{self, LoadError, Loaded};

/// `(name, file bytes)` of every built-in model; the first is the default.
pub const BUILTINS: [(&str, &[u8]); 3] = [
    ("titanic", include_bytes!("../models/titanic.lifeboat")),
    (
        "titanic-logistic",
        include_bytes!("../models/titanic-logistic.lifeboat"),
    ),
    (
        "titanic-gbdt",
        include_bytes!("../models/titanic-gbdt.lifeboat"),
    ),
];

/// The prefix that names a built-in model where a path is expected: `builtin:titanic-gbdt`.
pub const PREFIX: &str = "builtin:";

/// Loads the built-in model `name`, or says which exist.
pub fn load(name: &str) -> Result<Loaded, BuiltinError> {
    let (_, bytes) = BUILTINS
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| BuiltinError::Unknown(name.to_string()))?;
    file::from_bytes(bytes).map_err(|e| BuiltinError::Broken(name.to_string(), e))
}

/// The default built-in model.
pub fn titanic() -> Result<Loaded, BuiltinError> {
    load(BUILTINS[0].0)
}

#[derive(Debug, thiserror::Error)]
pub enum BuiltinError {
    #[error("there is no built-in model {}; the built-in models are: {names}", crate::quote::quoted(.0), names = names().join(", "))]
    Unknown(String),
    #[error("the built-in model {name} does not load ({cause}); this build of lifeboat is broken", name = crate::quote::quoted(.0), cause = .1)]
    Broken(String, LoadError),
}

pub fn names() -> Vec<&'static str> {
    BUILTINS.iter().map(|(n, _)| *n).collect()
}
