//! Training rows: a table of text cells (a CSV file) validated through the
//! schema, with the target column turned into class indices. Rows that fail
//! are skipped and remembered with their line numbers, so the user can see
//! exactly what was left out.

use crate::quote::quoted;
use crate::schema::validate::{ColumnError, ColumnMap};
use crate::schema::{Row, Schema, TargetKind};

/// At most this many skipped rows are kept with their reasons (all are counted).
const KEEP_SKIPPED: usize = 20;

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub rows: Vec<Row>,
    /// The class index of each row, into `schema.classes()`.
    pub y: Vec<u32>,
    pub n_classes: usize,
    /// How many rows were skipped, and the first few with their reasons.
    pub skipped: u64,
    pub skipped_examples: Vec<SkippedRow>,
    /// Columns of the file the schema does not use.
    pub unused_columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SkippedRow {
    /// The line in the file (the header is line 1).
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    #[error(
        "the target column {} is not in the file; its columns are: {}{}",
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
        "the schema's target {} is of kind \"value\" (a number to predict); `lifeboat train` trains classifiers: list the target's classes under [target] in the schema",
        quoted(.0)
    )]
    NotClassification(String),
    #[error(transparent)]
    Columns(#[from] ColumnError),
}

impl Dataset {
    /// How many rows each class has, by class index.
    pub fn class_counts(&self) -> Vec<u64> {
        let mut counts = vec![0; self.n_classes];
        for &c in &self.y {
            if let Some(n) = counts.get_mut(c as usize) {
                *n += 1;
            }
        }
        counts
    }

    /// The classes (indices into `schema.classes()`) that no row has: a
    /// model trained here gives them a probability near 0 for every input.
    pub fn classes_without_rows(&self) -> Vec<usize> {
        self.class_counts()
            .iter()
            .enumerate()
            .filter(|(_, n)| **n == 0)
            .map(|(i, _)| i)
            .collect()
    }
}

/// Builds a [`Dataset`] one record at a time.
pub struct DatasetBuilder<'s> {
    schema: &'s Schema,
    columns: ColumnMap,
    target: usize,
    data: Dataset,
}

impl<'s> DatasetBuilder<'s> {
    pub fn new(schema: &'s Schema, header: &[&str]) -> Result<Self, DataError> {
        let TargetKind::Classes(classes) = &schema.target.kind else {
            return Err(DataError::NotClassification(schema.target.name.clone()));
        };
        let target = header
            .iter()
            .position(|h| h.trim() == schema.target.name)
            .ok_or_else(|| DataError::NoTarget {
                target: schema.target.name.clone(),
                columns: header.iter().map(|h| h.to_string()).collect(),
                hints: crate::csvfile::header_hints(
                    header.iter().copied(),
                    std::slice::from_ref(&schema.target.name),
                ),
            })?;
        let columns = ColumnMap::new(schema, header.iter().copied())?;
        let unused_columns = columns
            .unused
            .iter()
            .filter(|(i, _)| *i != target)
            .map(|(_, name)| name.clone())
            .collect();
        Ok(DatasetBuilder {
            schema,
            columns,
            target,
            data: Dataset {
                rows: Vec::new(),
                y: Vec::new(),
                n_classes: classes.len(),
                skipped: 0,
                skipped_examples: Vec::new(),
                unused_columns,
            },
        })
    }

