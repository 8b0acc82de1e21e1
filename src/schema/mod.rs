//! The input schema: what a model takes and what it answers, in words people
//! read. Every front door (form, JSON APIs, CSV files) is built from it, so the
//! encoding a model expects can never drift from what a page or client sends.
//!
//! This module knows nothing of HTTP, files or terminals. It holds:
//! - the types (`Schema`, `Field`, `FieldKind`, `Target`),
//! - [`validate`]: untyped input (form strings, JSON values, CSV cells) to a typed [`Row`],
//! - [`document`]: the hand-editable TOML form of a schema,
//! - [`infer`]: a first draft of a schema from a table of strings.

pub mod document;
pub mod infer;
mod text;
pub mod validate;

use crate::quote::quoted;
use serde::{Deserialize, Serialize};

pub use text::{Lang, Text};
pub use validate::{Cell, FieldError, Problem, Row, RowErrors};

/// Everything a model expects as input and gives as output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// Machine name, used in URLs such as `/v2/models/{name}`: letters, digits, `-`, `_`.
    pub name: String,
    pub title: Text,
    pub description: Text,
    pub fields: Vec<Field>,
    pub target: Target,
}

/// One input column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// The column name in CSV files and the key in JSON objects.
    pub name: String,
    pub label: Text,
    pub help: Text,
    pub kind: FieldKind,
    /// Whether the value may be left out (the model then imputes it).
    pub optional: bool,
    /// The value a form starts with, written as a person would type it.
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FieldKind {
    Number(NumberSpec),
    /// A whole number; `2.0` is accepted, `2.5` is not.
    Integer(NumberSpec),
    Category(CategorySpec),
    /// `true`/`false` (also `1`/`0`, `yes`/`no`); enters the model as 1.0 / 0.0.
    Boolean,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NumberSpec {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub step: Option<f64>,
    pub unit: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategorySpec {
    pub values: Vec<Category>,
    /// When true, values outside the list are accepted and passed to the model
    /// as "unseen" (its encoder decides what that means). Imported models whose
    /// encoder ignores unknown categories are open; hand-written schemas are
    /// normally closed, so a typo is an error rather than a silent guess.
    pub open: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// The value the model was trained on, exactly as it appears in the data.
    pub value: String,
    pub label: Text,
}

/// What the model predicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// The column name in the training data, e.g. `Survived`.
    pub name: String,
    pub label: Text,
    pub kind: TargetKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TargetKind {
    /// Classification: the classes in the order of the model's probability outputs.
    Classes(Vec<Class>),
    /// Regression: one number.
    Value { unit: Option<Text> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Class {
    /// The class as it appears in the training data, e.g. `1`.
    pub value: String,
    /// The class in words, e.g. "Passenger survives".
    pub label: Text,
}

impl Schema {
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }

    /// The classes, or an empty slice for a regression model.
    pub fn classes(&self) -> &[Class] {
        match &self.target.kind {
            TargetKind::Classes(classes) => classes,
            TargetKind::Value { .. } => &[],
        }
    }

    pub fn is_classifier(&self) -> bool {
        matches!(self.target.kind, TargetKind::Classes(_))
    }

    /// Checks the rules every schema must follow, whatever made it.
    pub fn check(&self) -> Result<(), SchemaError> {
        if !is_machine_name(&self.name) {
            return Err(SchemaError::BadName(self.name.clone()));
        }
        if self.fields.is_empty() {
            return Err(SchemaError::NoFields);
        }
        let mut seen = std::collections::HashSet::new();
        for field in &self.fields {
            if field.name.trim().is_empty() {
                return Err(SchemaError::EmptyFieldName);
            }
            if !seen.insert(field.name.as_str()) {
                return Err(SchemaError::DuplicateField(field.name.clone()));
            }
            if field.name == self.target.name {
                return Err(SchemaError::TargetIsInput(field.name.clone()));
            }
            field.check()?;
        }
        if let TargetKind::Classes(classes) = &self.target.kind {
            if classes.len() < 2 {
                return Err(SchemaError::TooFewClasses(self.target.name.clone()));
            }
            let mut seen = std::collections::HashSet::new();
            for class in classes {
                if !seen.insert(class.value.as_str()) {
                    return Err(SchemaError::DuplicateClass(class.value.clone()));
                }
            }
        }
        Ok(())
    }
}

impl Field {
    fn check(&self) -> Result<(), SchemaError> {
        let err = |why: String| SchemaError::BadField {
            field: self.name.clone(),
            why,
        };
        match &self.kind {
            FieldKind::Number(spec) | FieldKind::Integer(spec) => {
                for (what, v) in [("min", spec.min), ("max", spec.max), ("step", spec.step)] {
                    if let Some(v) = v
                        && !v.is_finite()
                    {
                        return Err(err(format!("{what} must be a finite number, not {v}")));
                    }
                }
                if let (Some(min), Some(max)) = (spec.min, spec.max)
                    && min > max
                {
                    return Err(err(format!("min ({min}) is greater than max ({max})")));
                }
                if let Some(step) = spec.step
                    && step <= 0.0
                {
                    return Err(err(format!("step must be positive, not {step}")));
                }
            }
            FieldKind::Category(spec) => {
                if spec.values.is_empty() {
                    return Err(err("a category field needs at least one value".into()));
                }
                let mut seen = std::collections::HashSet::new();
                for c in &spec.values {
                    if !seen.insert(c.value.as_str()) {
                        return Err(err(format!(
                            "the value {} is listed twice",
                            quoted(&c.value)
                        )));
                    }
                }
            }
            FieldKind::Boolean => {}
        }
        if let Some(default) = &self.default
            && let Err(problem) = validate::parse_str(self, default)
        {
            return Err(err(format!(
                "the default {} is not valid: {}",
                quoted(default),
                problem.describe(self, Lang::En)
            )));
        }
        Ok(())
    }

    /// The index of a category value, if this is a category field that lists it.
    pub fn category_index(&self, value: &str) -> Option<usize> {
        match &self.kind {
            FieldKind::Category(spec) => spec.values.iter().position(|c| c.value == value),
            _ => None,
        }
    }
}

/// A machine name is safe in a URL path segment and a Prometheus label.
pub fn is_machine_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// A schema that breaks a rule. Each variant names the offending part.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum SchemaError {
    #[error(
        "the model name {} is not valid; use 1 to 64 letters, digits, '-', '_' or '.' (it appears in URLs)",
        quoted(.0)
    )]
    BadName(String),
    #[error("the schema has no input fields; list at least one under [[fields]]")]
    NoFields,
    #[error("a field has an empty name; every field needs the column name it is read from")]
    EmptyFieldName,
    #[error("the field {} is listed twice; field names must be unique", quoted(.0))]
    DuplicateField(String),
    #[error(
        "{} is both the target and an input field; the target cannot be an input",
        quoted(.0)
    )]
    TargetIsInput(String),
    #[error(
        "the target {} has fewer than two classes; a classifier needs at least two",
        quoted(.0)
    )]
    TooFewClasses(String),
    #[error("the class {} is listed twice in the target", quoted(.0))]
    DuplicateClass(String),
    #[error("field {}: {why}", quoted(.field))]
    BadField { field: String, why: String },
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small Titanic-like schema shared by tests across the crate.
    pub fn titanic_like() -> Schema {
        let num = |min, max| NumberSpec {
            min: Some(min),
            max: Some(max),
            step: None,
            unit: None,
        };
        let cat = |values: &[&str]| {
            FieldKind::Category(CategorySpec {
                values: values
                    .iter()
                    .map(|v| Category {
                        value: v.to_string(),
                        label: Text::new(*v),
                    })
                    .collect(),
                open: false,
            })
        };
        let field = |name: &str, kind, optional| Field {
            name: name.into(),
            label: Text::new(name),
            help: Text::default(),
            kind,
            optional,
            default: None,
        };
        Schema {
            name: "titanic".into(),
            title: Text::new("Titanic"),
            description: Text::default(),
            fields: vec![
                field("Pclass", cat(&["1", "2", "3"]), false),
                field("Sex", cat(&["male", "female"]), false),
                field("Age", FieldKind::Number(num(0.0, 100.0)), true),
                field("SibSp", FieldKind::Integer(num(0.0, 10.0)), false),
                field("Fare", FieldKind::Number(num(0.0, 600.0)), false),
                field("Embarked", cat(&["S", "C", "Q"]), true),
                field("Alone", FieldKind::Boolean, true),
            ],
            target: Target {
                name: "Survived".into(),
                label: Text::new("Survived"),
                kind: TargetKind::Classes(vec![
                    Class {
                        value: "0".into(),
                        label: Text::bilingual("Passenger dies", "El pasajero muere"),
                    },
                    Class {
                        value: "1".into(),
                        label: Text::bilingual("Passenger survives", "El pasajero sobrevive"),
                    },
                ]),
            },
        }
    }

    #[test]
    fn the_test_schema_is_valid() {
        titanic_like().check().unwrap();
    }

    #[test]
    fn rules_are_enforced() {
        let mut s = titanic_like();
        s.fields[1].name = "Pclass".into();
        assert_eq!(s.check(), Err(SchemaError::DuplicateField("Pclass".into())));

        let mut s = titanic_like();
        s.name = "has space".into();
        assert!(matches!(s.check(), Err(SchemaError::BadName(_))));

        let mut s = titanic_like();
        if let FieldKind::Number(spec) = &mut s.fields[2].kind {
            spec.min = Some(10.0);
            spec.max = Some(1.0);
        }
        let err = s.check().unwrap_err().to_string();
        assert!(
            err.contains("Age") && err.contains("greater than max"),
            "{err}"
        );

        let mut s = titanic_like();
        s.fields[1].default = Some("other".into());
        let err = s.check().unwrap_err().to_string();
        assert!(err.contains("default \"other\""), "{err}");

        let mut s = titanic_like();
        s.target.kind = TargetKind::Classes(vec![]);
        assert!(matches!(s.check(), Err(SchemaError::TooFewClasses(_))));
    }
}
