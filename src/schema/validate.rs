//! Validation: untyped input (form strings, JSON values, CSV cells) to a typed
//! [`Row`], or every problem at once, each naming the field, what was found and
//! what would be accepted.
//!
//! It never panics and never guesses: an unknown field is an error (with a
//! "did you mean"), not a silently dropped value.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{CategorySpec, Field, FieldKind, Lang, NumberSpec, Schema};
use crate::quote::quoted;

/// One validated input value, ready for the model's preprocessing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Cell {
    /// Left out (allowed only for optional fields): the model imputes it.
    Missing,
    /// A number, an integer, or a boolean as 0.0 / 1.0. Always finite.
    Number(f64),
    /// The index of a category in the field's list of values.
    Category(u32),
    /// A value an open category field does not list.
    Unseen,
}

/// A typed row: one cell per schema field, in schema order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub cells: Vec<Cell>,
}

/// What was wrong with one value.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// Absent, empty or null, and the field may not be missing.
    Missing,
    NotANumber(String),
    /// A number written with a comma where none is taken (`1,000`, or
    /// `22,5` outside a Spanish form), or with both separators (`1.000,5`):
    /// never read as some other number. `comma`: whether a decimal comma
    /// was taken here (see [`Decimals`]).
    Separators {
        value: String,
        comma: bool,
    },
    NotAWholeNumber(String),
    OutOfRange(f64),
    NotACategory(String),
    NotABoolean(String),
    /// A JSON value of the wrong shape (an array or an object where a value belongs).
    WrongType(&'static str),
    /// The input named a field the schema does not have.
    UnknownField {
        suggestion: Option<String>,
    },
    /// The same field was given twice (possible in forms and CSV headers).
    Duplicate,
}

/// A problem with one field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub problem: Problem,
    /// What the field accepts, kept here so the message needs no schema to render.
    pub expected: Expected,
}

/// What a field accepts, for error messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    Number {
        min: Option<f64>,
        max: Option<f64>,
        integer: bool,
    },
    OneOf {
        values: Vec<String>,
        open: bool,
    },
    Boolean,
    /// For unknown fields: the fields the schema has.
    Fields(Vec<String>),
}

/// Every problem found in one row, in field order (unknown fields last).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowErrors(pub Vec<FieldError>);

impl Problem {
    /// The problem and what is accepted, without the field name, e.g.
    /// `"abc" is not a number; expected a number from 0 to 100`.
    pub fn describe(&self, field: &Field, lang: Lang) -> String {
        FieldError {
            field: field.name.clone(),
            problem: self.clone(),
            expected: Expected::of(field),
        }
        .describe(lang)
    }
}

impl Expected {
    pub fn of(field: &Field) -> Expected {
        match &field.kind {
            FieldKind::Number(spec) | FieldKind::Integer(spec) => Expected::Number {
                min: spec.min,
                max: spec.max,
                integer: matches!(field.kind, FieldKind::Integer(_)),
            },
            FieldKind::Category(spec) => Expected::OneOf {
                values: spec.values.iter().map(|c| c.value.clone()).collect(),
                open: spec.open,
            },
            FieldKind::Boolean => Expected::Boolean,
        }
    }

    fn describe(&self, lang: Lang) -> String {
        let es = lang == Lang::Es;
        match self {
            Expected::Number { min, max, integer } => {
                let what = match (integer, es) {
                    (false, false) => "a number",
                    (true, false) => "a whole number",
                    (false, true) => "un número",
                    (true, true) => "un número entero",
                };
                let range = match (min, max, es) {
                    (Some(a), Some(b), false) => format!(" from {} to {}", num(*a), num(*b)),
                    (Some(a), Some(b), true) => format!(" de {} a {}", num(*a), num(*b)),
                    (Some(a), None, false) => format!(" of at least {}", num(*a)),
                    (Some(a), None, true) => format!(" mayor o igual que {}", num(*a)),
                    (None, Some(b), false) => format!(" of at most {}", num(*b)),
                    (None, Some(b), true) => format!(" menor o igual que {}", num(*b)),
                    (None, None, _) => String::new(),
                };
                if es {
                    format!("se espera {what}{range}")
                } else {
                    format!("expected {what}{range}")
                }
            }
            Expected::OneOf { values, open } => {
                let list = crate::quote::name_list(values.iter().map(String::as_str));
                match (open, es) {
                    (false, false) => format!("expected one of: {list}"),
                    (false, true) => format!("se espera uno de: {list}"),
                    (true, false) => format!("expected a value such as: {list}"),
                    (true, true) => format!("se espera un valor como: {list}"),
                }
            }
            Expected::Boolean if es => {
                "se espera true o false (también 1/0, sí/no, verdadero/falso)".into()
            }
            Expected::Boolean => "expected true or false (or 1/0, yes/no)".into(),
            Expected::Fields(names) if es => format!(
                "los campos son: {}",
                crate::quote::name_list(names.iter().map(String::as_str))
            ),
            Expected::Fields(names) => format!(
                "the fields are: {}",
                crate::quote::name_list(names.iter().map(String::as_str))
            ),
        }
    }
}

