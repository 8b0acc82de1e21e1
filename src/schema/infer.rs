//! A first draft of a schema from a table of text cells (a CSV file), for a
//! person to edit: numbers versus categories, observed ranges, observed
//! categories, and which columns were left out and why.
//!
//! It reads rows one at a time and keeps only per-column summaries, so it
//! works on files larger than memory (category counting stops at a limit).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};

use super::document::short_number;
use super::validate::is_missing_token;
use super::{
    Category, CategorySpec, Class, Field, FieldKind, NumberSpec, Schema, Target, TargetKind, Text,
    is_machine_name,
};
use crate::quote::quoted;

/// A column with more distinct text values than this is free text, not a category.
const MAX_CATEGORIES: usize = 30;
/// A target with more distinct values than this is treated as a number (regression).
const MAX_CLASSES: usize = 20;
/// A column of numbers may have this many cells that are not (finite)
/// numbers, a typo or an overflow, and still be drafted as numbers...
const MAX_NOT_NUMBERS: u64 = 5;
/// ...if they are at most one in this many of its non-empty cells.
const NOT_NUMBERS_ONE_IN: u64 = 20;
/// Cells that are not numbers named in a note, at most.
const SHOW_NOT_NUMBERS: usize = 3;
/// Numbers larger than this (in size) are not taken as numbers: squaring
/// them to scale a column would overflow to infinity.
const MAX_MAGNITUDE: f64 = 1e150;
/// The target's distinct values are counted (as hashes) up to this many, so a
/// message can say how many there are.
const MAX_COUNTED: usize = 1 << 20;

/// Running summary of one column.
#[derive(Debug, Default, Clone)]
struct ColumnStats {
    rows: u64,
    missing: u64,
    numbers: Vec<f64>,
    not_numeric: u64,
    /// The first cells that are not numbers: their lines and text.
    not_numeric_cells: Vec<(u64, String)>,
    /// Cells that mean "no value" in a number column (NA, null, ...).
    missing_tokens: u64,
    /// The first cells without a value (empty, or NA, null, ...): their
    /// lines and text.
    missing_cells: Vec<(u64, String)>,
    /// Distinct values and their counts; `None` once there are too many to be categories.
    counts: Option<HashMap<String, u64>>,
    integral: bool,
    increasing: bool,
    last: Option<f64>,
    /// The first number with a fraction, as written.
    fraction: Option<String>,
    /// Hashes of the distinct values, kept for the target only, up to
    /// [`MAX_COUNTED`]; `None` for other columns and once there are more.
    hashes: Option<HashSet<u64>>,
}

/// Collects column summaries row by row, then drafts a schema.
#[derive(Debug)]
pub struct SchemaDraft {
    headers: Vec<String>,
    target: usize,
    stats: Vec<ColumnStats>,
}

/// Why a column did not become a field.
#[derive(Debug, Clone, PartialEq)]
pub struct LeftOut {
    pub column: String,
    pub why: String,
}

/// A drafted schema, with what a person should know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Drafted {
    pub schema: Schema,
    /// Columns that did not become fields, and why.
    pub left_out: Vec<LeftOut>,
    /// Notes on fields drafted despite a few bad cells.
    pub notes: Vec<String>,
}

/// Why a target column cannot be a column of classes.
#[derive(Debug, Clone, PartialEq)]
pub enum NotClasses {
    /// More distinct values than a classifier takes; `distinct` is `None`
    /// when there were too many to count.
    TooMany {
        distinct: Option<usize>,
        /// Rows with a value, and rows left empty.
        rows: u64,
        empty: u64,
    },
    /// Numbers with fractions: a quantity, not classes.
    Fractions { example: String },
}

impl fmt::Display for NotClasses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotClasses::TooMany {
                distinct,
                rows,
                empty,
            } => {
                match distinct {
                    Some(d) => write!(f, "has {d} different values")?,
                    None => write!(f, "has more than {MAX_COUNTED} different values")?,
                }
                write!(f, " in {rows} rows")?;
                if *empty > 0 {
                    write!(f, " ({empty} more are empty)")?;
                }
                write!(f, ": too many to be classes (at most {MAX_CLASSES})")
            }
            NotClasses::Fractions { example } => write!(
                f,
                "holds numbers with fractions (such as {example}): a quantity, not classes"
            ),
        }
    }
}

