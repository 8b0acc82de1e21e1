//! scikit-learn objects (a pickle value tree) to a lifeboat [`Model`].
//!
//! One file per supported class (classifier/regressor pairs share one),
//! dispatched from [`transform`] (transformers) and [`estimator`]
//! (estimators); anything else is an error naming the class and listing the
//! supported ones. Transformers rewrite a symbolic feature matrix
//! ([`features`]); the estimator becomes lifeboat's own linear model or tree
//! ensemble; the schema comes from `feature_names_in_` and the encoders'
//! `categories_`, or from a schema the user gives ([`user_schema`]).
//!
//! Not for: reading bytes (see `import::pickle`) or predicting.

mod categories;
mod column_transformer;
mod decision_tree;
mod features;
mod forest;
mod function_transformer;
mod gradient_boosting;
mod hist_gradient_boosting;
mod linear_regression;
mod logistic_regression;
mod min_max_scaler;
mod object;
mod one_hot_encoder;
mod ordinal_encoder;
mod pipeline;
mod simple_imputer;
mod standard_scaler;
mod tree;
mod user_schema;

use crate::import::pickle::{Node, Pickle};
use crate::model::report::{Origin, Report};
use crate::model::{Estimator, Link, Model, ModelError};
use crate::schema::{
    Category, CategorySpec, Class, Field, FieldKind, NumberSpec, Schema, Target as SchemaTarget,
    TargetKind, Text,
};

use features::{CatValue, Col, Fields};
use object::Obj;

/// Where the file came from, for the model's report.
#[derive(Debug, Clone)]
pub struct Source {
    /// e.g. `pickle` or `joblib (zlib)`.
    pub format: String,
    pub file_name: String,
    pub file_sha256: String,
}

/// The estimators lifeboat converts.
pub const SUPPORTED_ESTIMATORS: &[&str] = &[
    "LogisticRegression",
    "LinearRegression",
    "Ridge",
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "ExtraTreeClassifier",
    "ExtraTreeRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
    "HistGradientBoostingClassifier",
    "HistGradientBoostingRegressor",
];

/// The transformers lifeboat converts.
pub const SUPPORTED_TRANSFORMERS: &[&str] = &[
    "Pipeline",
    "ColumnTransformer",
    "SimpleImputer",
    "StandardScaler",
    "MinMaxScaler",
    "OneHotEncoder",
    "OrdinalEncoder",
    "FunctionTransformer (identity only, as ColumnTransformer's passthrough)",
];

/// A scikit-learn model that cannot be converted, and why.
#[derive(Debug, thiserror::Error)]
pub enum SklearnError {
    #[error(
        "{class} is not supported. lifeboat converts the estimators {} and the transformers {}",
        SUPPORTED_ESTIMATORS.join(", "),
        SUPPORTED_TRANSFORMERS.join(", ")
    )]
    UnknownClass { class: String },
    #[error("{class} is supported, but not as saved here: {why}")]
    Unsupported { class: String, why: String },
    #[error(
        "{what} holds {found}, not a scikit-learn object; save the fitted model itself, e.g. pickle.dump(model, f) or joblib.dump(model, path)"
    )]
    NotAnObject { what: String, found: String },
    #[error("{class}.{attribute} {why}")]
    Shape {
        class: String,
        attribute: String,
        why: String,
    },
    #[error(
        "the file holds a {class}, a transformer without an estimator; save the whole pipeline, ending in a classifier or regressor"
    )]
    NoEstimator { class: String },
    #[error("the pipeline nests more than {0} levels deep")]
    TooDeep(usize),
    #[error("the given schema does not fit the model: {0}")]
    Schema(String),
    #[error("the converted model is not consistent: {0}")]
    Model(ModelError),
}

// By hand rather than `#[from]`, which would also make it the error's source:
// the message already includes it, and `{:#}` would print it twice.
impl From<ModelError> for SklearnError {
    fn from(e: ModelError) -> Self {
        SklearnError::Model(e)
    }
}