/// Formats a number the way a person would write it (`100`, not `100.0`).
fn num(v: f64) -> String {
    super::document::short_number(v)
}

impl FieldError {
    fn new(field: &Field, problem: Problem) -> FieldError {
        FieldError {
            field: field.name.clone(),
            problem,
            expected: Expected::of(field),
        }
    }

    /// The message without the field name, in `lang`; for showing next to a form input.
    pub fn describe(&self, lang: Lang) -> String {
        let es = lang == Lang::Es;
        let expected = self.expected.describe(lang);
        match (&self.problem, es) {
            (Problem::Missing, false) => format!("is required; {expected}"),
            (Problem::Missing, true) => format!("es obligatorio; {expected}"),
            (Problem::NotANumber(s), false) => format!("{} is not a number; {expected}", q(s)),
            (Problem::NotANumber(s), true) => format!("{} no es un número; {expected}", q(s)),
            (Problem::Separators { value, comma }, false) => format!(
                "{} is not a number: write decimals with {} and no thousands separators (1000); {expected}",
                q(value),
                if *comma {
                    "a comma or a point (7,25 or 7.25)"
                } else {
                    "a point (7.25)"
                }
            ),
            (Problem::Separators { value, comma }, true) => format!(
                "{} no es un número: escriba los decimales con {} y sin separador de miles (1000); {expected}",
                q(value),
                if *comma {
                    "coma o punto (7,25 o 7.25)"
                } else {
                    "punto (7.25)"
                }
            ),
            (Problem::NotAWholeNumber(s), false) => {
                format!("{} is not a whole number; {expected}", q(s))
            }
            (Problem::NotAWholeNumber(s), true) => {
                format!("{} no es un número entero; {expected}", q(s))
            }
            (Problem::OutOfRange(v), false) => format!("{} is out of range; {expected}", num(*v)),
            (Problem::OutOfRange(v), true) => {
                format!("{} está fuera de rango; {expected}", num(*v))
            }
            (Problem::NotACategory(s), false) => format!("{} is not allowed; {expected}", q(s)),
            (Problem::NotACategory(s), true) => format!("{} no es válido; {expected}", q(s)),
            (Problem::NotABoolean(s), false) => {
                format!("{} is not true or false; {expected}", q(s))
            }
            (Problem::NotABoolean(s), true) => format!("{} no es true ni false; {expected}", q(s)),
            (Problem::WrongType(found), false) => format!("got {found}; {expected}"),
            (Problem::WrongType(found), true) => format!("se recibió {found}; {expected}"),
            (Problem::UnknownField { suggestion }, es) => {
                let hint = match (suggestion, es) {
                    (Some(s), false) => format!("did you mean {}? ", quoted(s)),
                    (Some(s), true) => format!("¿quería decir {}? ", quoted(s)),
                    (None, _) => String::new(),
                };
                if es {
                    format!("no es un campo de este modelo; {hint}{expected}")
                } else {
                    format!("is not a field of this model; {hint}{expected}")
                }
            }
            (Problem::Duplicate, false) => "was given more than once; give each field once".into(),
            (Problem::Duplicate, true) => {
                "aparece más de una vez; indique cada campo una vez".into()
            }
        }
    }
}

/// Quotes what the user sent, shortened so an error never echoes a huge input.
fn q(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        quoted(s).to_string()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{}…", quoted(&head))
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = crate::quote::name(&self.field);
        write!(f, "{field}: {}", self.describe(Lang::En))
    }
}

impl fmt::Display for RowErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RowErrors {}

impl RowErrors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first error for `field`, if any.
    pub fn for_field(&self, field: &str) -> Option<&FieldError> {
        self.0.iter().find(|e| e.field == field)
    }
}

/// Strings that mean "no value" in a number column (as pandas writes and reads them).
const MISSING_TOKENS: [&str; 6] = ["nan", "na", "n/a", "null", "none", "-"];

/// Whether `s` looks like a number written with separators (`1,000`,
/// `1.000,5`, `-2,5`): digits, commas and points only, a sign first.
fn separated_number(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    body.bytes().any(|b| b.is_ascii_digit())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
}

pub(crate) fn is_missing_token(s: &str) -> bool {
    MISSING_TOKENS.iter().any(|t| s.eq_ignore_ascii_case(t))
}

/// How text writes a decimal number. A point always works (it is what an
/// HTML number input, JSON and CSV send); a form in a language that writes
/// `22,5` takes that too. A comma is never a thousands separator: `1,000`
/// is refused where the comma is not decimal, never read as 1 or 1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decimals {
    #[default]
    Point,
    PointOrComma,
}

