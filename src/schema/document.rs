//! The schema as a TOML document a person writes and edits.
//!
//! ```toml
//! name = "titanic"
//! title = { en = "Titanic survival", es = "Supervivencia en el Titanic" }
//!
//! [target]
//! name = "Survived"
//! classes = [
//!   { value = "0", label = { en = "Passenger dies", es = "El pasajero muere" } },
//!   { value = "1", label = { en = "Passenger survives", es = "El pasajero sobrevive" } },
//! ]
//!
//! [[fields]]
//! name = "Age"
//! kind = "number"          # number | integer | category | boolean
//! label = { en = "Age", es = "Edad" }
//! min = 0
//! max = 100
//! optional = true          # may be left out; the model imputes it
//! default = 30
//! ```
//!
//! Texts may be a plain string (English only) or `{ en = "...", es = "..." }`.
//! Category values may be plain strings or `{ value = "S", label = ... }`.
//! Unknown keys are errors, so a typo such as `mn = 0` cannot pass unnoticed.

use serde::Deserialize;

use super::{
    Category, CategorySpec, Class, Field, FieldKind, NumberSpec, Schema, SchemaError, Target,
    TargetKind, Text,
};
use crate::quote::quoted;

/// A schema document that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("the schema is not valid TOML or has an unexpected key: {0}")]
    Toml(toml::de::Error),
    #[error("field {}: {why}", quoted(.field))]
    Field { field: String, why: String },
    #[error("target: {0}")]
    Target(String),
    #[error(transparent)]
    Rule(#[from] SchemaError),
}

