//! The allow-list: the only globals a pickle may name. This is the one place
//! that decides; the reader checks every `GLOBAL`, `STACK_GLOBAL` and `INST`
//! here the moment it reads the name, and stops the load for anything else.
//!
//! Nothing named here is ever called: a global stays a `(module, name)` pair.
//! The list is still kept to exactly what scikit-learn, numpy and joblib write
//! for the supported classes (found by recording `find_class` while loading
//! the fixtures of scikit-learn 1.3 and 1.9), so a file that names anything
//! else is refused early, with the name and the byte offset.

/// What an allowed global is, so the reader and the importers can act on it
/// without comparing strings again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// A scikit-learn class (estimators, transformers, their parts).
    Sklearn,
    /// `sklearn.utils.validation.check_array`, which HistGradientBoosting
    /// stores inside `functools.partial` (see [`Known::Partial`]).
    CheckArray,
    /// `functools.partial`: accepted only around [`Known::CheckArray`].
    Partial,
    /// `numpy.ndarray`, `numpy.float64`, ...: classes used as values.
    NumpyType,
    /// `numpy.dtype`.
    NumpyDtype,
    /// `numpy.core.multiarray._reconstruct`: an array, filled by `BUILD`.
    NumpyReconstruct,
    /// `numpy.core.numeric._frombuffer`: an array from bytes (protocol 5).
    NumpyFromBuffer,
    /// `numpy.core.multiarray.scalar`: a numpy scalar from bytes.
    NumpyScalar,
    /// numpy random generators stored as `random_state` or `_rng`.
    NumpyRandom,
    /// `builtins.set` / `frozenset` (protocol 2 writes sets this way).
    Set,
    /// `builtins.bytes` / `bytearray` (protocol 2).
    Bytes,
    /// `_codecs.encode`: protocol 2 writes bytes as `encode(text, "latin1")`.
    CodecsEncode,
    /// `builtins.slice`: ColumnTransformer column selections.
    Slice,
    /// `copyreg._reconstructor`: plain objects written by old protocols.
    CopyregReconstructor,
    /// `builtins.object`, the base class `copyreg._reconstructor` names.
    Object,
    /// joblib's placeholder for an array whose bytes follow the pickle opcodes.
    JoblibArrayWrapper,
}

