//! Fitted preprocessing: a typed [`Row`] to the numeric feature vector an
//! estimator takes. Nothing here learns; `train` and `import` build these.
//!
//! Each output column is a short chain of element-wise steps applied to one
//! input field. That covers imputation, scaling, one-hot and ordinal encoding
//! (and scikit-learn's `ColumnTransformer`, which only routes columns), and
//! keeps "which field does this feature come from" trivial, which is what the
//! explanations need to sum one-hot columns back to their field.

use serde::{Deserialize, Serialize};

use crate::quote::quoted;
use crate::schema::{Cell, FieldKind, Row, Schema};

/// The fitted preprocessing of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    pub columns: Vec<Column>,
}

/// One feature column: a field, then steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// A readable name, e.g. `Age` or `Sex=female`.
    pub name: String,
    /// The index of the schema field it reads.
    pub field: u32,
    pub steps: Vec<Step>,
}

/// An element-wise step. Values flow as numbers, categories, "missing" or "unseen".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Step {
    /// Missing becomes this number (a median or mean learned at fit time).
    ImputeNumber(f64),
    /// Missing becomes this category (the most frequent one at fit time).
    ImputeCategory(u32),
    /// `(x - mean) / scale`, as scikit-learn's StandardScaler computes it.
    Standardize { mean: f64, scale: f64 },
    /// `x * mul + add`, as scikit-learn's MinMaxScaler computes it.
    MulAdd { mul: f64, add: f64 },
    /// One column of a one-hot encoding: 1.0 when the value is `category`
    /// (`None` stands for "missing" as a category of its own), else 0.0.
    /// An unseen category gives `unseen` (0.0: scikit-learn's `handle_unknown="ignore"`).
    Indicator { category: Option<u32>, unseen: f64 },
    /// Ordinal encoding: category i becomes `codes[i]`; unseen and missing
    /// values become the given numbers (NaN passes "missing" on to estimators
    /// that route it themselves, such as histogram gradient boosting).
    Ordinal {
        codes: Vec<f64>,
        unseen: f64,
        missing: f64,
    },
}

/// What kind of value flows between steps; used to check a chain once at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Number,
    Category,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Missing,
    Number(f64),
    Category(u32),
    Unseen,
}

impl Step {
    #[inline]
    fn apply(&self, v: Value) -> Value {
        match (self, v) {
            (Step::ImputeNumber(x), Value::Missing) => Value::Number(*x),
            (Step::ImputeCategory(c), Value::Missing) => Value::Category(*c),
            (Step::Standardize { mean, scale }, Value::Number(x)) => {
                Value::Number((x - mean) / scale)
            }
            (Step::MulAdd { mul, add }, Value::Number(x)) => Value::Number(x * mul + add),
            (Step::Indicator { category, .. }, Value::Category(c)) => {
                Value::Number(if *category == Some(c) { 1.0 } else { 0.0 })
            }
            (Step::Indicator { category, .. }, Value::Missing) => {
                Value::Number(if category.is_none() { 1.0 } else { 0.0 })
            }
            (Step::Indicator { unseen, .. }, Value::Unseen) => Value::Number(*unseen),
            (Step::Ordinal { codes, unseen, .. }, Value::Category(c)) => {
                Value::Number(codes.get(c as usize).copied().unwrap_or(*unseen))
            }
            (Step::Ordinal { unseen, .. }, Value::Unseen) => Value::Number(*unseen),
            (Step::Ordinal { missing, .. }, Value::Missing) => Value::Number(*missing),
            // Steps that do not concern this value pass it on (imputers on present values,
            // scalers on missing ones).
            (_, v) => v,
        }
    }

    /// The flow this step accepts and the flow it produces.
    fn flow(&self) -> (Flow, Flow) {
        match self {
            Step::ImputeNumber(_) | Step::Standardize { .. } | Step::MulAdd { .. } => {
                (Flow::Number, Flow::Number)
            }
            Step::ImputeCategory(_) => (Flow::Category, Flow::Category),
            Step::Indicator { .. } | Step::Ordinal { .. } => (Flow::Category, Flow::Number),
        }
    }
}

impl Column {
    /// The feature value for one row; NaN means "missing" reached the estimator.
    #[inline]
    pub fn value(&self, row: &Row) -> f64 {
        let cell = row
            .cells
            .get(self.field as usize)
            .copied()
            .unwrap_or(Cell::Missing);
        let mut v = match cell {
            Cell::Missing => Value::Missing,
            Cell::Number(x) => Value::Number(x),
            Cell::Category(c) => Value::Category(c),
            Cell::Unseen => Value::Unseen,
        };
        for step in &self.steps {
            v = step.apply(v);
        }
        match v {
            Value::Number(x) => x,
            // `check` rules out categories reaching the end; NaN is the safe answer anyway.
            Value::Missing | Value::Category(_) | Value::Unseen => f64::NAN,
        }
    }

    /// Whether a missing input can reach the estimator as NaN.
    fn passes_missing(&self) -> bool {
        !self.steps.iter().any(|s| {
            matches!(
                s,
                Step::ImputeNumber(_) | Step::ImputeCategory(_) | Step::Indicator { .. }
            ) || matches!(s, Step::Ordinal { missing, .. } if !missing.is_nan())
        })
    }
}

/// A preprocessor that does not fit its schema.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("feature column {}: {why}", quoted(.column))]
pub struct PipelineError {
    pub column: String,
    pub why: String,
}

impl Preprocessor {
    pub fn n_features(&self) -> usize {
        self.columns.len()
    }