/// " such as A, B or C", or what a column of classes is when no column is one.
fn such_as(candidates: &[String]) -> String {
    match candidates {
        [] => format!(" (a column with 2 to {MAX_CLASSES} different values)"),
        [one] => format!(" such as {}", crate::quote::name(one)),
        [init @ .., last] => format!(
            " such as {} or {}",
            crate::quote::name_list(init.iter().map(String::as_str)),
            crate::quote::name_list([last.as_str()])
        ),
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InferError {
    #[error(
        "the target column {} is not in the header; the columns are: {}{}",
        quoted(.target),
        crate::quote::name_list(.columns.iter().map(String::as_str)),
        .hints.iter().map(|h| format!("; {h}")).collect::<String>()
    )]
    NoTarget {
        target: String,
        columns: Vec<String>,
        /// What the header may have meant ([`crate::csvfile::header_hints`]).
        hints: Vec<String>,
    },
    #[error(
        "the header names only the target column {}; the file needs other columns, the inputs to learn from",
        quoted(.0)
    )]
    OnlyTarget(String),
    #[error("the target column {} has no values", quoted(.0))]
    EmptyTarget(String),
    #[error(
        "the target column {} has only one value ({}); there is nothing to predict",
        quoted(.0),
        quoted(.1)
    )]
    OneClass(String, String),
    #[error(
        "no column besides the target can be an input: {}",
        .0.iter().map(|l| format!("{} ({})", l.column, l.why)).collect::<Vec<_>>().join("; ")
    )]
    NoInputs(Vec<LeftOut>),
    /// A classifier was asked for and the target is not a column of classes.
    #[error(
        "the target {} {why}; `lifeboat train` trains classifiers, so choose a column of classes{}",
        quoted(.target),
        such_as(.candidates)
    )]
    NotClasses {
        target: String,
        why: NotClasses,
        /// Columns that could be classes, at most three, in file order.
        candidates: Vec<String>,
    },
    /// A text target with too many values to be classes (a number could be
    /// predicted as a value; text cannot).
    #[error(
        "the target {} {why}, and it is text, so it cannot be a number to predict either; choose a column of classes{}",
        quoted(.target),
        such_as(.candidates)
    )]
    TextNotClasses {
        target: String,
        why: NotClasses,
        candidates: Vec<String>,
    },
}

/// What the draft is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// Any model: a numeric target that is not classes becomes a value (regression).
    Any,
    /// A classifier (`lifeboat train`): the target must be classes.
    Classifier,
}

impl ColumnStats {
    fn new() -> Self {
        ColumnStats {
            counts: Some(HashMap::new()),
            integral: true,
            increasing: true,
            ..Default::default()
        }
    }