// By hand rather than `#[from]`, which would also make it the error's source:
// the message already includes it, and `{:#}` would print it twice.
impl From<toml::de::Error> for DocumentError {
    fn from(e: toml::de::Error) -> Self {
        DocumentError::Toml(e)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    name: String,
    #[serde(default)]
    title: Option<TextDoc>,
    #[serde(default)]
    description: Option<TextDoc>,
    target: TargetDoc,
    fields: Vec<FieldDoc>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TextDoc {
    Plain(String),
    Both { en: String, es: Option<String> },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetDoc {
    name: String,
    #[serde(default)]
    label: Option<TextDoc>,
    /// `classes` (the default when classes are listed) or `value` (regression).
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    classes: Vec<ValueDoc>,
    #[serde(default)]
    unit: Option<TextDoc>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ValueDoc {
    Plain(Scalar),
    Labelled {
        value: Scalar,
        label: Option<TextDoc>,
    },
}

/// A scalar written in TOML: `3`, `3.5`, `"S"`, `true` all name a value.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum Scalar {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl Scalar {
    fn into_string(self) -> String {
        match self {
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Str(s) => s,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldDoc {
    name: String,
    kind: String,
    #[serde(default)]
    label: Option<TextDoc>,
    #[serde(default)]
    help: Option<TextDoc>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    default: Option<Scalar>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    step: Option<f64>,
    #[serde(default)]
    unit: Option<TextDoc>,
    #[serde(default)]
    values: Vec<ValueDoc>,
    #[serde(default)]
    open: bool,
}

impl TextDoc {
    fn into_text(self) -> Text {
        match self {
            TextDoc::Plain(en) => Text { en, es: None },
            TextDoc::Both { en, es } => Text { en, es },
        }
    }
}

fn text_or(doc: Option<TextDoc>, fallback: &str) -> Text {
    doc.map(TextDoc::into_text)
        .unwrap_or_else(|| Text::new(fallback))
}

impl ValueDoc {
    fn into_pair(self) -> (String, Text) {
        match self {
            ValueDoc::Plain(v) => {
                let v = v.into_string();
                let label = Text::new(v.clone());
                (v, label)
            }
            ValueDoc::Labelled { value, label } => {
                let v = value.into_string();
                let label = text_or(label, &v);
                (v, label)
            }
        }
    }
}

impl FieldDoc {
    fn into_field(self) -> Result<Field, DocumentError> {
        let err = |why: String| DocumentError::Field {
            field: self.name.clone(),
            why,
        };
        let numeric = matches!(self.kind.as_str(), "number" | "integer");
        if !numeric
            && (self.min.is_some()
                || self.max.is_some()
                || self.step.is_some()
                || self.unit.is_some())
        {
            return Err(err(format!(
                "min, max, step and unit apply to number and integer fields, not to a {} field",
                self.kind
            )));
        }
        if self.kind != "category" && (!self.values.is_empty() || self.open) {
            return Err(err(format!(
                "values and open apply to category fields, not to a {} field",
                self.kind
            )));
        }
        let spec = || NumberSpec {
            min: self.min,
            max: self.max,
            step: self.step,
            unit: None,
        };
        let kind = match self.kind.as_str() {
            "number" => FieldKind::Number(spec()),
            "integer" => FieldKind::Integer(spec()),
            "boolean" => FieldKind::Boolean,
            "category" => FieldKind::Category(CategorySpec {
                values: Vec::new(),
                open: self.open,
            }),
            other => {
                return Err(err(format!(
                    "unknown kind {}; use number, integer, category or boolean",
                    quoted(other)
                )));
            }
        };
        let mut field = Field {
            label: text_or(self.label, &self.name),
            help: self.help.map(TextDoc::into_text).unwrap_or_default(),
            name: self.name,
            kind,
            optional: self.optional,
            default: self.default.map(Scalar::into_string),
        };
        match &mut field.kind {
            FieldKind::Number(spec) | FieldKind::Integer(spec) => {
                spec.unit = self.unit.map(TextDoc::into_text);
            }
            FieldKind::Category(spec) => {
                spec.values = self
                    .values
                    .into_iter()
                    .map(|v| {
                        let (value, label) = v.into_pair();
                        Category { value, label }
                    })
                    .collect();
            }
            FieldKind::Boolean => {}
        }
        Ok(field)
    }
}

impl Schema {
    /// Reads a schema from its TOML text and checks every rule.
    pub fn from_toml(text: &str) -> Result<Schema, DocumentError> {
        let doc: Doc = toml::from_str(text)?;
        let fields = doc
            .fields
            .into_iter()
            .map(FieldDoc::into_field)
            .collect::<Result<Vec<_>, _>>()?;
        let target = doc.target;
        let kind = match (target.kind.as_deref(), target.classes.is_empty()) {
            (Some("value"), true) => TargetKind::Value {
                unit: target.unit.map(TextDoc::into_text),
            },
            (Some("value"), false) => {
                return Err(DocumentError::Target(
                    "a target of kind \"value\" (regression) takes no classes".into(),
                ));
            }
            (None | Some("classes"), false) => {
                if target.unit.is_some() {
                    return Err(DocumentError::Target(
                        "unit applies to a target of kind \"value\", not to classes".into(),
                    ));
                }
                TargetKind::Classes(
                    target
                        .classes
                        .into_iter()
                        .map(|c| {
                            let (value, label) = c.into_pair();
                            Class { value, label }
                        })
                        .collect(),
                )
            }
            (None | Some("classes"), true) => {
                return Err(DocumentError::Target(
                    "list the classes (classes = [\"0\", \"1\"]) or set kind = \"value\" for a number"
                        .into(),
                ));
            }
            (Some(other), _) => {
                return Err(DocumentError::Target(format!(
                    "unknown kind {}; use \"classes\" or \"value\"",
                    quoted(other)
                )));
            }
        };
        let schema = Schema {
            title: text_or(doc.title, &doc.name),
            description: doc.description.map(TextDoc::into_text).unwrap_or_default(),
            name: doc.name,
            fields,
            target: Target {
                label: text_or(target.label, &target.name),
                name: target.name,
                kind,
            },
        };
        schema.check()?;
        Ok(schema)
    }

    /// Writes the schema as an editable TOML document (the inverse of [`Schema::from_toml`]).
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("name = {}\n", quote(&self.name)));
        out.push_str(&format!("title = {}\n", text(&self.title)));
        if !self.description.is_empty() {
            out.push_str(&format!("description = {}\n", text(&self.description)));
        }
        out.push_str("\n[target]\n");
        out.push_str(&format!("name = {}\n", quote(&self.target.name)));
        out.push_str(&format!("label = {}\n", text(&self.target.label)));
        match &self.target.kind {
            TargetKind::Classes(classes) => {
                out.push_str("classes = [\n");
                for c in classes {
                    out.push_str(&format!(
                        "  {{ value = {}, label = {} }},\n",
                        quote(&c.value),
                        text(&c.label)
                    ));
                }
                out.push_str("]\n");
            }
            TargetKind::Value { unit } => {
                out.push_str("kind = \"value\"\n");
                if let Some(unit) = unit {
                    out.push_str(&format!("unit = {}\n", text(unit)));
                }
            }
        }
        for f in &self.fields {
            out.push_str("\n[[fields]]\n");
            out.push_str(&format!("name = {}\n", quote(&f.name)));
            let kind = match &f.kind {
                FieldKind::Number(_) => "number",
                FieldKind::Integer(_) => "integer",
                FieldKind::Category(_) => "category",
                FieldKind::Boolean => "boolean",
            };
            out.push_str(&format!("kind = \"{kind}\"\n"));
            out.push_str(&format!("label = {}\n", text(&f.label)));
            if !f.help.is_empty() {
                out.push_str(&format!("help = {}\n", text(&f.help)));
            }
            if f.optional {
                out.push_str("optional = true\n");
            }
            if let Some(d) = &f.default {
                out.push_str(&format!("default = {}\n", quote(d)));
            }
            match &f.kind {
                FieldKind::Number(spec) | FieldKind::Integer(spec) => {
                    for (key, v) in [("min", spec.min), ("max", spec.max), ("step", spec.step)] {
                        if let Some(v) = v {
                            out.push_str(&format!("{key} = {}\n", toml_float(v)));
                        }
                    }
                    if let Some(unit) = &spec.unit {
                        out.push_str(&format!("unit = {}\n", text(unit)));
                    }
                }
                FieldKind::Category(spec) => {
                    if spec.open {
                        out.push_str("open = true\n");
                    }
                    out.push_str("values = [\n");
                    for c in &spec.values {
                        out.push_str(&format!(
                            "  {{ value = {}, label = {} }},\n",
                            quote(&c.value),
                            text(&c.label)
                        ));
                    }
                    out.push_str("]\n");
                }
                FieldKind::Boolean => {}
            }
        }
        out
    }
}

fn quote(s: &str) -> String {
    // A TOML basic string has the same escapes as JSON for everything we write.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn text(t: &Text) -> String {
    match &t.es {
        None => quote(&t.en),
        Some(es) => format!("{{ en = {}, es = {} }}", quote(&t.en), quote(es)),
    }
}

fn toml_float(v: f64) -> String {
    short_number(v)
}

/// A finite number as TOML and people read it: whole numbers below 10^15 as
/// integers, others in plain decimals unless very large or small, where
/// `{}` would write hundreds of digits (1e308 is 309 of them).
pub(crate) fn short_number(v: f64) -> String {
    let size = v.abs();
    if v.fract() == 0.0 && size < 1e15 {
        format!("{}", v as i64)
    } else if size >= 1e15 || (size < 1e-5 && size > 0.0) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::titanic_like;

    #[test]
    fn huge_and_tiny_numbers_are_written_short_and_read_back() {
        for v in [1e308, -f64::MAX, 1e15, 2.5e-7, 0.125, 42.0, -3.0, 1e14] {
            let written = short_number(v);
            assert!(written.len() < 25, "{written}");
            let table: toml::Table = format!("x = {written}").parse().unwrap();
            let back = match &table["x"] {
                toml::Value::Integer(i) => *i as f64,
                toml::Value::Float(f) => *f,
                other => panic!("{other:?}"),
            };
            assert_eq!(back, v, "{written}");
        }
        assert_eq!(short_number(1e308), "1e308");
    }

    #[test]
    fn round_trips_through_toml() {
        let mut schema = titanic_like();
        schema.fields[2].help = Text::bilingual("In years", "En años");
        schema.fields[2].default = Some("30".into());
        if let FieldKind::Number(spec) = &mut schema.fields[2].kind {
            spec.unit = Some(Text::bilingual("years", "años"));
            spec.step = Some(0.5);
        }
        let text = schema.to_toml();
        let back = Schema::from_toml(&text).unwrap();
        assert_eq!(back, schema, "{text}");
    }

    #[test]
    fn plain_strings_and_numbers_are_accepted() {
        let s = Schema::from_toml(
            r#"
            name = "m"
            [target]
            name = "y"
            classes = [0, 1]
            [[fields]]
            name = "Pclass"
            kind = "category"
            values = [1, 2, { value = 3, label = { en = "3rd", es = "3ª" } }]
            default = 3
            "#,
        )
        .unwrap();
        assert_eq!(s.fields[0].default.as_deref(), Some("3"));
        assert_eq!(s.classes()[1].value, "1");
        assert_eq!(s.fields[0].category_index("3"), Some(2));
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let base = |field: &str| {
            format!(
                "name = \"m\"\n[target]\nname = \"y\"\nclasses = [0, 1]\n[[fields]]\nname = \"a\"\n{field}"
            )
        };
        let err = |doc: String| Schema::from_toml(&doc).unwrap_err().to_string();
        assert!(err(base("kind = \"numbr\"")).contains("unknown kind \"numbr\""));
        let e = err(base("kind = \"number\"\nmn = 1"));
        assert!(e.contains("unknown field `mn`"), "{e}");
        assert!(err(base("kind = \"category\"\nmin = 1")).contains("min, max, step and unit"));
        assert!(err(base("kind = \"number\"\nmin = 5\nmax = 1")).contains("greater than max"));
        assert!(err(base("kind = \"category\"")).contains("at least one value"));
        let e = err(base("kind = \"number\"\nmax = 10\ndefault = 11"));
        assert!(e.contains("default \"11\" is not valid"), "{e}");
        let e = err(
            "name = \"m\"\n[target]\nname = \"y\"\n[[fields]]\nname = \"a\"\nkind = \"boolean\""
                .into(),
        );
        assert!(e.contains("list the classes"), "{e}");
    }

    #[test]
    fn regression_targets() {
        let s = Schema::from_toml(
            "name = \"m\"\n[target]\nname = \"price\"\nkind = \"value\"\nunit = \"USD\"\n[[fields]]\nname = \"a\"\nkind = \"number\"",
        )
        .unwrap();
        assert!(!s.is_classifier());
        assert_eq!(Schema::from_toml(&s.to_toml()).unwrap(), s);
    }
}