impl Decimals {
    /// How a form in `lang` may write decimals: Spanish pages show `22,5`,
    /// so a Spanish form takes it back.
    pub fn of(lang: Lang) -> Decimals {
        match lang {
            Lang::En => Decimals::Point,
            Lang::Es => Decimals::PointOrComma,
        }
    }
}

/// `22,5` (digits with one decimal comma, a sign allowed) written with a
/// point, `22.5`; `None` for anything else.
pub fn comma_decimal(s: &str) -> Option<String> {
    let s = s.trim();
    let (int, frac) = s.split_once(',')?;
    let digits = int.strip_prefix(['+', '-']).unwrap_or(int);
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    (all_digits(digits) && all_digits(frac) && !(digits.is_empty() && frac.is_empty()))
        .then(|| format!("{int}.{frac}"))
}

/// Parses one value typed as text (a form input, a CSV cell). Empty means missing.
pub fn parse_str(field: &Field, raw: &str) -> Result<Cell, Problem> {
    parse_text(field, raw, Decimals::Point)
}

/// [`parse_str`], with decimals written as `decimals` says.
pub fn parse_text(field: &Field, raw: &str, decimals: Decimals) -> Result<Cell, Problem> {
    let s = raw.trim();
    if s.is_empty() {
        return missing(field);
    }
    match &field.kind {
        FieldKind::Number(spec) | FieldKind::Integer(spec) => {
            let integer = matches!(field.kind, FieldKind::Integer(_));
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() => check_number(spec, integer, v, || s.to_string()),
                _ if is_missing_token(s) => missing(field),
                _ => {
                    let comma = decimals == Decimals::PointOrComma;
                    let decimal = comma
                        .then(|| comma_decimal(s))
                        .flatten()
                        .and_then(|p| p.parse::<f64>().ok());
                    match decimal {
                        Some(v) if v.is_finite() => {
                            check_number(spec, integer, v, || s.to_string())
                        }
                        _ if s.contains(',') && separated_number(s) => Err(Problem::Separators {
                            value: s.to_string(),
                            comma,
                        }),
                        _ => Err(Problem::NotANumber(s.to_string())),
                    }
                }
            }
        }
        FieldKind::Category(spec) => match spec
            .values
            .iter()
            .position(|c| c.value == s)
            .or_else(|| same_number(spec, s))
        {
            Some(i) => Ok(Cell::Category(i as u32)),
            None if spec.open => Ok(Cell::Unseen),
            None => Err(Problem::NotACategory(s.to_string())),
        },
        FieldKind::Boolean => parse_bool(s).ok_or_else(|| Problem::NotABoolean(s.to_string())),
    }
}

/// The category value that is the same number as `s`, if `s` is one: `3.0`
/// means the category "3", as JSON's 3.0 does (pandas writes a column of
/// whole numbers with a gap in it as 3.0).
fn same_number(spec: &CategorySpec, s: &str) -> Option<usize> {
    let v = s.parse::<f64>().ok().filter(|v| v.is_finite())?;
    spec.values
        .iter()
        .position(|c| c.value.parse::<f64>().ok() == Some(v))
}

/// A borrowed view of one JSON value: what validation needs, whatever parsed
/// it (a `serde_json::Value` tree, or a request body read without building one).
#[derive(Debug, Clone, Copy)]
pub enum JsonRef<'a> {
    Null,
    Bool(bool),
    Number(&'a serde_json::Number),
    Str(&'a str),
    Array,
    Object,
}

impl<'a> From<&'a Value> for JsonRef<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Null => JsonRef::Null,
            Value::Bool(b) => JsonRef::Bool(*b),
            Value::Number(n) => JsonRef::Number(n),
            Value::String(s) => JsonRef::Str(s),
            Value::Array(_) => JsonRef::Array,
            Value::Object(_) => JsonRef::Object,
        }
    }
}

/// Parses one JSON value. `null` means missing; numbers written as strings are accepted.
pub fn parse_json(field: &Field, value: &Value) -> Result<Cell, Problem> {
    parse_json_ref(field, JsonRef::from(value))
}

