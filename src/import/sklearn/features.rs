//! The feature matrix as it flows through scikit-learn transformers, kept
//! symbolically: each column is an input field and a chain of element-wise
//! operations. Transformers rewrite this chain; at the end it becomes the
//! model's schema fields and [`Preprocessor`] columns.
//!
//! Categories are kept as scikit-learn's values (text or numbers) until the
//! end, when each category field gets its list of values and every step its
//! indices. Not for: reading scikit-learn objects (the class files do that).

use crate::model::{Column, Preprocessor, Step};
use crate::quote::quoted;

use super::SklearnError;

/// A category value as scikit-learn stored it in `categories_` or `statistics_`.
#[derive(Debug, Clone, PartialEq)]
pub enum CatValue {
    Text(String),
    Number(f64),
}

impl CatValue {
    /// The value as people type it: `S`, `3` (not `3.0`), `2.5`. This is also
    /// how a JSON number reaches a category field, so `3` and `"3"` match.
    pub fn text(&self) -> String {
        match self {
            CatValue::Text(s) => s.clone(),
            CatValue::Number(v) => number_text(*v),
        }
    }

    fn same(&self, other: &CatValue) -> bool {
        match (self, other) {
            (CatValue::Text(a), CatValue::Text(b)) => a == b,
            (CatValue::Number(a), CatValue::Number(b)) => a == b,
            _ => false,
        }
    }
}

pub fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// An element-wise operation, with categories still as values.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    ImputeNumber(f64),
    ImputeCategory(CatValue),
    Standardize {
        mean: f64,
        scale: f64,
    },
    MulAdd {
        mul: f64,
        add: f64,
    },
    /// Categories to numbers: a listed value gives its number; others give
    /// `unseen`; a missing value gives `missing` (NaN passes "missing" on).
    Encode {
        table: Vec<(CatValue, f64)>,
        unseen: f64,
        missing: f64,
    },
}

/// One column of the feature matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Col {
    pub field: usize,
    pub name: String,
    pub ops: Vec<Op>,
}

/// What an encoder gives for one kind of input, or that it raises an error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Out {
    Value(f64),
    Raises,
}

/// One input field, and what the transformers learned about it.
#[derive(Debug, Clone)]
pub struct FieldInfo {
    pub name: String,
    /// Category values met in encoders, in order of first appearance.
    pub categories: Vec<CatValue>,
    /// Some encoder reads it as categories.
    pub categorical: bool,
    /// Some encoder raises on a value it did not see in training.
    pub closed: bool,
    /// Some encoder raises on a missing value that nothing imputed.
    pub missing_raises: bool,
}

#[derive(Debug, Clone)]
pub struct Fields {
    pub fields: Vec<FieldInfo>,
}

/// An encoder's answer for every input, for one output column.
pub struct Encoding {
    pub table: Vec<(CatValue, Out)>,
    pub unseen: Out,
    pub missing: Out,
}

impl Fields {
    pub fn new(names: Vec<String>) -> Fields {
        Fields {
            fields: names
                .into_iter()
                .map(|name| FieldInfo {
                    name,
                    categories: Vec::new(),
                    categorical: false,
                    closed: false,
                    missing_raises: false,
                })
                .collect(),
        }
    }

    /// One column per field, untouched: the input of the first transformer.
    pub fn initial_columns(&self) -> Vec<Col> {
        self.fields
            .iter()
            .enumerate()
            .map(|(i, f)| Col {
                field: i,
                name: f.name.clone(),
                ops: Vec::new(),
            })
            .collect()
    }

    fn note_category(&mut self, field: usize, value: &CatValue) {
        if let Some(f) = self.fields.get_mut(field)
            && !f.categories.iter().any(|c| c.same(value))
        {
            f.categories.push(value.clone());
        }
    }