/// What the estimator predicts.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Classes(Vec<CatValue>),
    Value,
}

/// A converted estimator.
pub(crate) struct Fitted {
    pub estimator: Estimator,
    pub link: Link,
    pub target: Target,
    /// Whether scikit-learn lets NaN reach this estimator at predict time.
    pub nan_ok: bool,
}

impl Fitted {
    fn new(estimator: Estimator, link: Link, target: Target) -> Fitted {
        Fitted {
            estimator,
            link,
            target,
            nan_ok: false,
        }
    }

    fn nan(mut self, ok: bool) -> Fitted {
        self.nan_ok = ok;
        self
    }
}

/// Nested pipelines and column transformers deeper than this are refused
/// (a cyclic pickle could otherwise nest forever).
const MAX_NESTING: usize = 32;

/// Converts the object at the root of `tree`.
pub fn import(
    tree: &Pickle,
    source: Source,
    schema: Option<Schema>,
) -> Result<Model, SklearnError> {
    let root = Obj::at(tree, tree.root, None)?;
    let mut transformers = Vec::new();
    let mut est = root;
    let mut levels = 0;
    while est.class() == "Pipeline" {
        // A pickle can make a pipeline its own last step.
        levels += 1;
        if levels > MAX_NESTING {
            return Err(SklearnError::TooDeep(MAX_NESTING));
        }
        let mut steps = pipeline::steps(&est)?;
        let Some(last) = steps.pop() else {
            return Err(est.bad("steps", "is empty"));
        };
        transformers.extend(steps);
        est = last;
    }
    if !SUPPORTED_ESTIMATORS.contains(&est.class()) {
        if SUPPORTED_TRANSFORMERS
            .iter()
            .any(|t| t.starts_with(est.class()))
        {
            return Err(SklearnError::NoEstimator {
                class: est.class().to_string(),
            });
        }
        return Err(SklearnError::UnknownClass {
            class: format!("{}", est.object.class),
        });
    }
    let first = transformers.first().copied().unwrap_or(est);
    let named = first.has("feature_names_in_");
    let mut fields = Fields::new(input_names(&first)?);
    let mut cols = fields.initial_columns();
    for t in &transformers {
        cols = transform(t, cols, &mut fields, 0)?;
    }
    if est.class().starts_with("HistGradientBoosting") {
        cols = hist_gradient_boosting::preprocess(&est, cols, &mut fields, 0)?;
    }
    if est.has("n_features_in_") {
        let n = est.int("n_features_in_")?;
        if usize::try_from(n).ok() != Some(cols.len()) {
            return Err(est.bad(
                "n_features_in_",
                format!(
                    "is {n}, but the transformers before it make {} features",
                    cols.len()
                ),
            ));
        }
    }
    let fitted = estimator(&est, cols.len())?;
    let (infos, optional, preprocessor) = fields.finish(&cols, fitted.nan_ok)?;
    // Inputs every transformer drops (a ColumnTransformer's remainder="drop")
    // stay in the schema, optional, so clients may send whole rows as they
    // send them to scikit-learn; the description says they are ignored.
    let ignored: Vec<&str> = infos
        .iter()
        .enumerate()
        .filter(|(i, _)| !preprocessor.columns.iter().any(|c| c.field as usize == *i))
        .map(|(_, f)| f.name.as_str())
        .collect();

    let stem = source
        .file_name
        .rsplit_once('.')
        .map_or(source.file_name.as_str(), |(s, _)| s)
        .to_string();
    let version = root.opt_string("_sklearn_version").map(str::to_string);
    let learner = describe(&transformers, &est);
    let schema_fields: Vec<Field> = infos
        .iter()
        .zip(&optional)
        .map(|(info, optional)| field(info, *optional))
        .collect();
    let target_name = if schema_fields.iter().any(|f| f.name == "target") {
        "prediction"
    } else {
        "target"
    };
    let kind = match &fitted.target {
        Target::Classes(classes) => TargetKind::Classes(
            classes
                .iter()
                .map(|c| Class {
                    value: c.text(),
                    label: Text::new(c.text()),
                })
                .collect(),
        ),
        Target::Value => TargetKind::Value { unit: None },
    };
    let derived = Schema {
        name: super::machine_name(&stem),
        title: Text::new(stem.clone()),
        description: Text::new(format!(
            "{learner} imported from {}{}{}",
            source.file_name,
            version
                .as_deref()
                .map(|v| format!(" (scikit-learn {v})"))
                .unwrap_or_default(),
            if ignored.is_empty() {
                String::new()
            } else {
                format!("; the model ignores the inputs {}", ignored.join(", "))
            }
        )),
        fields: schema_fields,
        target: SchemaTarget {
            name: target_name.into(),
            label: Text::new("Prediction"),
            kind,
        },
    };
    let report = Report {
        lifeboat_version: env!("CARGO_PKG_VERSION").to_string(),
        created: super::now(),
        learner: learner.clone(),
        params: est.params(),
        origin: Origin::Imported {
            format: source.format.clone(),
            file_name: source.file_name.clone(),
            file_sha256: source.file_sha256.clone(),
            producer: version.map(|v| format!("scikit-learn {v}")),
        },
        cross_validation: None,
        field_importance: Vec::new(),
    };
    let mut model = Model {
        schema: derived,
        preprocessor,
        estimator: fitted.estimator,
        link: fitted.link,
        report,
        reference: Vec::new(),
    };
    model.check_shapes()?;
    if let Some(user) = schema {
        model = user_schema::apply(model, user, named)?;
        model.check_shapes()?;
    }
    let rows = super::reference::rows(&model);
    model.set_reference(rows);
    // The shapes were checked just above, and reference rows do not change them.
    model.check_reference()?;
    Ok(model)
}