/// [`parse_json`] on a borrowed view.
pub fn parse_json_ref(field: &Field, value: JsonRef<'_>) -> Result<Cell, Problem> {
    match value {
        JsonRef::Null => missing(field),
        JsonRef::Str(s) => parse_str(field, s),
        JsonRef::Number(n) => match &field.kind {
            FieldKind::Number(spec) | FieldKind::Integer(spec) => {
                let integer = matches!(field.kind, FieldKind::Integer(_));
                match n.as_f64() {
                    Some(v) if v.is_finite() => check_number(spec, integer, v, || n.to_string()),
                    _ => Err(Problem::NotANumber(n.to_string())),
                }
            }
            // Category values are strings; 3 and 3.0 both mean the category "3".
            FieldKind::Category(_) => match n.as_f64() {
                Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => {
                    parse_str(field, itoa::Buffer::new().format(v as i64))
                }
                _ => parse_str(field, &n.to_string()),
            },
            FieldKind::Boolean => match n.as_f64() {
                Some(0.0) => Ok(Cell::Number(0.0)),
                Some(1.0) => Ok(Cell::Number(1.0)),
                _ => Err(Problem::NotABoolean(n.to_string())),
            },
        },
        JsonRef::Bool(b) => match &field.kind {
            FieldKind::Boolean => Ok(Cell::Number(if b { 1.0 } else { 0.0 })),
            FieldKind::Category(_) => parse_str(field, if b { "true" } else { "false" }),
            _ => Err(Problem::NotANumber(b.to_string())),
        },
        JsonRef::Array => Err(Problem::WrongType("an array")),
        JsonRef::Object => Err(Problem::WrongType("an object")),
    }
}

fn missing(field: &Field) -> Result<Cell, Problem> {
    if field.optional {
        Ok(Cell::Missing)
    } else {
        Err(Problem::Missing)
    }
}

/// Checks a parsed number; `raw` says how the user wrote it, for the message
/// (only computed when there is a problem).
fn check_number(
    spec: &NumberSpec,
    integer: bool,
    v: f64,
    raw: impl FnOnce() -> String,
) -> Result<Cell, Problem> {
    if integer && v.fract() != 0.0 {
        return Err(Problem::NotAWholeNumber(raw()));
    }
    let below = spec.min.is_some_and(|min| v < min);
    let above = spec.max.is_some_and(|max| v > max);
    if below || above {
        return Err(Problem::OutOfRange(v));
    }
    Ok(Cell::Number(v))
}

fn parse_bool(s: &str) -> Option<Cell> {
    // Spreadsheets in Spanish write VERDADERO and FALSO.
    const TRUE: [&str; 8] = ["true", "1", "yes", "on", "y", "sí", "si", "verdadero"];
    const FALSE: [&str; 6] = ["false", "0", "no", "off", "n", "falso"];
    let s: std::borrow::Cow<'_, str> = if s.contains('Í') {
        s.replace('Í', "í").into()
    } else {
        s.into()
    };
    if TRUE.iter().any(|t| s.eq_ignore_ascii_case(t)) {
        Some(Cell::Number(1.0))
    } else if FALSE.iter().any(|t| s.eq_ignore_ascii_case(t)) {
        Some(Cell::Number(0.0))
    } else {
        // 1.0 and 0.0, as JSON's numbers are read (and pandas writes them).
        match s.parse::<f64>() {
            Ok(v) if v == 1.0 || v == 0.0 => Some(Cell::Number(v.abs())),
            _ => None,
        }
    }
}

/// Collects cells for one row, then checks for absent fields at the end.
struct RowBuilder<'s> {
    schema: &'s Schema,
    cells: Vec<Option<Cell>>,
    errors: Vec<FieldError>,
    unknown: Vec<FieldError>,
}

impl<'s> RowBuilder<'s> {
    fn new(schema: &'s Schema) -> Self {
        RowBuilder {
            schema,
            cells: vec![None; schema.fields.len()],
            errors: Vec::new(),
            unknown: Vec::new(),
        }
    }

    fn set(&mut self, name: &str, parse: impl FnOnce(&Field) -> Result<Cell, Problem>) {
        let Some(i) = self.schema.field_index(name) else {
            self.unknown.push(unknown_field(self.schema, name));
            return;
        };
        let field = &self.schema.fields[i];
        if self.cells[i].is_some() || self.errors.iter().any(|e| e.field == field.name) {
            self.errors.push(FieldError::new(field, Problem::Duplicate));
            return;
        }
        match parse(field) {
            Ok(cell) => self.cells[i] = Some(cell),
            Err(problem) => self.errors.push(FieldError::new(field, problem)),
        }
    }

    fn finish(mut self) -> Result<Row, RowErrors> {
        let mut cells = Vec::with_capacity(self.cells.len());
        for (field, cell) in self.schema.fields.iter().zip(&self.cells) {
            match cell {
                Some(c) => cells.push(*c),
                None if self.errors.iter().any(|e| e.field == field.name) => {}
                None if field.optional => cells.push(Cell::Missing),
                None => self.errors.push(FieldError::new(field, Problem::Missing)),
            }
        }
        if self.errors.is_empty() && self.unknown.is_empty() {
            return Ok(Row { cells });
        }
        // Report in schema order, so messages read like the form.
        let order = |e: &FieldError| self.schema.field_index(&e.field).unwrap_or(usize::MAX);
        self.errors.sort_by_key(order);
        self.errors.append(&mut self.unknown);
        Err(RowErrors(self.errors))
    }
}