    /// Fills `out` (length `n_features`) with the features of `row`.
    #[inline]
    pub fn transform(&self, row: &Row, out: &mut [f64]) {
        for (slot, column) in out.iter_mut().zip(&self.columns) {
            *slot = column.value(row);
        }
    }

    /// The schema field each feature column comes from.
    pub fn field_of(&self, column: usize) -> usize {
        self.columns[column].field as usize
    }

    /// Checks that every chain reads an existing field and type-checks from the
    /// field's kind to a number. `allow_nan` says whether the estimator can take
    /// a missing value; if not, every optional field must be imputed.
    pub fn check(&self, schema: &Schema, allow_nan: bool) -> Result<(), PipelineError> {
        for column in &self.columns {
            let err = |why: String| PipelineError {
                column: column.name.clone(),
                why,
            };
            let Some(field) = schema.fields.get(column.field as usize) else {
                return Err(err(format!(
                    "reads field #{} but the schema has {} fields",
                    column.field,
                    schema.fields.len()
                )));
            };
            let mut flow = match field.kind {
                FieldKind::Category(_) => Flow::Category,
                _ => Flow::Number,
            };
            for step in &column.steps {
                let (accepts, produces) = step.flow();
                if accepts != flow {
                    return Err(err(format!(
                        "step {step:?} cannot apply to the {} values of field {}",
                        if flow == Flow::Number {
                            "numeric"
                        } else {
                            "category"
                        },
                        quoted(&field.name)
                    )));
                }
                if let (Step::ImputeCategory(c), FieldKind::Category(spec))
                | (
                    Step::Indicator {
                        category: Some(c), ..
                    },
                    FieldKind::Category(spec),
                ) = (step, &field.kind)
                    && *c as usize >= spec.values.len()
                {
                    return Err(err(format!(
                        "refers to category #{c} but field {} has {}",
                        quoted(&field.name),
                        spec.values.len()
                    )));
                }
                if let Step::Standardize { scale, .. } = step
                    && (*scale == 0.0 || !scale.is_finite())
                {
                    return Err(err(format!(
                        "scale must be finite and non-zero, not {scale}"
                    )));
                }
                flow = produces;
            }
            if flow != Flow::Number {
                return Err(err(format!(
                    "category field {} is never encoded as a number",
                    quoted(&field.name)
                )));
            }
            if field.optional && !allow_nan && column.passes_missing() {
                return Err(err(format!(
                    "field {} may be missing, but nothing imputes it and the estimator cannot take missing values",
                    quoted(&field.name)
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::titanic_like;

    fn row(cells: Vec<Cell>) -> Row {
        Row { cells }
    }

    #[test]
    fn steps_chain() {
        let age = Column {
            name: "Age".into(),
            field: 2,
            steps: vec![
                Step::ImputeNumber(28.0),
                Step::Standardize {
                    mean: 30.0,
                    scale: 2.0,
                },
            ],
        };
        let r = |age| {
            row(vec![
                Cell::Category(0),
                Cell::Category(0),
                age,
                Cell::Number(0.0),
                Cell::Number(1.0),
                Cell::Missing,
                Cell::Missing,
            ])
        };
        assert_eq!(age.value(&r(Cell::Number(34.0))), 2.0);
        assert_eq!(age.value(&r(Cell::Missing)), -1.0);

        let embarked_q = Column {
            name: "Embarked=Q".into(),
            field: 5,
            steps: vec![
                Step::ImputeCategory(0),
                Step::Indicator {
                    category: Some(2),
                    unseen: 0.0,
                },
            ],
        };
        let embarked_s = Column {
            steps: vec![
                Step::ImputeCategory(0),
                Step::Indicator {
                    category: Some(0),
                    unseen: 0.0,
                },
            ],
            ..embarked_q.clone()
        };
        let mut cells = r(Cell::Missing).cells;
        assert_eq!(embarked_q.value(&row(cells.clone())), 0.0);
        assert_eq!(embarked_s.value(&row(cells.clone())), 1.0);
        cells[5] = Cell::Unseen;
        assert_eq!(embarked_s.value(&row(cells.clone())), 0.0);

        let ordinal = Column {
            name: "Embarked".into(),
            field: 5,
            steps: vec![Step::Ordinal {
                codes: vec![0.0, 1.0, 2.0],
                unseen: f64::NAN,
                missing: f64::NAN,
            }],
        };
        cells[5] = Cell::Category(2);
        assert_eq!(ordinal.value(&row(cells.clone())), 2.0);
        cells[5] = Cell::Missing;
        assert!(ordinal.value(&row(cells)).is_nan());
    }

    #[test]
    fn check_finds_bad_chains() {
        let schema = titanic_like();
        let p = |field, steps| Preprocessor {
            columns: vec![Column {
                name: "c".into(),
                field,
                steps,
            }],
        };
        assert!(
            p(0, vec![Step::ImputeNumber(1.0)])
                .check(&schema, true)
                .is_err()
        );
        let e = p(1, vec![]).check(&schema, true).unwrap_err();
        assert!(e.why.contains("never encoded"), "{e}");
        let e = p(9, vec![]).check(&schema, true).unwrap_err();
        assert!(e.why.contains("schema has 7 fields"), "{e}");
        let e = p(2, vec![]).check(&schema, false).unwrap_err();
        assert!(e.why.contains("may be missing"), "{e}");
        p(2, vec![]).check(&schema, true).unwrap();
        p(2, vec![Step::ImputeNumber(3.0)])
            .check(&schema, false)
            .unwrap();
        let bad_cat = vec![Step::Indicator {
            category: Some(5),
            unseen: 0.0,
        }];
        assert!(p(1, bad_cat).check(&schema, true).is_err());
    }
}