    /// Applies an encoder output (`encoding`) to `col`, giving the encoded
    /// column named `name`. `class` names the encoder for errors.
    pub fn encode(
        &mut self,
        col: &Col,
        encoding: Encoding,
        name: String,
        class: &str,
    ) -> Result<Col, SklearnError> {
        let mut ops = col.ops.clone();
        let imputed = ops
            .iter()
            .any(|op| matches!(op, Op::ImputeNumber(_) | Op::ImputeCategory(_)));
        match ops.last() {
            Some(Op::Encode {
                table,
                unseen,
                missing,
            }) => {
                // Numbers from an earlier encoder: compose, so the column still
                // maps each category straight to its final number.
                let apply = |v: f64| -> Out {
                    if v.is_nan() {
                        encoding.missing
                    } else {
                        encoding
                            .table
                            .iter()
                            .find(|(c, _)| matches!(c, CatValue::Number(n) if *n == v))
                            .map_or(encoding.unseen, |(_, out)| *out)
                    }
                };
                let mut closed = false;
                let mut raises_on_missing = false;
                let mut new_table = Vec::new();
                for (c, code) in table {
                    match apply(*code) {
                        Out::Value(v) => new_table.push((c.clone(), v)),
                        // A known category the second encoder refuses.
                        Out::Raises => closed = true,
                    }
                }
                let unseen = match apply(*unseen) {
                    Out::Value(v) => v,
                    Out::Raises => {
                        closed = true;
                        f64::NAN
                    }
                };
                let missing = match apply(*missing) {
                    Out::Value(v) => v,
                    Out::Raises => {
                        raises_on_missing = true;
                        f64::NAN
                    }
                };
                let field = &mut self.fields[col.field];
                field.closed |= closed;
                field.missing_raises |= raises_on_missing && !imputed;
                ops.pop();
                ops.push(Op::Encode {
                    table: new_table,
                    unseen,
                    missing,
                });
            }
            Some(Op::Standardize { .. } | Op::MulAdd { .. }) => {
                return Err(SklearnError::Unsupported {
                    class: class.to_string(),
                    why: format!(
                        "it encodes column {} after the column was scaled; lifeboat encodes categories of input values only",
                        quoted(&col.name)
                    ),
                });
            }
            _ => {
                // Values straight from the field (perhaps imputed): the field
                // holds categories from now on.
                for op in &mut ops {
                    if let Op::ImputeNumber(v) = op {
                        *op = Op::ImputeCategory(CatValue::Number(*v));
                    }
                }
                let field = col.field;
                self.fields[field].categorical = true;
                let mut table = Vec::new();
                let mut closed = false;
                for (c, out) in &encoding.table {
                    self.note_category(field, c);
                    match out {
                        Out::Value(v) => table.push((c.clone(), *v)),
                        Out::Raises => closed = true,
                    }
                }
                let unseen = match encoding.unseen {
                    Out::Value(v) => v,
                    Out::Raises => {
                        closed = true;
                        f64::NAN
                    }
                };
                let missing = match encoding.missing {
                    Out::Value(v) => v,
                    Out::Raises => {
                        self.fields[field].missing_raises |= !imputed;
                        f64::NAN
                    }
                };
                self.fields[field].closed |= closed;
                ops.push(Op::Encode {
                    table,
                    unseen,
                    missing,
                });
            }
        }
        Ok(Col {
            field: col.field,
            name,
            ops,
        })
    }

    /// Turns the final columns into schema-ready fields and preprocessing.
    /// `nan_ok` says whether the estimator takes NaN (for optional fields).
    pub fn finish(
        mut self,
        cols: &[Col],
        nan_ok: bool,
    ) -> Result<(Vec<FieldInfo>, Vec<bool>, Preprocessor), SklearnError> {
        for col in cols {
            for op in &col.ops {
                if let Op::ImputeCategory(c) = op {
                    self.note_category(col.field, c);
                }
            }
        }
        let mut optional = vec![true; self.fields.len()];
        let mut columns = Vec::with_capacity(cols.len());
        for col in cols {
            let field = &self.fields[col.field];
            let encoded = col.ops.iter().any(|op| matches!(op, Op::Encode { .. }));
            if field.categorical && !encoded {
                return Err(SklearnError::Unsupported {
                    class: "the pipeline".into(),
                    why: format!(
                        "input {} is used both as categories and, in feature {}, as a number",
                        quoted(&field.name),
                        quoted(&col.name)
                    ),
                });
            }
            if !field.categorical
                && col
                    .ops
                    .iter()
                    .any(|op| matches!(op, Op::ImputeCategory(CatValue::Text(_))))
            {
                return Err(SklearnError::Unsupported {
                    class: "the pipeline".into(),
                    why: format!(
                        "input {} holds text but reaches the estimator without an encoder",
                        quoted(&field.name)
                    ),
                });
            }
            let mut steps = Vec::with_capacity(col.ops.len());
            let mut missing_is_number = false;
            for op in &col.ops {
                steps.push(match op {
                    Op::ImputeNumber(v) => {
                        missing_is_number = true;
                        Step::ImputeNumber(*v)
                    }
                    Op::ImputeCategory(c) => {
                        missing_is_number = true;
                        Step::ImputeCategory(self.index_of(col.field, c))
                    }
                    Op::Standardize { mean, scale } => Step::Standardize {
                        mean: *mean,
                        scale: *scale,
                    },
                    Op::MulAdd { mul, add } => Step::MulAdd {
                        mul: *mul,
                        add: *add,
                    },
                    Op::Encode {
                        table,
                        unseen,
                        missing,
                    } => {
                        if !missing.is_nan() {
                            missing_is_number = true;
                        }
                        self.encode_step(col.field, table, *unseen, *missing)
                    }
                });
            }
            if (!missing_is_number && !nan_ok) || field.missing_raises {
                optional[col.field] = false;
            }
            columns.push(Column {
                name: col.name.clone(),
                field: col.field as u32,
                steps,
            });
        }
        for (i, f) in self.fields.iter().enumerate() {
            if f.missing_raises {
                optional[i] = false;
            }
        }
        Ok((self.fields, optional, Preprocessor { columns }))
    }