    fn observe(&mut self, line: u64, raw: &str) {
        self.rows += 1;
        let s = raw.trim();
        if s.is_empty() {
            self.missing += 1;
            if self.missing_cells.len() < SHOW_NOT_NUMBERS {
                self.missing_cells.push((line, String::new()));
            }
            return;
        }
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() && v.abs() <= MAX_MAGNITUDE => {
                if v.fract() != 0.0 && self.fraction.is_none() {
                    self.fraction = Some(s.to_string());
                }
                self.integral &= v.fract() == 0.0;
                self.increasing &= self.last.is_none_or(|last| v > last);
                self.last = Some(v);
                self.numbers.push(v);
            }
            _ if is_missing_token(s) => {
                self.missing_tokens += 1;
                if self.missing_cells.len() < SHOW_NOT_NUMBERS {
                    self.missing_cells.push((line, s.to_string()));
                }
            }
            _ => {
                self.not_numeric += 1;
                if self.not_numeric_cells.len() < SHOW_NOT_NUMBERS {
                    let shown: String = s.chars().take(40).collect();
                    self.not_numeric_cells.push((line, shown));
                }
            }
        }
        if let Some(hashes) = &mut self.hashes {
            let mut hasher = std::hash::DefaultHasher::new();
            s.hash(&mut hasher);
            hashes.insert(hasher.finish());
            if hashes.len() > MAX_COUNTED {
                self.hashes = None;
            }
        }
        if let Some(counts) = &mut self.counts {
            if let Some(n) = counts.get_mut(s) {
                *n += 1;
            } else if counts.len() < MAX_CLASSES.max(MAX_CATEGORIES) * 4 {
                counts.insert(s.to_string(), 1);
            } else {
                self.counts = None;
            }
        }
    }

    fn present(&self) -> u64 {
        self.rows - self.missing
    }

    /// Numbers, all but a few cells: those are bad cells (see [`MAX_NOT_NUMBERS`]).
    fn is_numeric(&self) -> bool {
        let numbers = self.numbers.len() as u64;
        numbers > 0
            && self.not_numeric <= MAX_NOT_NUMBERS
            && self.not_numeric * NOT_NUMBERS_ONE_IN <= numbers + self.not_numeric
    }

    /// Cells without a value, as a number field reads them.
    fn missing_numbers(&self) -> u64 {
        self.missing + self.missing_tokens
    }

    /// What a note says about the cells of a number column that are not numbers.
    fn not_numeric_note(&self, column: &str) -> Option<String> {
        if self.not_numeric == 0 {
            return None;
        }
        let mut cells: Vec<String> = self
            .not_numeric_cells
            .iter()
            .map(|(line, cell)| format!("line {line}: {}", quoted(cell)))
            .collect();
        let shown = cells.len() as u64;
        if self.not_numeric > shown {
            cells.push(format!("and {} more", self.not_numeric - shown));
        }
        let (n, verb) = match self.not_numeric {
            1 => ("1 cell".to_string(), "is"),
            n => (format!("{n} cells"), "are"),
        };
        Some(format!(
            "column {} is drafted from its numbers, but {n} of {} {verb} not a number within ±1e150 ({}); training skips those rows, and predictions reject such values",
            quoted(column),
            self.numbers.len() as u64 + self.not_numeric,
            cells.join(", ")
        ))
    }

    fn distinct(&self) -> Option<usize> {
        self.counts.as_ref().map(HashMap::len)
    }

    /// Whether the distinct cell `value` can be a class: not a word for a
    /// missing value (NA, null, ...), and in a column of numbers, a number.
    /// The other cells are bad cells, as in a number field: a row with one
    /// is skipped by training, and a note names them
    /// ([`ColumnStats::target_notes`]).
    fn is_class_value(&self, value: &str) -> bool {
        if is_missing_token(value) {
            return false;
        }
        !self.is_numeric()
            || matches!(value.parse::<f64>(), Ok(v) if v.is_finite() && v.abs() <= MAX_MAGNITUDE)
    }

    /// Distinct values that can be classes ([`ColumnStats::is_class_value`]).
    fn distinct_classes(&self) -> Option<usize> {
        let counts = self.counts.as_ref()?;
        Some(counts.keys().filter(|v| self.is_class_value(v)).count())
    }

    /// Whether the column's values could be a classifier's classes.
    fn could_be_classes(&self) -> bool {
        self.distinct_classes()
            .is_some_and(|d| (2..=MAX_CLASSES).contains(&d))
            && (self.integral || !self.is_numeric())
    }

    /// What notes say about the cells of a target of classes that are no
    /// class: cells that are not numbers in a column of numbers, and cells
    /// without a value. Training skips their rows.
    fn target_notes(&self, column: &str) -> Vec<String> {
        let mut notes = Vec::new();
        let cells = |shown: &[(u64, String)], total: u64| {
            let mut cells: Vec<String> = shown
                .iter()
                .map(|(line, cell)| match cell.as_str() {
                    "" => format!("line {line}"),
                    cell => format!("line {line}: {}", quoted(cell)),
                })
                .collect();
            if total > shown.len() as u64 {
                cells.push(format!("and {} more", total - shown.len() as u64));
            }
            cells.join(", ")
        };
        let rows = |n: u64| match n {
            1 => "1 row".to_string(),
            n => format!("{n} rows"),
        };
        if self.is_numeric() && self.not_numeric > 0 {
            let (n, verb) = match self.not_numeric {
                1 => ("1 cell".to_string(), "is"),
                n => (format!("{n} cells"), "are"),
            };
            notes.push(format!(
                "target column {} takes its classes from its numbers; {n} of {} {verb} \
                 not a number ({}), so no class: training skips {}",
                quoted(column),
                self.numbers.len() as u64 + self.not_numeric,
                cells(&self.not_numeric_cells, self.not_numeric),
                if self.not_numeric == 1 {
                    "that row"
                } else {
                    "those rows"
                }
            ));
        }
        let missing = self.missing + self.missing_tokens;
        if missing > 0 {
            notes.push(format!(
                "target column {} has no value in {} of {} ({}): training skips {}",
                quoted(column),
                rows(missing),
                self.rows,
                cells(&self.missing_cells, missing),
                if missing == 1 { "it" } else { "them" }
            ));
        }
        notes
    }

    /// Why the column's values cannot be classes, or `None` when they can.
    fn not_classes(&self) -> Option<NotClasses> {
        match self.distinct_classes() {
            Some(n) if n <= MAX_CLASSES => match &self.fraction {
                Some(example) if self.is_numeric() => Some(NotClasses::Fractions {
                    example: example.clone(),
                }),
                _ => None,
            },
            counted => Some(NotClasses::TooMany {
                distinct: counted.or(self.hashes.as_ref().map(HashSet::len)),
                rows: self.present(),
                empty: self.missing,
            }),
        }
    }

    /// Distinct values, most frequent first (ties in numeric or text order).
    fn values_by_frequency(&self) -> Vec<String> {
        let mut values: Vec<(&String, &u64)> = self.counts.iter().flatten().collect();
        values.sort_by(|a, b| b.1.cmp(a.1).then_with(|| compare_values(a.0, b.0)));
        values.into_iter().map(|(v, _)| v.clone()).collect()
    }

    fn median(&self) -> f64 {
        let mut v = self.numbers.clone();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }
}