fn unknown_field(schema: &Schema, name: &str) -> FieldError {
    let suggestion = schema
        .field_names()
        .map(|f| {
            (
                strsim::jaro_winkler(&f.to_lowercase(), &name.to_lowercase()),
                f,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, f)| f.to_string());
    FieldError {
        field: name.to_string(),
        problem: Problem::UnknownField { suggestion },
        expected: Expected::Fields(schema.field_names().map(String::from).collect()),
    }
}

impl Schema {
    /// Validates name/value pairs typed as text, as an HTML form sends them.
    ///
    /// ```
    /// # let schema = lifeboat::builtin::titanic().unwrap().model.schema;
    /// let errors = schema
    ///     .parse_strings([("Pclass", "3"), ("Sex", "male"), ("Age", "abc"), ("Fare", "7.25")])
    ///     .unwrap_err();
    /// assert!(errors.to_string().contains(r#"Age: "abc" is not a number"#));
    /// ```
    pub fn parse_strings<'a>(
        &self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Row, RowErrors> {
        let mut row = RowBuilder::new(self);
        for (name, value) in pairs {
            row.set(name, |field| parse_str(field, value));
        }
        row.finish()
    }

    /// Validates an HTML form in `lang`: as [`Schema::parse_strings`], and a
    /// form in a language that writes decimals with a comma takes `22,5`
    /// ([`Decimals`]).
    ///
    /// ```
    /// # use lifeboat::schema::Lang;
    /// # let schema = lifeboat::builtin::titanic().unwrap().model.schema;
    /// let form = [("Pclass", "3"), ("Sex", "male"), ("Age", "22,5"), ("SibSp", "0"), ("Parch", "0")];
    /// assert!(schema.parse_form(form, Lang::Es).is_ok());
    /// let errors = schema.parse_form(form, Lang::En).unwrap_err();
    /// assert!(errors.to_string().contains("write decimals with a point"));
    /// ```
    pub fn parse_form<'a>(
        &self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        lang: Lang,
    ) -> Result<Row, RowErrors> {
        let decimals = Decimals::of(lang);
        let mut row = RowBuilder::new(self);
        for (name, value) in pairs {
            row.set(name, |field| parse_text(field, value, decimals));
        }
        row.finish()
    }

    /// Validates one JSON object such as `{"Age": 22, "Sex": "male"}`.
    pub fn parse_json_object(
        &self,
        object: &serde_json::Map<String, Value>,
    ) -> Result<Row, RowErrors> {
        let mut row = RowBuilder::new(self);
        for (name, value) in object {
            row.set(name, |field| parse_json(field, value));
        }
        row.finish()
    }

    /// Validates `(name, value)` pairs of borrowed JSON values, in any order.
    pub fn parse_json_refs<'a>(
        &self,
        pairs: impl IntoIterator<Item = (&'a str, JsonRef<'a>)>,
    ) -> Result<Row, RowErrors> {
        let mut row = RowBuilder::new(self);
        for (name, value) in pairs {
            row.set(name, |field| parse_json_ref(field, value));
        }
        row.finish()
    }

    /// Validates values given by column (as in a CSV header) in any order.
    pub fn parse_json_pairs<'a>(
        &self,
        pairs: impl IntoIterator<Item = (&'a str, &'a Value)>,
    ) -> Result<Row, RowErrors> {
        let mut row = RowBuilder::new(self);
        for (name, value) in pairs {
            row.set(name, |field| parse_json(field, value));
        }
        row.finish()
    }
}

/// How the columns of a table (a CSV header, a dataframe) map onto a schema.
/// Built once per table, then used for every row.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    /// For each schema field, the column it is read from (None: absent, so missing).
    source: Vec<Option<usize>>,
    /// Columns the schema does not use, with their names.
    pub unused: Vec<(usize, String)>,
}

/// A table whose columns cannot feed the schema.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ColumnError {
    #[error(
        "the required column{} {} missing; the model needs: {}{}",
        if .missing.len() == 1 { "" } else { "s" },
        join_quoted(.missing) + if .missing.len() == 1 { " is" } else { " are" },
        crate::quote::name_list(.needed.iter().map(String::as_str)),
        .hints.iter().map(|h| format!("; {h}")).collect::<String>()
    )]
    Missing {
        missing: Vec<String>,
        needed: Vec<String>,
        /// What the header may have meant ([`crate::csvfile::header_hints`]).
        hints: Vec<String>,
    },
    #[error(
        "the header names {} twice (columns {first} and {second}); give every column its own name",
        quoted(.name)
    )]
    Duplicate {
        name: String,
        /// Both counted from 1.
        first: usize,
        second: usize,
    },
}

fn join_quoted(names: &[String]) -> String {
    crate::quote::quoted_list(names.iter().map(String::as_str))
}