    fn index_of(&self, field: usize, value: &CatValue) -> u32 {
        self.fields[field]
            .categories
            .iter()
            .position(|c| c.same(value))
            .unwrap_or(0) as u32
    }

    /// The step for an encoding: a one-hot indicator when it is one, else an
    /// ordinal table over the field's categories.
    fn encode_step(
        &self,
        field: usize,
        table: &[(CatValue, f64)],
        unseen: f64,
        missing: f64,
    ) -> Step {
        let values = &self.fields[field].categories;
        let codes: Vec<f64> = values
            .iter()
            .map(|v| {
                table
                    .iter()
                    .find(|(c, _)| c.same(v))
                    .map_or(unseen, |(_, x)| *x)
            })
            .collect();
        let ones: Vec<usize> = codes
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == 1.0)
            .map(|(i, _)| i)
            .collect();
        let rest_zero = codes.iter().all(|c| *c == 0.0 || *c == 1.0);
        if unseen == 0.0 && rest_zero {
            if let ([one], true) = (ones.as_slice(), missing == 0.0) {
                return Step::Indicator {
                    category: Some(*one as u32),
                    unseen: 0.0,
                };
            }
            if ones.is_empty() && missing == 1.0 {
                return Step::Indicator {
                    category: None,
                    unseen: 0.0,
                };
            }
        }
        Step::Ordinal {
            codes,
            unseen,
            missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> CatValue {
        CatValue::Text(s.into())
    }

    #[test]
    fn one_hot_columns_become_indicators_and_ordinals_compose() {
        let mut fields = Fields::new(vec!["Embarked".into()]);
        let col = fields.initial_columns().remove(0);
        let one_hot = |target: &str| Encoding {
            table: ["C", "Q", "S"]
                .iter()
                .map(|c| (text(c), Out::Value(if *c == target { 1.0 } else { 0.0 })))
                .collect(),
            unseen: Out::Value(0.0),
            missing: Out::Value(0.0),
        };
        let q = fields
            .encode(&col, one_hot("Q"), "Embarked_Q".into(), "OneHotEncoder")
            .unwrap();
        // An ordinal encoder, then a second one that remaps its codes (as
        // HistGradientBoosting's own encoder does).
        let ordinal = Encoding {
            table: vec![(text("C"), Out::Value(0.0)), (text("S"), Out::Value(1.0))],
            unseen: Out::Value(-1.0),
            missing: Out::Value(f64::NAN),
        };
        let first = fields
            .encode(&col, ordinal, "Embarked".into(), "OrdinalEncoder")
            .unwrap();
        let remap = Encoding {
            table: vec![
                (CatValue::Number(1.0), Out::Value(0.0)),
                (CatValue::Number(0.0), Out::Value(1.0)),
            ],
            unseen: Out::Value(f64::NAN),
            missing: Out::Value(f64::NAN),
        };
        let second = fields
            .encode(&first, remap, "Embarked".into(), "OrdinalEncoder")
            .unwrap();
        let (infos, optional, pre) = fields.finish(&[q, second], true).unwrap();
        assert_eq!(infos[0].categories, vec![text("C"), text("Q"), text("S")]);
        assert!(optional[0]);
        assert_eq!(
            pre.columns[0].steps,
            vec![Step::Indicator {
                category: Some(1),
                unseen: 0.0
            }]
        );
        let Step::Ordinal {
            codes,
            unseen,
            missing,
        } = &pre.columns[1].steps[0]
        else {
            panic!("{:?}", pre.columns[1].steps)
        };
        assert_eq!(codes[0], 1.0);
        assert!(codes[1].is_nan() && unseen.is_nan() && missing.is_nan());
        assert_eq!(codes[2], 0.0);
    }

    #[test]
    fn raising_encoders_close_the_field_and_require_it() {
        let mut fields = Fields::new(vec!["Sex".into()]);
        let col = fields.initial_columns().remove(0);
        let strict = Encoding {
            table: vec![
                (text("female"), Out::Value(1.0)),
                (text("male"), Out::Value(0.0)),
            ],
            unseen: Out::Raises,
            missing: Out::Raises,
        };
        let c = fields
            .encode(&col, strict, "Sex".into(), "OneHotEncoder")
            .unwrap();
        let (infos, optional, _) = fields.finish(&[c], true).unwrap();
        assert!(infos[0].closed);
        assert!(!optional[0]);
    }

    #[test]
    fn scaled_values_cannot_be_encoded() {
        let mut fields = Fields::new(vec!["Age".into()]);
        let mut col = fields.initial_columns().remove(0);
        col.ops.push(Op::Standardize {
            mean: 1.0,
            scale: 2.0,
        });
        let e = Encoding {
            table: vec![],
            unseen: Out::Value(0.0),
            missing: Out::Value(0.0),
        };
        assert!(
            fields
                .encode(&col, e, "Age".into(), "OneHotEncoder")
                .is_err()
        );
    }
}