/// Orders values as numbers when both are numbers, else as text.
fn compare_values(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    }
}

impl SchemaDraft {
    pub fn new(headers: Vec<String>, target: &str) -> Result<SchemaDraft, InferError> {
        let Some(target) = headers.iter().position(|h| h.trim() == target) else {
            let wanted = [target.to_string()];
            return Err(InferError::NoTarget {
                hints: crate::csvfile::header_hints(headers.iter().map(String::as_str), &wanted),
                target: target.to_string(),
                columns: headers,
            });
        };
        if headers.len() == 1 {
            return Err(InferError::OnlyTarget(target_name(&headers[target])));
        }
        let mut stats = vec![ColumnStats::new(); headers.len()];
        stats[target].hashes = Some(HashSet::new());
        Ok(SchemaDraft {
            headers,
            target,
            stats,
        })
    }

    /// Adds the row on `line`. Cells beyond the header are ignored; absent
    /// cells count as missing (readers reject rows of the wrong width first:
    /// [`crate::csvfile::check_record`]).
    pub fn observe<'a>(&mut self, line: u64, record: impl IntoIterator<Item = &'a str>) {
        let mut record = record.into_iter();
        for stats in &mut self.stats {
            stats.observe(line, record.next().unwrap_or(""));
        }
    }

    /// Drafts the schema named `name`, and lists the columns left out. A
    /// numeric target with too many values (or fractions) to be classes
    /// becomes a value (regression); a text one is an error.
    pub fn finish(self, name: &str) -> Result<Drafted, InferError> {
        self.finish_for(name, Purpose::Any)
    }

    /// Drafts the schema of a classifier: like [`SchemaDraft::finish`], but a
    /// target that is not a column of classes is an error.
    pub fn finish_classifier(self, name: &str) -> Result<Drafted, InferError> {
        self.finish_for(name, Purpose::Classifier)
    }

    /// Columns other than the target whose values could be classes, at most three.
    fn class_candidates(&self) -> Vec<String> {
        self.headers
            .iter()
            .zip(&self.stats)
            .enumerate()
            .filter(|(i, (h, s))| *i != self.target && !h.trim().is_empty() && s.could_be_classes())
            .map(|(_, (h, _))| h.trim().to_string())
            .take(3)
            .collect()
    }

    fn finish_for(self, name: &str, purpose: Purpose) -> Result<Drafted, InferError> {
        let target_name = target_name(&self.headers[self.target]);
        let target_stats = &self.stats[self.target];
        if target_stats.present() == 0 {
            return Err(InferError::EmptyTarget(target_name));
        }
        if let Some(why) = target_stats.not_classes() {
            let candidates = self.class_candidates();
            if purpose == Purpose::Classifier {
                return Err(InferError::NotClasses {
                    target: target_name,
                    why,
                    candidates,
                });
            }
            if !target_stats.is_numeric() {
                return Err(InferError::TextNotClasses {
                    target: target_name,
                    why,
                    candidates,
                });
            }
        }
        let mut notes = Vec::new();
        let target_kind = match target_stats.distinct_classes() {
            Some(n)
                if n <= MAX_CLASSES && (target_stats.integral || !target_stats.is_numeric()) =>
            {
                let mut values = target_stats.values_by_frequency();
                values.retain(|v| target_stats.is_class_value(v));
                values.sort_by(|a, b| compare_values(a, b));
                match values.len() {
                    0 => return Err(InferError::EmptyTarget(target_name)),
                    1 => return Err(InferError::OneClass(target_name, values.remove(0))),
                    _ => {}
                }
                notes.extend(target_stats.target_notes(&target_name));
                TargetKind::Classes(
                    values
                        .into_iter()
                        .map(|v| Class {
                            label: Text::new(format!("{target_name} = {v}")),
                            value: v,
                        })
                        .collect(),
                )
            }
            _ => TargetKind::Value { unit: None },
        };

        let mut fields = Vec::new();
        let mut left_out = Vec::new();
        for (i, (header, stats)) in self.headers.iter().zip(&self.stats).enumerate() {
            if i == self.target {
                continue;
            }
            let column = header.trim().to_string();
            match field_for(&column, stats) {
                Ok(field) => {
                    if stats.is_numeric() {
                        notes.extend(stats.not_numeric_note(&column));
                    }
                    fields.push(field);
                }
                Err(why) => left_out.push(LeftOut { column, why }),
            }
        }
        if fields.is_empty() {
            return Err(InferError::NoInputs(left_out));
        }
        let name = if is_machine_name(name) {
            name.to_string()
        } else {
            "model".to_string()
        };
        let schema = Schema {
            title: Text::new(name.clone()),
            description: Text::default(),
            name,
            fields,
            target: Target {
                label: Text::new(target_name.clone()),
                name: target_name,
                kind: target_kind,
            },
        };
        Ok(Drafted {
            schema,
            left_out,
            notes,
        })
    }
}