impl ColumnMap {
    /// Maps `columns` (header names) onto `schema`. Optional fields may be absent;
    /// extra columns are listed in `unused`, so callers can say they were ignored.
    pub fn new<'a>(
        schema: &Schema,
        columns: impl IntoIterator<Item = &'a str>,
    ) -> Result<ColumnMap, ColumnError> {
        let mut source: Vec<Option<usize>> = vec![None; schema.fields.len()];
        let mut unused = Vec::new();
        let mut header = Vec::new();
        for (col, name) in columns.into_iter().enumerate() {
            header.push(name);
            let name = name.trim();
            match schema.field_index(name) {
                Some(i) if let Some(first) = source[i] => {
                    return Err(ColumnError::Duplicate {
                        name: name.to_string(),
                        first: first + 1,
                        second: col + 1,
                    });
                }
                Some(i) => source[i] = Some(col),
                None => unused.push((col, name.to_string())),
            }
        }
        let missing: Vec<String> = schema
            .fields
            .iter()
            .zip(&source)
            .filter(|(f, s)| s.is_none() && !f.optional)
            .map(|(f, _)| f.name.clone())
            .collect();
        if !missing.is_empty() {
            return Err(ColumnError::Missing {
                hints: crate::csvfile::header_hints(header.iter().copied(), &missing),
                missing,
                needed: schema.field_names().map(String::from).collect(),
            });
        }
        Ok(ColumnMap { source, unused })
    }

    /// Validates one row of text cells (a CSV record). `get(i)` returns column i.
    pub fn parse_strings<'r>(
        &self,
        schema: &Schema,
        get: impl Fn(usize) -> Option<&'r str>,
    ) -> Result<Row, RowErrors> {
        self.parse_with(schema, |field, col| {
            parse_str(field, get(col).unwrap_or(""))
        })
    }

    /// Validates one row of JSON values (a dataframe row). `get(i)` returns column i.
    pub fn parse_json<'r>(
        &self,
        schema: &Schema,
        get: impl Fn(usize) -> Option<&'r Value>,
    ) -> Result<Row, RowErrors> {
        self.parse_with(schema, |field, col| {
            parse_json(field, get(col).unwrap_or(&Value::Null))
        })
    }

    fn parse_with(
        &self,
        schema: &Schema,
        parse: impl Fn(&Field, usize) -> Result<Cell, Problem>,
    ) -> Result<Row, RowErrors> {
        let mut cells = Vec::with_capacity(schema.fields.len());
        let mut errors = Vec::new();
        for (field, source) in schema.fields.iter().zip(&self.source) {
            let result = match source {
                Some(col) => parse(field, *col),
                None => missing(field),
            };
            match result {
                Ok(cell) => cells.push(cell),
                Err(problem) => errors.push(FieldError::new(field, problem)),
            }
        }
        if errors.is_empty() {
            Ok(Row { cells })
        } else {
            Err(RowErrors(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::titanic_like;
    use serde_json::json;

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("Pclass", "3"),
            ("Sex", "male"),
            ("Age", "22"),
            ("SibSp", "1"),
            ("Fare", "7.25"),
            ("Embarked", "S"),
            ("Alone", "no"),
        ]
    }

    #[test]
    fn a_spanish_form_takes_a_decimal_comma_and_nothing_reads_a_comma_as_thousands() {
        let schema = titanic_like();
        let with = |age: &'static str, fare: &'static str| {
            let mut pairs = good();
            pairs[2].1 = age;
            pairs[4].1 = fare;
            pairs
        };
        let es = schema.parse_form(with("22,5", "+0,5"), Lang::Es);
        let point = schema.parse_form(with("22.5", "+0.5"), Lang::Es);
        assert_eq!(es, point);
        assert!(es.is_ok(), "{es:?}");
        assert_eq!(
            schema.parse_form(with(",5", "7,"), Lang::Es),
            schema.parse_strings(with("0.5", "7."))
        );
        // English, JSON and CSV: a comma is never read, and the message says why.
        for (lang, value, comma) in [
            (Lang::En, "22,5", false),
            (Lang::En, "1,000", false),
            (Lang::Es, "1.000,5", true),
            (Lang::Es, "1,000,5", true),
        ] {
            let errors = schema.parse_form(with("22", value), lang).unwrap_err();
            assert_eq!(errors.0.len(), 1, "{value}");
            assert_eq!(errors.0[0].field, "Fare");
            assert_eq!(
                errors.0[0].problem,
                Problem::Separators {
                    value: value.into(),
                    comma
                },
                "{value}"
            );
        }
        let errors = schema
            .parse_form(with("22", "1,000"), Lang::En)
            .unwrap_err();
        assert!(
            errors.to_string().starts_with(
                "Fare: \"1,000\" is not a number: write decimals with a point (7.25) and no thousands separators (1000); expected"
            ),
            "{errors}"
        );
        let errors = schema
            .parse_form(with("22", "1.000,5"), Lang::Es)
            .unwrap_err();
        assert!(
            errors.0[0].describe(Lang::Es).starts_with(
                "\"1.000,5\" no es un número: escriba los decimales con coma o punto (7,25 o 7.25) y sin separador de miles (1000)"
            ),
            "{errors}"
        );
        assert!(matches!(
            schema.parse_strings(with("22", "1,5")).unwrap_err().0[0].problem,
            Problem::Separators { comma: false, .. }
        ));
        assert!(matches!(
            schema
                .parse_form(with("22", "a,b"), Lang::Es)
                .unwrap_err()
                .0[0]
                .problem,
            Problem::NotANumber(_)
        ));
        assert_eq!(comma_decimal("+3,25"), Some("+3.25".into()));
        assert_eq!(comma_decimal(","), None);
        assert_eq!(comma_decimal("1,2,3"), None);
        assert_eq!(comma_decimal("1.2,3"), None);
    }

    #[test]
    fn a_good_form_becomes_a_typed_row() {
        let row = titanic_like().parse_strings(good()).unwrap();
        assert_eq!(
            row.cells,
            vec![
                Cell::Category(2),
                Cell::Category(0),
                Cell::Number(22.0),
                Cell::Number(1.0),
                Cell::Number(7.25),
                Cell::Category(0),
                Cell::Number(0.0),
            ]
        );
    }

    #[test]
    fn the_issue_example_message() {
        let mut pairs = good();
        pairs[2].1 = "abc";
        let err = titanic_like().parse_strings(pairs).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"Age: "abc" is not a number; expected a number from 0 to 100"#
        );
        assert_eq!(
            err.0[0].describe(Lang::Es),
            r#""abc" no es un número; se espera un número de 0 a 100"#
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let pairs = vec![
            ("Pclass", "4"),
            ("Sex", ""),
            ("Age", "-1"),
            ("SibSp", "1.5"),
            ("Fare", "inf"),
            ("Embarked", "S"),
            ("Alone", "maybe"),
            ("Agee", "3"),
        ];
        let err = titanic_like().parse_strings(pairs).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["Pclass", "Sex", "Age", "SibSp", "Fare", "Alone", "Agee"]
        );
        let text = err.to_string();
        assert!(text.contains(r#"Pclass: "4" is not allowed; expected one of: 1, 2, 3"#));
        assert!(text.contains("Sex: is required; expected one of: male, female"));
        assert!(text.contains("Age: -1 is out of range; expected a number from 0 to 100"));
        assert!(text.contains(r#"SibSp: "1.5" is not a whole number"#));
        assert!(text.contains(r#"Fare: "inf" is not a number"#));
        assert!(text.contains(r#"Alone: "maybe" is not true or false"#));
        assert!(text.contains(r#"Agee: is not a field of this model; did you mean "Age"?"#));
    }

    #[test]
    fn booleans_in_english_and_spanish() {
        for yes in [
            "true",
            "TRUE",
            "1",
            "yes",
            "Y",
            "on",
            "sí",
            "SÍ",
            "Sí",
            "si",
            "VERDADERO",
        ] {
            assert_eq!(parse_bool(yes), Some(Cell::Number(1.0)), "{yes}");
        }
        for no in [
            "false", "False", "0", "no", "N", "off", "NO", "FALSO", "falso",
        ] {
            assert_eq!(parse_bool(no), Some(Cell::Number(0.0)), "{no}");
        }
        for (number, is) in [("1.0", 1.0), ("0.00", 0.0), ("-0", 0.0), ("1e0", 1.0)] {
            assert_eq!(parse_bool(number), Some(Cell::Number(is)), "{number}");
        }
        for neither in ["", "2", "vrai", "sì", "yes!", "t", "0.5", "NaN", "-1"] {
            assert_eq!(parse_bool(neither), None, "{neither}");
        }
    }

    #[test]
    fn optional_fields_may_be_missing_in_every_spelling() {
        let schema = titanic_like();
        for missing in ["", "  ", "NaN", "NA", "null"] {
            let mut pairs = good();
            pairs[2].1 = missing;
            let row = schema.parse_strings(pairs).unwrap();
            assert_eq!(row.cells[2], Cell::Missing, "{missing:?}");
        }
        // Absent altogether.
        let pairs: Vec<_> = good().into_iter().filter(|(k, _)| *k != "Age").collect();
        assert_eq!(schema.parse_strings(pairs).unwrap().cells[2], Cell::Missing);
    }

    #[test]
    fn json_values() {
        let schema = titanic_like();
        let obj = json!({"Pclass": 3, "Sex": "female", "Age": null, "SibSp": 2.0,
                         "Fare": "71.28", "Embarked": "C", "Alone": true});
        let row = schema.parse_json_object(obj.as_object().unwrap()).unwrap();
        assert_eq!(row.cells[0], Cell::Category(2));
        assert_eq!(row.cells[2], Cell::Missing);
        assert_eq!(row.cells[3], Cell::Number(2.0));
        assert_eq!(row.cells[4], Cell::Number(71.28));
        assert_eq!(row.cells[6], Cell::Number(1.0));

        let obj = json!({"Pclass": [3], "Sex": {"a": 1}, "SibSp": 1, "Fare": 1});
        let err = schema
            .parse_json_object(obj.as_object().unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("Pclass: got an array"), "{err}");
        assert!(err.to_string().contains("Sex: got an object"), "{err}");
    }

    #[test]
    fn a_category_of_whole_numbers_takes_them_written_as_decimals() {
        let schema = titanic_like();
        let pclass = &schema.fields[0];
        for text in ["3", "3.0", "3.00", " 3.0 ", "+3", "3e0"] {
            assert_eq!(parse_str(pclass, text), Ok(Cell::Category(2)), "{text}");
            let json = serde_json::from_str::<Value>(&format!("\"{}\"", text.trim())).unwrap();
            assert_eq!(parse_json(pclass, &json), Ok(Cell::Category(2)), "{text}");
        }
        assert_eq!(parse_json(pclass, &json!(3.0)), Ok(Cell::Category(2)));
        for text in ["3.5", "4.0", "NaN3", "inf", "three"] {
            assert_eq!(
                parse_str(pclass, text),
                Err(Problem::NotACategory(text.into())),
                "{text}"
            );
        }
        // Text is matched as written.
        let sex = &schema.fields[1];
        assert_eq!(
            parse_str(sex, "Male"),
            Err(Problem::NotACategory("Male".into()))
        );
    }

    #[test]
    fn duplicates_are_reported() {
        let mut pairs = good();
        pairs.push(("Age", "30"));
        let err = titanic_like().parse_strings(pairs).unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.0[0].problem, Problem::Duplicate);
    }

    #[test]
    fn long_inputs_are_not_echoed_whole() {
        let long = "x".repeat(10_000);
        let mut pairs = good();
        pairs[2].1 = &long;
        let err = titanic_like().parse_strings(pairs).unwrap_err();
        assert!(err.to_string().len() < 200);
    }

    #[test]
    fn column_maps() {
        let schema = titanic_like();
        let header = [
            "PassengerId",
            "Sex",
            "Pclass",
            "SibSp",
            "Fare",
            "Name",
            "Embarked",
        ];
        let map = ColumnMap::new(&schema, header).unwrap();
        assert_eq!(
            map.unused,
            vec![(0, "PassengerId".to_string()), (5, "Name".to_string())]
        );
        let record = ["1", "female", "1", "0", "80", "X", ""];
        let row = map
            .parse_strings(&schema, |i| record.get(i).copied())
            .unwrap();
        assert_eq!(row.cells[0], Cell::Category(0));
        assert_eq!(row.cells[2], Cell::Missing); // Age column absent, optional
        assert_eq!(row.cells[5], Cell::Missing);

        let err = ColumnMap::new(&schema, ["Age", "Fare"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the required columns \"Pclass\", \"Sex\", \"SibSp\" are missing; \
             the model needs: Pclass, Sex, Age, SibSp, Fare, Embarked, Alone"
        );
        let err = ColumnMap::new(&schema, ["Age", "Fare", "Age"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the header names \"Age\" twice (columns 1 and 3); give every column its own name"
        );
        // A header that looks meant otherwise says how.
        let err = ColumnMap::new(&schema, ["pclass", "Sex", "SibSp"]).unwrap_err();
        assert!(
            err.to_string().ends_with(
                "Alone; the header has \"pclass\": did you mean \"Pclass\"? (names are case-sensitive)"
            ),
            "{err}"
        );
        let err = ColumnMap::new(&schema, ["Pclass;Sex;SibSp"]).unwrap_err();
        assert!(
            err.to_string().ends_with(
                "Alone; the header looks separated by ';'; lifeboat reads files separated by \
                 commas, or by semicolons when the first line has no comma"
            ),
            "{err}"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_text(values in proptest::collection::vec(".*", 7)) {
            let schema = titanic_like();
            let names: Vec<&str> = schema.field_names().collect();
            let pairs = names.iter().zip(&values).map(|(n, v)| (*n, v.as_str()));
            let _ = schema.parse_strings(pairs);
        }

        #[test]
        fn numbers_in_range_round_trip(age in 0.0f64..=100.0) {
            let schema = titanic_like();
            let field = &schema.fields[2];
            proptest::prop_assert_eq!(parse_str(field, &age.to_string()), Ok(Cell::Number(age)));
        }
    }
}