    /// Adds the record on `line`; `get(i)` returns its column i.
    pub fn push<'r>(&mut self, line: u64, get: impl Fn(usize) -> Option<&'r str>) {
        let raw_target = get(self.target).unwrap_or("").trim();
        let class = self.class_of(raw_target);
        let row = self.columns.parse_strings(self.schema, &get);
        match (row, class) {
            (Ok(row), Ok(class)) => {
                self.data.rows.push(row);
                self.data.y.push(class);
            }
            (row, class) => {
                let mut reasons = Vec::new();
                if let Err(e) = class {
                    reasons.push(e);
                }
                if let Err(e) = row {
                    reasons.push(e.to_string());
                }
                self.skip(line, reasons.join("; "));
            }
        }
    }

    fn class_of(&self, raw: &str) -> Result<u32, String> {
        let classes = self.schema.classes();
        let name = crate::quote::name(&self.schema.target.name);
        if raw.is_empty() {
            return Err(format!("{name}: the target is empty"));
        }
        // "1.0" in a file names the class "1": compare as numbers when both are.
        let as_number = raw.parse::<f64>().ok();
        classes
            .iter()
            .position(|c| {
                c.value == raw
                    || matches!((as_number, c.value.parse::<f64>()), (Some(a), Ok(b)) if a == b)
            })
            .map(|i| i as u32)
            .ok_or_else(|| {
                if crate::schema::validate::is_missing_token(raw) {
                    return format!("{name}: the target is missing ({})", quoted(raw));
                }
                let values: Vec<&str> = classes.iter().map(|c| c.value.as_str()).collect();
                format!(
                    "{name}: {} is not one of the classes {}",
                    quoted(raw),
                    crate::quote::name_list(values.iter().copied())
                )
            })
    }

    /// Skips the record on `line`, which cannot be read as a row, and says why.
    pub fn skip(&mut self, line: u64, reason: String) {
        self.data.skipped += 1;
        if self.data.skipped_examples.len() < KEEP_SKIPPED {
            self.data.skipped_examples.push(SkippedRow { line, reason });
        }
    }

    pub fn finish(self) -> Dataset {
        self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::titanic_like;

    #[test]
    fn builds_rows_and_skips_bad_ones() {
        let schema = titanic_like();
        let header = [
            "Id", "Survived", "Pclass", "Sex", "Age", "SibSp", "Fare", "Embarked",
        ];
        let mut b = DatasetBuilder::new(&schema, &header).unwrap();
        let records = [
            ["1", "0", "3", "male", "22", "1", "7.25", "S"],
            ["2", "1.0", "1", "female", "", "1", "71.3", "C"],
            ["3", "", "3", "female", "26", "0", "7.9", "S"],
            ["4", "1", "5", "female", "35", "1", "53.1", "S"],
            ["5", "7", "3", "male", "35", "0", "8.05", "S"],
            ["6", "NA", "3", "male", "35", "0", "8.05", "S"],
        ];
        for (i, r) in records.iter().enumerate() {
            b.push(i as u64 + 2, |c| r.get(c).copied());
        }
        let d = b.finish();
        assert_eq!(d.y, vec![0, 1]);
        assert_eq!(d.class_counts(), vec![1, 1]);
        assert!(d.classes_without_rows().is_empty());
        assert_eq!(d.skipped, 4);
        assert_eq!(d.unused_columns, vec!["Id".to_string()]);
        let reasons: Vec<_> = d
            .skipped_examples
            .iter()
            .map(|s| (s.line, s.reason.as_str()))
            .collect();
        assert_eq!(reasons[0], (4, "Survived: the target is empty"));
        assert!(
            reasons[1].1.contains(r#"Pclass: "5" is not allowed"#),
            "{reasons:?}"
        );
        assert!(
            reasons[2]
                .1
                .contains(r#""7" is not one of the classes 0, 1"#)
        );
        assert_eq!(reasons[3], (7, r#"Survived: the target is missing ("NA")"#));
    }

    #[test]
    fn missing_target_column() {
        let schema = titanic_like();
        let err = DatasetBuilder::new(&schema, &["Pclass", "Sex"])
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("target column \"Survived\" is not in the file")
        );
    }

    #[test]
    fn classes_without_rows_are_found() {
        let mut schema = titanic_like();
        let TargetKind::Classes(classes) = &mut schema.target.kind else {
            unreachable!()
        };
        let mut seven = classes[1].clone();
        seven.value = "7".into();
        classes.insert(1, seven);
        let header = [
            "Survived", "Pclass", "Sex", "Age", "SibSp", "Fare", "Embarked",
        ];
        let mut b = DatasetBuilder::new(&schema, &header).unwrap();
        for (i, y) in ["0", "1", "1", "0"].iter().enumerate() {
            let r = [*y, "3", "male", "22", "1", "7.25", "S"];
            b.push(i as u64 + 2, |c| r.get(c).copied());
        }
        let d = b.finish();
        assert_eq!(d.y, vec![0, 2, 2, 0]);
        assert_eq!(d.class_counts(), vec![2, 0, 2]);
        assert_eq!(d.classes_without_rows(), vec![1]);
    }
}