fn target_name(header: &str) -> String {
    header.trim().to_string()
}

fn field_for(column: &str, stats: &ColumnStats) -> Result<Field, String> {
    if column.is_empty() {
        return Err("the column has no name".into());
    }
    if stats.present() == 0 {
        return Err("every value is empty".into());
    }
    let optional = stats.missing > 0;
    let mut field = Field {
        name: column.to_string(),
        label: Text::new(column),
        help: Text::default(),
        kind: FieldKind::Boolean,
        optional,
        default: None,
    };
    let looks_like_id = stats.is_numeric()
        && stats.integral
        && stats.missing_numbers() == 0
        && stats.distinct().is_none_or(|d| d as u64 == stats.rows)
        && (stats.increasing || column.to_lowercase().ends_with("id"));
    if looks_like_id && stats.rows > MAX_CATEGORIES as u64 {
        return Err("a different whole number in every row: it looks like an identifier".into());
    }
    if stats.is_numeric() {
        field.optional = stats.missing_numbers() > 0;
        let min = stats.numbers.iter().copied().fold(f64::INFINITY, f64::min);
        let max = stats
            .numbers
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let is_flag = stats.integral && min >= 0.0 && max <= 1.0;
        if is_flag {
            field.kind = FieldKind::Boolean;
            field.default = Some(
                if stats.median() >= 0.5 {
                    "true"
                } else {
                    "false"
                }
                .into(),
            );
            return Ok(field);
        }
        let spec = NumberSpec {
            min: Some(min.floor()),
            max: Some(max.ceil()),
            step: if stats.integral { Some(1.0) } else { None },
            unit: None,
        };
        let median = stats.median();
        field.default = Some(if stats.integral {
            short_number(median.round())
        } else {
            short_number((median * 100.0).round() / 100.0)
        });
        field.kind = if stats.integral {
            FieldKind::Integer(spec)
        } else {
            FieldKind::Number(spec)
        };
        field.help = Text::new(format!(
            "Seen in the data: {} to {}{}.",
            short_number(min),
            short_number(max),
            missing_note(stats.missing_numbers(), stats.rows)
        ));
        return Ok(field);
    }
    match stats.distinct() {
        Some(d) if d <= MAX_CATEGORIES && (d as u64) * 2 <= stats.present().max(4) => {
            let values = stats.values_by_frequency();
            field.default = values.first().cloned();
            field.help = Text::new(format!(
                "{d} values seen in the data{}.",
                missing_note(stats.missing, stats.rows)
            ));
            field.kind = FieldKind::Category(CategorySpec {
                values: values
                    .into_iter()
                    .map(|v| Category {
                        label: Text::new(v.clone()),
                        value: v,
                    })
                    .collect(),
                open: false,
            });
            Ok(field)
        }
        Some(d) => Err(format!(
            "text with {d} different values in {} rows: too many to be categories",
            stats.present()
        )),
        None => Err("text with too many different values to be categories".into()),
    }
}