/// Converts a transformer's effect on the columns.
pub(crate) fn transform(
    obj: &Obj,
    cols: Vec<Col>,
    fields: &mut Fields,
    depth: usize,
) -> Result<Vec<Col>, SklearnError> {
    if depth > MAX_NESTING {
        return Err(SklearnError::TooDeep(MAX_NESTING));
    }
    match obj.class() {
        "Pipeline" => pipeline::apply(obj, cols, fields, depth),
        "ColumnTransformer" => column_transformer::apply(obj, cols, fields, depth),
        "SimpleImputer" => simple_imputer::apply(obj, cols),
        "StandardScaler" => standard_scaler::apply(obj, cols),
        "MinMaxScaler" => min_max_scaler::apply(obj, cols),
        "OneHotEncoder" => one_hot_encoder::apply(obj, cols, fields),
        "OrdinalEncoder" => ordinal_encoder::apply(obj, cols, fields),
        "FunctionTransformer" => function_transformer::apply(obj, cols),
        class if SUPPORTED_ESTIMATORS.contains(&class) => Err(SklearnError::Unsupported {
            class: class.to_string(),
            why: "it is used as a transformer inside the pipeline; only the last step may be an estimator".into(),
        }),
        _ => Err(SklearnError::UnknownClass {
            class: format!("{}", obj.object.class),
        }),
    }
}

/// Converts the final estimator.
fn estimator(obj: &Obj, n_features: usize) -> Result<Fitted, SklearnError> {
    match obj.class() {
        "LogisticRegression" => logistic_regression::convert(obj, n_features),
        "LinearRegression" | "Ridge" => linear_regression::convert(obj, n_features),
        // A single extra tree is a decision tree with random thresholds:
        // the same `tree_`, read and walked the same way.
        "DecisionTreeClassifier"
        | "DecisionTreeRegressor"
        | "ExtraTreeClassifier"
        | "ExtraTreeRegressor" => decision_tree::convert(obj, n_features),
        "RandomForestClassifier"
        | "RandomForestRegressor"
        | "ExtraTreesClassifier"
        | "ExtraTreesRegressor" => forest::convert(obj, n_features),
        "GradientBoostingClassifier" | "GradientBoostingRegressor" => {
            gradient_boosting::convert(obj, n_features)
        }
        "HistGradientBoostingClassifier" | "HistGradientBoostingRegressor" => {
            hist_gradient_boosting::convert(obj, n_features)
        }
        _ => Err(SklearnError::UnknownClass {
            class: format!("{}", obj.object.class),
        }),
    }
}