const ALLOWED: &[(&str, &str, Known)] = &[
    // numpy; numpy 2 renamed numpy.core to numpy._core, files of both exist.
    ("numpy", "ndarray", Known::NumpyType),
    ("numpy", "dtype", Known::NumpyDtype),
    ("numpy", "float64", Known::NumpyType),
    ("numpy", "float32", Known::NumpyType),
    ("numpy", "int64", Known::NumpyType),
    ("numpy", "int32", Known::NumpyType),
    ("numpy", "uint8", Known::NumpyType),
    ("numpy", "bool_", Known::NumpyType),
    ("numpy", "object_", Known::NumpyType),
    (
        "numpy.core.multiarray",
        "_reconstruct",
        Known::NumpyReconstruct,
    ),
    (
        "numpy._core.multiarray",
        "_reconstruct",
        Known::NumpyReconstruct,
    ),
    ("numpy.core.multiarray", "scalar", Known::NumpyScalar),
    ("numpy._core.multiarray", "scalar", Known::NumpyScalar),
    ("numpy.core.numeric", "_frombuffer", Known::NumpyFromBuffer),
    ("numpy._core.numeric", "_frombuffer", Known::NumpyFromBuffer),
    (
        "numpy.random._pickle",
        "__randomstate_ctor",
        Known::NumpyRandom,
    ),
    (
        "numpy.random._pickle",
        "__generator_ctor",
        Known::NumpyRandom,
    ),
    (
        "numpy.random._pickle",
        "__bit_generator_ctor",
        Known::NumpyRandom,
    ),
    ("numpy.random._mt19937", "MT19937", Known::NumpyRandom),
    ("numpy.random._pcg64", "PCG64", Known::NumpyRandom),
    ("numpy.random.mtrand", "RandomState", Known::NumpyRandom),
    (
        "numpy.random.bit_generator",
        "SeedSequence",
        Known::NumpyRandom,
    ),
    (
        "numpy.random.bit_generator",
        "__pyx_unpickle_SeedSequence",
        Known::NumpyRandom,
    ),
    // Python helpers that pickles of plain data need.
    ("builtins", "set", Known::Set),
    ("builtins", "frozenset", Known::Set),
    ("builtins", "bytes", Known::Bytes),
    ("builtins", "bytearray", Known::Bytes),
    ("builtins", "slice", Known::Slice),
    ("builtins", "object", Known::Object),
    ("_codecs", "encode", Known::CodecsEncode),
    ("copyreg", "_reconstructor", Known::CopyregReconstructor),
    ("functools", "partial", Known::Partial),
    // joblib
    (
        "joblib.numpy_pickle",
        "NumpyArrayWrapper",
        Known::JoblibArrayWrapper,
    ),
    // scikit-learn: estimators and transformers lifeboat converts ...
    ("sklearn.pipeline", "Pipeline", Known::Sklearn),
    (
        "sklearn.compose._column_transformer",
        "ColumnTransformer",
        Known::Sklearn,
    ),
    (
        "sklearn.compose._column_transformer",
        "_RemainderColsList",
        Known::Sklearn,
    ),
    ("sklearn.impute._base", "SimpleImputer", Known::Sklearn),
    (
        "sklearn.preprocessing._data",
        "StandardScaler",
        Known::Sklearn,
    ),
    (
        "sklearn.preprocessing._data",
        "MinMaxScaler",
        Known::Sklearn,
    ),
    (
        "sklearn.preprocessing._encoders",
        "OneHotEncoder",
        Known::Sklearn,
    ),
    (
        "sklearn.preprocessing._encoders",
        "OrdinalEncoder",
        Known::Sklearn,
    ),
    (
        "sklearn.preprocessing._function_transformer",
        "FunctionTransformer",
        Known::Sklearn,
    ),
    (
        "sklearn.preprocessing._label",
        "LabelEncoder",
        Known::Sklearn,
    ),
    (
        "sklearn.linear_model._logistic",
        "LogisticRegression",
        Known::Sklearn,
    ),
    (
        "sklearn.linear_model._base",
        "LinearRegression",
        Known::Sklearn,
    ),
    ("sklearn.linear_model._ridge", "Ridge", Known::Sklearn),
    (
        "sklearn.tree._classes",
        "DecisionTreeClassifier",
        Known::Sklearn,
    ),
    (
        "sklearn.tree._classes",
        "DecisionTreeRegressor",
        Known::Sklearn,
    ),
    (
        "sklearn.tree._classes",
        "ExtraTreeClassifier",
        Known::Sklearn,
    ),
    (
        "sklearn.tree._classes",
        "ExtraTreeRegressor",
        Known::Sklearn,
    ),
    ("sklearn.tree._tree", "Tree", Known::Sklearn),
    (
        "sklearn.ensemble._forest",
        "RandomForestClassifier",
        Known::Sklearn,
    ),
    (
        "sklearn.ensemble._forest",
        "RandomForestRegressor",
        Known::Sklearn,
    ),
    (
        "sklearn.ensemble._forest",
        "ExtraTreesClassifier",
        Known::Sklearn,
    ),
    (
        "sklearn.ensemble._forest",
        "ExtraTreesRegressor",
        Known::Sklearn,
    ),
    (
        "sklearn.ensemble._gb",
        "GradientBoostingClassifier",
        Known::Sklearn,
    ),
    (
        "sklearn.ensemble._gb",
        "GradientBoostingRegressor",
        Known::Sklearn,
    ),
    (
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting",
        "HistGradientBoostingClassifier",
        Known::Sklearn,
    ),
    (
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting",
        "HistGradientBoostingRegressor",
        Known::Sklearn,
    ),
    (
        "sklearn.ensemble._hist_gradient_boosting.predictor",
        "TreePredictor",
        Known::Sklearn,
    ),
    (
        "sklearn.ensemble._hist_gradient_boosting.binning",
        "_BinMapper",
        Known::Sklearn,
    ),
    ("sklearn.dummy", "DummyClassifier", Known::Sklearn),
    ("sklearn.dummy", "DummyRegressor", Known::Sklearn),
    // ... the loss objects gradient boosting keeps (scikit-learn >= 1.1) ...
    ("sklearn._loss.loss", "HalfBinomialLoss", Known::Sklearn),
    ("sklearn._loss.loss", "HalfMultinomialLoss", Known::Sklearn),
    ("sklearn._loss.loss", "HalfSquaredError", Known::Sklearn),
    ("sklearn._loss.loss", "AbsoluteError", Known::Sklearn),
    ("sklearn._loss.loss", "HuberLoss", Known::Sklearn),
    ("sklearn._loss.loss", "PinballLoss", Known::Sklearn),
    ("sklearn._loss.loss", "ExponentialLoss", Known::Sklearn),
    ("sklearn._loss.loss", "HalfPoissonLoss", Known::Sklearn),
    ("sklearn._loss.link", "IdentityLink", Known::Sklearn),
    ("sklearn._loss.link", "LogitLink", Known::Sklearn),
    ("sklearn._loss.link", "LogLink", Known::Sklearn),
    ("sklearn._loss.link", "MultinomialLogit", Known::Sklearn),
    ("sklearn._loss.link", "Interval", Known::Sklearn),
    ("sklearn._loss._loss", "CyHalfBinomialLoss", Known::Sklearn),
    (
        "sklearn._loss._loss",
        "CyHalfMultinomialLoss",
        Known::Sklearn,
    ),
    ("sklearn._loss._loss", "CyHalfSquaredError", Known::Sklearn),
    ("sklearn._loss._loss", "CyAbsoluteError", Known::Sklearn),
    ("sklearn._loss._loss", "CyHuberLoss", Known::Sklearn),
    ("sklearn._loss._loss", "CyPinballLoss", Known::Sklearn),
    ("sklearn._loss._loss", "CyExponentialLoss", Known::Sklearn),
    ("sklearn._loss._loss", "CyHalfPoissonLoss", Known::Sklearn),
    (
        "sklearn._loss._loss",
        "__pyx_unpickle_CyHalfMultinomialLoss",
        Known::Sklearn,
    ),
    (
        "sklearn._loss._loss",
        "__pyx_unpickle_CyHalfBinomialLoss",
        Known::Sklearn,
    ),
    (
        "sklearn._loss._loss",
        "__pyx_unpickle_CyHalfSquaredError",
        Known::Sklearn,
    ),
    (
        "sklearn._loss._loss",
        "__pyx_unpickle_CyAbsoluteError",
        Known::Sklearn,
    ),
    (
        "sklearn._loss._loss",
        "__pyx_unpickle_CyHuberLoss",
        Known::Sklearn,
    ),
    (
        "sklearn._loss._loss",
        "__pyx_unpickle_CyPinballLoss",
        Known::Sklearn,
    ),
    // ... and the losses of scikit-learn < 1.4 gradient boosting.
    (
        "sklearn.ensemble._gb_losses",
        "BinomialDeviance",
        Known::Sklearn,
    ),
    (
        "sklearn.ensemble._gb_losses",
        "MultinomialDeviance",
        Known::Sklearn,
    ),
    (
        "sklearn.ensemble._gb_losses",
        "LeastSquaresError",
        Known::Sklearn,
    ),
    (
        "sklearn.ensemble._gb_losses",
        "LeastAbsoluteError",
        Known::Sklearn,
    ),
    (
        "sklearn.ensemble._gb_losses",
        "HuberLossFunction",
        Known::Sklearn,
    ),
    (
        "sklearn.ensemble._gb_losses",
        "QuantileLossFunction",
        Known::Sklearn,
    ),
    (
        "sklearn.ensemble._gb_losses",
        "ExponentialLoss",
        Known::Sklearn,
    ),
    ("sklearn.utils.validation", "check_array", Known::CheckArray),
    ("sklearn.utils._bunch", "Bunch", Known::Sklearn),
];