fn missing_note(missing: u64, rows: u64) -> String {
    if missing > 0 {
        format!("; {missing} of {rows} rows empty")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drafted(csv: &str, target: &str) -> Result<Drafted, InferError> {
        let mut lines = csv.lines();
        let headers = lines.next().unwrap().split(',').map(String::from).collect();
        let mut d = SchemaDraft::new(headers, target)?;
        for (i, line) in lines.enumerate() {
            d.observe(i as u64 + 2, line.split(','));
        }
        d.finish("t")
    }

    fn draft(csv: &str, target: &str) -> Result<(Schema, Vec<LeftOut>), InferError> {
        drafted(csv, target).map(|d| (d.schema, d.left_out))
    }

    fn titanic_like_csv() -> String {
        let mut s = String::from("Id,Survived,Pclass,Sex,Age,Fare,Name,Alone\n");
        for i in 0..100 {
            let sex = if i % 3 == 0 { "female" } else { "male" };
            let age = if i % 7 == 0 {
                String::new()
            } else {
                format!("{}", 1 + i % 70)
            };
            s.push_str(&format!(
                "{},{},{},{},{},{}.5,Person {},{}\n",
                i + 1,
                i % 2,
                1 + i % 3,
                sex,
                age,
                i,
                i,
                i % 2
            ));
        }
        s
    }

    #[test]
    fn drafts_a_titanic_like_schema() {
        let (schema, left_out) = draft(&titanic_like_csv(), "Survived").unwrap();
        let names: Vec<_> = schema.field_names().collect();
        assert_eq!(names, ["Pclass", "Sex", "Age", "Fare", "Alone"]);
        assert_eq!(
            left_out
                .iter()
                .map(|l| l.column.as_str())
                .collect::<Vec<_>>(),
            ["Id", "Name"]
        );
        assert!(left_out[0].why.contains("identifier"));
        assert!(matches!(schema.fields[0].kind, FieldKind::Integer(_)));
        let FieldKind::Category(sex) = &schema.fields[1].kind else {
            panic!()
        };
        assert_eq!(sex.values[0].value, "male"); // most frequent first
        assert!(schema.fields[2].optional);
        assert!(!schema.fields[1].optional);
        let FieldKind::Number(fare) = &schema.fields[3].kind else {
            panic!()
        };
        assert_eq!((fare.min, fare.max), (Some(0.0), Some(100.0)));
        assert_eq!(schema.fields[4].kind, FieldKind::Boolean);
        assert_eq!(schema.classes().len(), 2);
        schema.check().unwrap();
        // The draft is a valid document a person can edit.
        assert_eq!(Schema::from_toml(&schema.to_toml()).unwrap(), schema);
    }

    #[test]
    fn target_problems_are_named() {
        let err = draft("a,b\n1,2\n", "c").unwrap_err();
        assert!(err.to_string().contains("columns are: a, b"));
        let err = draft("a,y\n1,1\n2,1\n", "y").unwrap_err();
        assert_eq!(err, InferError::OneClass("y".into(), "1".into()));
        let err = draft("a,y\n1,\n2,\n", "y").unwrap_err();
        assert_eq!(err, InferError::EmptyTarget("y".into()));
    }

    #[test]
    fn a_header_of_only_the_target_is_named() {
        let err = draft("Survived\n0\n1\n", "Survived").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the header names only the target column \"Survived\"; \
             the file needs other columns, the inputs to learn from"
        );
        let err = draft("survived,Age\n0,1\n", "Survived").unwrap_err();
        assert!(
            err.to_string().ends_with(
                "the columns are: survived, Age; the header has \"survived\": \
                 did you mean \"Survived\"? (names are case-sensitive)"
            ),
            "{err}"
        );
    }

    /// A titanic-like file whose Age column has `bad` in place of numbers on
    /// the given rows (counted from 0).
    fn with_bad_ages(bad: &[(usize, &str)]) -> String {
        let mut csv = titanic_like_csv();
        let mut lines: Vec<String> = csv.lines().map(String::from).collect();
        for (row, cell) in bad {
            let mut cells: Vec<String> = lines[row + 1].split(',').map(String::from).collect();
            cells[4] = cell.to_string();
            lines[row + 1] = cells.join(",");
        }
        csv = lines.join("\n");
        csv
    }

    #[test]
    fn a_few_bad_cells_leave_a_number_column_a_number_with_a_note() {
        let d = drafted(
            &with_bad_ages(&[(5, "abc"), (8, "inf"), (9, "1e400"), (10, "-1e300")]),
            "Survived",
        )
        .unwrap();
        let age = &d.schema.fields[d.schema.field_index("Age").unwrap()];
        let FieldKind::Integer(spec) = &age.kind else {
            panic!("{:?}", age.kind)
        };
        assert_eq!((spec.min, spec.max), (Some(2.0), Some(70.0)));
        assert!(age.optional);
        assert_eq!(
            d.notes,
            [
                "column \"Age\" is drafted from its numbers, but 4 cells of 85 are not a number \
                 within ±1e150 (line 7: \"abc\", line 10: \"inf\", line 11: \"1e400\", and 1 more); \
                 training skips those rows, and predictions reject such values"
            ]
        );
        // More than a few are too many: it is text then.
        let many: Vec<(usize, &str)> = (20..26).map(|i| (i, "x")).collect();
        let d = drafted(&with_bad_ages(&many), "Survived").unwrap();
        assert!(d.schema.field_index("Age").is_none());
        assert!(d.notes.is_empty());
        // And so is one in twenty.
        let d = drafted("a,b,y\n1,x,0\n2,x,1\n3,z,0\nabc,z,1\n", "y").unwrap();
        assert!(d.schema.field_index("a").is_none());
        // Missing-value words make a number column optional, not bad.
        let d = drafted(&with_bad_ages(&[(5, "NA")]), "Survived").unwrap();
        assert!(d.notes.is_empty());
        assert!(d.schema.field_index("Age").is_some());
    }

    #[test]
    fn a_few_odd_target_cells_are_bad_rows_not_classes() {
        let mut csv = String::from("x,y\n");
        for i in 0..60 {
            let y = match i {
                4 => "abc".to_string(),
                9 => String::new(),
                12 => "NA".to_string(),
                30 => "1e999".to_string(),
                i => (i % 2).to_string(),
            };
            csv.push_str(&format!("{},{y}\n", i % 7));
        }
        let d = drafted(&csv, "y").unwrap();
        assert_eq!(
            d.schema
                .classes()
                .iter()
                .map(|c| c.value.as_str())
                .collect::<Vec<_>>(),
            ["0", "1"]
        );
        assert_eq!(
            d.notes,
            [
                "target column \"y\" takes its classes from its numbers; 2 cells of 58 are \
                 not a number (line 6: \"abc\", line 32: \"1e999\"), so no class: training \
                 skips those rows",
                "target column \"y\" has no value in 2 rows of 60 (line 11, line 14: \"NA\"): \
                 training skips them"
            ]
        );
        // More than a few are too many: the column is text, and each value a class.
        let csv = "x,y\n1,0\n2,1\n3,0\n4,abc\n";
        let d = drafted(csv, "y").unwrap();
        assert_eq!(d.schema.classes().len(), 3);
        // A text target: words for no value are no class either.
        let csv = "x,y\n1,yes\n2,no\n3,yes\n4,null\n5,\n";
        let d = drafted(csv, "y").unwrap();
        let classes: Vec<_> = d.schema.classes().iter().map(|c| c.value.clone()).collect();
        assert_eq!(classes, ["no", "yes"]);
        assert_eq!(
            d.notes,
            [
                "target column \"y\" has no value in 2 rows of 5 (line 5: \"null\", line 6): \
              training skips them"
            ]
        );
        // No value anywhere: an error, not a panic.
        let err = drafted("x,y\n1,NA\n2,\n3,null\n", "y").unwrap_err();
        assert_eq!(err, InferError::EmptyTarget("y".into()));
        let err = drafted("x,y\n1,NA\n2,1\n3,1\n", "y").unwrap_err();
        assert_eq!(err, InferError::OneClass("y".into(), "1".into()));
    }

    #[test]
    fn many_distinct_numbers_make_a_regression_target() {
        let mut csv = String::from("x,y\n");
        for i in 0..50 {
            csv.push_str(&format!("{},{}.25\n", (i * 7) % 50, i * 3));
        }
        let (schema, _) = draft(&csv, "y").unwrap();
        assert!(!schema.is_classifier());
    }

    #[test]
    fn a_text_target_with_a_value_per_row_is_not_classes() {
        let csv = titanic_like_csv();
        // "Name" is "Person i": 100 different values in 100 rows.
        let err = draft(&csv, "Name").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the target \"Name\" has 100 different values in 100 rows: too many to be \
             classes (at most 20), and it is text, so it cannot be a number to predict \
             either; choose a column of classes such as Survived, Pclass or Sex"
        );
        let err = draft_classifier(&csv, "Name").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the target \"Name\" has 100 different values in 100 rows: too many to be \
             classes (at most 20); `lifeboat train` trains classifiers, so choose a column \
             of classes such as Survived, Pclass or Sex"
        );
    }

    #[test]
    fn the_target_count_goes_past_the_category_limit() {
        // Counting categories stops at 120 values; the target's count does not.
        let mut csv = String::from("x,y\n");
        for i in 0..500 {
            csv.push_str(&format!("{},v{}\n", i % 2, i % 400));
        }
        csv.push_str("0,\n1, \n");
        let err = draft(&csv, "y").unwrap_err();
        assert!(
            err.to_string()
                .contains("has 400 different values in 500 rows (2 more are empty): too many"),
            "{err}"
        );
        // No column could be classes but x (two values).
        assert!(err.to_string().ends_with("such as x"), "{err}");
    }

    fn draft_classifier(csv: &str, target: &str) -> Result<(Schema, Vec<LeftOut>), InferError> {
        let mut lines = csv.lines();
        let headers = lines.next().unwrap().split(',').map(String::from).collect();
        let mut d = SchemaDraft::new(headers, target)?;
        for (i, line) in lines.enumerate() {
            d.observe(i as u64 + 2, line.split(','));
        }
        d.finish_classifier("t").map(|d| (d.schema, d.left_out))
    }

    #[test]
    fn a_classifier_needs_a_target_of_classes() {
        let mut csv = String::from("x,y,z\n");
        for i in 0..50 {
            csv.push_str(&format!("{},{}.25,{}\n", (i * 7) % 50, i * 3, i % 4));
        }
        // A number with many values: a value for `schema`, an error for `train`.
        assert!(!draft(&csv, "y").unwrap().0.is_classifier());
        let err = draft_classifier(&csv, "y").unwrap_err();
        assert_eq!(
            err,
            InferError::NotClasses {
                target: "y".into(),
                why: NotClasses::TooMany {
                    distinct: Some(50),
                    rows: 50,
                    empty: 0,
                },
                candidates: vec!["z".into()],
            }
        );
        // Few numbers, but with fractions.
        let csv = "x,y\n1.5,0.5\n2.5,1\n3.5,0.5\n4.5,2.5\n";
        let err = draft_classifier(csv, "y").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the target \"y\" holds numbers with fractions (such as 0.5)"),
            "{err}"
        );
        assert!(
            err.to_string()
                .ends_with("(a column with 2 to 20 different values)"),
            "{err}"
        );
        // Classes are classes for both.
        let csv = "x,y\n1,a\n2,b\n3,a\n";
        assert!(draft_classifier(csv, "y").unwrap().0.is_classifier());
    }
}