/// The input names: `feature_names_in_` when the model saw a DataFrame,
/// else `x0 .. x{n-1}` as scikit-learn's `get_feature_names_out` names them.
fn input_names(first: &Obj) -> Result<Vec<String>, SklearnError> {
    if let Some(id) = first.get("feature_names_in_") {
        let names = categories::values(first.pickle, id)
            .ok_or_else(|| first.bad("feature_names_in_", "should be an array of names"))?;
        return Ok(names
            .into_iter()
            .enumerate()
            .map(|(i, n)| n.map_or_else(|| format!("x{i}"), |n| n.text()))
            .collect());
    }
    let n = first.int("n_features_in_")?;
    let n = usize::try_from(n)
        .ok()
        .filter(|n| *n > 0 && *n <= 100_000)
        .ok_or_else(|| first.bad("n_features_in_", format!("is {n}")))?;
    Ok((0..n).map(|i| format!("x{i}")).collect())
}

/// `classes_`, as category values.
pub(crate) fn classes(est: &Obj) -> Result<Vec<CatValue>, SklearnError> {
    let id = est
        .get("classes_")
        .ok_or_else(|| est.bad("classes_", "is missing; was the classifier fitted?"))?;
    let values = categories::values(est.pickle, id)
        .ok_or_else(|| est.bad("classes_", "should be an array of classes"))?;
    let classes: Option<Vec<CatValue>> = values.into_iter().collect();
    let classes = classes.ok_or_else(|| est.bad("classes_", "holds a missing value"))?;
    if classes.len() < 2 {
        return Err(est.bad("classes_", "has fewer than two classes"));
    }
    Ok(classes)
}

/// The objects of a list or object array attribute (forest and boosting members).
pub(crate) fn object_list<'p>(est: &Obj<'p>, name: &str) -> Result<Vec<Obj<'p>>, SklearnError> {
    let ids = match est.node(name)? {
        Node::Array(a) => a
            .objects()
            .ok_or_else(|| est.bad(name, "should be an array of estimators"))?,
        Node::List(items) | Node::Tuple(items) => items.clone(),
        other => {
            return Err(est.bad(
                name,
                format!("should be a list of estimators, found {}", other.kind()),
            ));
        }
    };
    ids.into_iter()
        .map(|id| Obj::at(est.pickle, id, Some(est.class())))
        .collect()
}

/// The scikit-learn version that wrote an object, as (major, minor).
pub(crate) fn version(obj: &Obj) -> (u32, u32) {
    let text = obj.opt_string("_sklearn_version").unwrap_or("0.0");
    let mut parts = text.split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or(0)
    });
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

fn describe(transformers: &[Obj], est: &Obj) -> String {
    if transformers.is_empty() {
        return est.class().to_string();
    }
    let steps: Vec<&str> = transformers
        .iter()
        .map(|t| t.class())
        .chain([est.class()])
        .collect();
    format!("Pipeline({})", steps.join(" → "))
}

fn field(info: &features::FieldInfo, optional: bool) -> Field {
    let kind = if info.categorical {
        FieldKind::Category(CategorySpec {
            values: info
                .categories
                .iter()
                .map(|c| Category {
                    value: c.text(),
                    label: Text::new(c.text()),
                })
                .collect(),
            open: !info.closed,
        })
    } else {
        FieldKind::Number(NumberSpec::default())
    };
    Field {
        name: info.name.clone(),
        label: Text::new(info.name.clone()),
        help: Text::default(),
        kind,
        optional,
        default: None,
    }
}