/// Python 2 names that Python 3 writes in protocols 0 to 2 (`fix_imports`),
/// mapped back as the standard unpickler does.
fn python3_module(module: &str) -> &str {
    match module {
        "__builtin__" => "builtins",
        "copy_reg" => "copyreg",
        other => other,
    }
}

/// The allowed global `(module, name)`, or `None` when it is not allowed.
pub fn check(module: &str, name: &str) -> Option<(String, Known)> {
    let module = python3_module(module);
    ALLOWED
        .iter()
        .find(|(m, n, _)| *m == module && *n == name)
        .map(|(m, _, known)| ((*m).to_string(), *known))
}

/// A short summary of what is allowed, for the error message.
pub fn summary() -> &'static str {
    "scikit-learn estimators and transformers lifeboat converts, numpy arrays, dtypes and scalars, and joblib's array wrapper"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangerous_names_are_not_allowed() {
        for (m, n) in [
            ("os", "system"),
            ("posix", "system"),
            ("nt", "system"),
            ("subprocess", "Popen"),
            ("builtins", "eval"),
            ("builtins", "exec"),
            ("builtins", "getattr"),
            ("builtins", "__import__"),
            ("__builtin__", "eval"),
            ("importlib", "import_module"),
            ("sklearn", "__import__"),
            ("numpy", "load"),
            ("numpy.testing._private.utils", "runstring"),
        ] {
            assert_eq!(check(m, n), None, "{m}.{n}");
        }
    }

    #[test]
    fn python2_names_map_to_python3() {
        assert_eq!(check("__builtin__", "set").map(|x| x.1), Some(Known::Set));
        assert_eq!(check("builtins", "set").map(|x| x.1), Some(Known::Set));
        assert_eq!(
            check("copy_reg", "_reconstructor").map(|x| x.1),
            Some(Known::CopyregReconstructor)
        );
    }
}
