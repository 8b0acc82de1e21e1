//! Learners: from a table of validated rows to a [`crate::model::Model`].
//! Everything here is deterministic given the seed: the same data, schema,
//! learner and seed give a byte-identical model file.

pub mod cart;
pub mod cv;
pub mod dataset;
pub mod forest;
pub mod gbdt;
pub mod learner;
pub mod logistic;
pub mod matrix;
pub mod metrics;
pub mod prep;
pub mod rng;
pub mod split;

/// Why training could not run. Each variant says what to change.
use crate::model::report::{CrossValidation, LearnerResult, Origin};
use crate::model::{Model, Report};
use crate::quote::quoted;
use crate::schema::{Cell, Row, Schema};
pub use dataset::{Dataset, DatasetBuilder};
pub use learner::Learner;

/// What to train.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// The learners to cross-validate; the one with the lowest log loss is kept.
    pub learners: Vec<Learner>,
    pub folds: usize,
    pub seed: u64,
}

/// Facts about the training run that the library cannot know by itself.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub data_file: String,
    pub data_sha256: String,
    /// RFC 3339 time of training.
    pub created: String,
}

/// Training progress, for a progress bar.
#[derive(Debug, Clone)]
pub enum Progress {
    Fold {
        learner: Learner,
        fold: usize,
        folds: usize,
    },
    Final {
        learner: Learner,
    },
    /// `learner` cannot be fitted on this data for a reason of its own
    /// ([`TrainError::skips_learner`]), so it is left out of the comparison
    /// and the others go on; `folds_not_run` of its steps will not come.
    Skipped {
        learner: Learner,
        reason: TrainError,
        folds_not_run: usize,
    },
}

/// How many steps `train` reports, for sizing a progress bar.
pub fn progress_steps(options: &TrainOptions) -> u64 {
    (options.learners.len() * options.folds + 1) as u64
}

/// How many training rows are kept in the model as reference rows.
const REFERENCE_ROWS: usize = 8;

/// Cross-validates each learner, fits the best on all rows, and returns the
/// complete model with its report and reference rows.
///
/// Among several learners, one that cannot be fitted on this data for a
/// reason of its own (logistic regression on a column it cannot
/// standardize) is left out with [`Progress::Skipped`]; training fails only
/// when no learner is left. A learner asked for alone fails with its error.
pub fn train(
    schema: Schema,
    data: &Dataset,
    options: &TrainOptions,
    provenance: Provenance,
    progress: &mut dyn FnMut(Progress),
) -> Result<Model, TrainError> {
    if data.rows.is_empty() {
        return Err(TrainError::NoRows);
    }
    let mut seen = vec![false; data.n_classes];
    data.y.iter().for_each(|&c| seen[c as usize] = true);
    let present = seen.iter().filter(|s| **s).count();
    if present < 2 {
        return Err(TrainError::TooFewClasses(present));
    }
    if options.learners.is_empty() {
        return Err(TrainError::Param("no learner to train".into()));
    }
    let classes: Vec<&str> = schema.classes().iter().map(|c| c.value.as_str()).collect();
    cv::check_folds(data, &classes, options.folds, &options.learners)?;
    let mut results = Vec::new();
    // The learners cross-validated, in the order of `results`.
    let mut compared = Vec::new();
    let mut skipped = None;
    for &learner in &options.learners {
        let mut started = 0;
        // On all rows first: the final fit's preprocessing is this one, so
        // a learner that passes here and in every fold cannot fail there.
        let outcome = learner::check(learner, &schema, &data.rows).and_then(|()| {
            cv::cross_validate(
                learner,
                &schema,
                data,
                options.folds,
                options.seed,
                &mut |fold| {
                    started = fold + 1;
                    progress(Progress::Fold {
                        learner,
                        fold,
                        folds: options.folds,
                    })
                },
            )
        });
        match outcome {
            Ok(metrics) => {
                results.push(LearnerResult {
                    learner: learner.name().to_string(),
                    params: learner.params(),
                    metrics,
                });
                compared.push(learner);
            }
            Err(reason) if options.learners.len() > 1 && reason.skips_learner() => {
                progress(Progress::Skipped {
                    learner,
                    reason: reason.clone(),
                    folds_not_run: options.folds.saturating_sub(started),
                });
                skipped.get_or_insert(reason);
            }
            Err(e) => return Err(e),
        }
    }
    if results.is_empty() {
        // Every learner was skipped: the first one's reason.
        return Err(skipped.unwrap_or_else(|| TrainError::Param("no learner to train".into())));
    }
    let chosen = results.iter().enumerate().fold(0, |best, (i, r)| {
        if r.metrics.log_loss < results[best].metrics.log_loss {
            i
        } else {
            best
        }
    });
    let learner = compared[chosen];
    progress(Progress::Final { learner });
    let fitted = learner::fit(
        learner,
        &schema,
        &data.rows,
        &data.y,
        data.n_classes,
        options.seed,
    )?;
    let mut model = Model {
        schema,
        preprocessor: fitted.preprocessor,
        estimator: fitted.estimator,
        link: fitted.link,
        report: Report {
            lifeboat_version: env!("CARGO_PKG_VERSION").to_string(),
            created: provenance.created,
            learner: learner.description().to_string(),
            params: fitted.params,
            origin: Origin::Trained {
                data_file: provenance.data_file,
                data_sha256: provenance.data_sha256,
                rows: data.rows.len() as u64,
                skipped_rows: data.skipped,
                seed: options.seed,
            },
            cross_validation: Some(CrossValidation {
                folds: options.folds as u32,
                results,
                chosen: chosen as u32,
            }),
            field_importance: Vec::new(),
        },
        reference: Vec::new(),
    };
    model.report.field_importance = field_importance(&model, &data.rows);
    model.set_reference(reference_rows(&model.schema, &data.rows));
    model.check_shapes().map_err(|e| {
        TrainError::Param(format!(
            "internal error: the trained model is inconsistent: {e}"
        ))
    })?;
    Ok(model)
}

/// Mean absolute contribution of each field over `rows`.
fn field_importance(model: &Model, rows: &[Row]) -> Vec<f64> {
    let mut sums = vec![0.0; model.schema.fields.len()];
    for row in rows {
        let (_, explanation) = model.explain(row);
        for (s, c) in sums.iter_mut().zip(&explanation.contributions) {
            *s += c.abs();
        }
    }
    sums.iter().map(|s| s / rows.len().max(1) as f64).collect()
}

/// Rows spread evenly through the data, plus one with every optional field
/// missing, so the imputation path is checked at every load too.
fn reference_rows(schema: &Schema, rows: &[Row]) -> Vec<Row> {
    let step = (rows.len() / REFERENCE_ROWS).max(1);
    let mut picked: Vec<Row> = rows
        .iter()
        .step_by(step)
        .take(REFERENCE_ROWS)
        .cloned()
        .collect();
    if let Some(first) = rows.first() {
        let mut sparse = first.clone();
        for (cell, field) in sparse.cells.iter_mut().zip(&schema.fields) {
            if field.optional {
                *cell = Cell::Missing;
            }
        }
        picked.push(sparse);
    }
    picked
}

impl TrainError {
    /// Whether this error is one learner's own trouble with the data, which
    /// the other learners do not have: with several learners, that one is
    /// left out instead of failing the run.
    pub fn skips_learner(&self) -> bool {
        matches!(self, TrainError::CannotStandardize { .. })
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error("there are no rows to train on")]
    NoRows,
    #[error("the target has {0} class(es) in the training rows; a classifier needs at least two")]
    TooFewClasses(usize),
    #[error("{what} has {found} entries but there are {expected} rows")]
    Length {
        what: &'static str,
        found: usize,
        expected: usize,
    },
    #[error("class index {found} is out of range for {n_classes} classes")]
    ClassOutOfRange { found: u32, n_classes: usize },
    #[error("invalid setting: {0}")]
    Param(String),
    #[error("cannot cross-validate with --folds {folds}: {why}; {advice}")]
    Folds {
        folds: usize,
        /// How many rows there are, per class, and why they do not fit.
        why: String,
        /// Which numbers of folds would work, or what to change.
        advice: String,
    },
    #[error("the feature matrix has no columns; a learner needs at least one feature")]
    NoFeatures,
    #[error(
        "the feature matrix says {rows} rows × {cols} columns but holds {len} numbers; build it with `Matrix::zeros` or `Matrix::select`"
    )]
    MatrixShape {
        rows: usize,
        cols: usize,
        len: usize,
    },
    #[error(
        "feature {feature} of row {row} (both counted from 0) is {value}; trees accept finite numbers, or NaN for a missing value"
    )]
    InfiniteFeature {
        row: usize,
        feature: usize,
        value: f64,
    },
    #[error(
        "the column {} cannot be standardized for logistic regression: its value {value:e} \
         is too far from the column's mean ({mean:e}) for a 64-bit float to hold the difference; \
         correct or remove that value, or choose a tree learner (--learner tree, forest or gbdt)",
        quoted(.column)
    )]
    CannotStandardize {
        column: String,
        value: f64,
        mean: f64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::titanic_like;

    /// Rows of the titanic-like schema whose class follows Sex and Fare.
    pub(crate) fn dataset(n: usize) -> Dataset {
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let sex = (i % 2) as u32;
            let fare = (i * 37 % 101) as f64;
            rows.push(Row {
                cells: vec![
                    Cell::Category((i % 3) as u32),
                    Cell::Category(sex),
                    if i % 5 == 0 {
                        Cell::Missing
                    } else {
                        Cell::Number((i % 70) as f64)
                    },
                    Cell::Number((i % 4) as f64),
                    Cell::Number(fare),
                    Cell::Category((i % 3) as u32),
                    Cell::Number((i % 2) as f64),
                ],
            });
            y.push(u32::from(sex == 1 || fare > 80.0 || i % 7 == 0));
        }
        Dataset {
            rows,
            y,
            n_classes: 2,
            skipped: 0,
            skipped_examples: Vec::new(),
            unused_columns: Vec::new(),
        }
    }

    fn provenance() -> Provenance {
        Provenance {
            data_file: "t.csv".into(),
            data_sha256: String::new(),
            created: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn a_learner_that_cannot_standardize_is_left_out_of_several() {
        let mut data = dataset(60);
        // Fare: the largest float on both sides, too far apart to standardize.
        for r in &mut data.rows[..3] {
            r.cells[4] = Cell::Number(-f64::MAX);
        }
        data.rows[3].cells[4] = Cell::Number(f64::MAX);
        let options = TrainOptions {
            learners: Learner::ALL.to_vec(),
            folds: 3,
            seed: 7,
        };
        let mut events = Vec::new();
        let model = train(titanic_like(), &data, &options, provenance(), &mut |p| {
            events.push(p)
        })
        .unwrap();
        let skipped: Vec<_> = events
            .iter()
            .filter_map(|p| match p {
                Progress::Skipped {
                    learner,
                    reason,
                    folds_not_run,
                } => Some((*learner, reason.clone(), *folds_not_run)),
                _ => None,
            })
            .collect();
        assert_eq!(skipped.len(), 1, "{events:?}");
        assert_eq!(skipped[0].0, Learner::Logistic);
        assert!(
            matches!(&skipped[0].1, TrainError::CannotStandardize { column, .. } if column == "Fare")
        );
        // Logistic regression ran no fold: every step is accounted for.
        let steps = events
            .iter()
            .map(|p| match p {
                Progress::Skipped { folds_not_run, .. } => *folds_not_run as u64,
                _ => 1,
            })
            .sum::<u64>();
        assert_eq!(steps, progress_steps(&options));
        let cv = model.report.cross_validation.as_ref().unwrap();
        let names: Vec<_> = cv.results.iter().map(|r| r.learner.as_str()).collect();
        assert_eq!(names, ["tree", "forest", "gbdt"]);
        assert_eq!(
            model.report.learner,
            Learner::from_name(names[cv.chosen as usize])
                .unwrap()
                .description()
        );

        // Alone, it fails with the reason.
        let alone = TrainOptions {
            learners: vec![Learner::Logistic],
            ..options
        };
        let err = train(titanic_like(), &data, &alone, provenance(), &mut |_| {}).unwrap_err();
        assert!(err.skips_learner(), "{err}");
        assert!(err.to_string().contains("\"Fare\" cannot be standardized"));
    }

    #[test]
    fn every_learner_trains_on_values_near_the_largest_float() {
        let mut data = dataset(60);
        data.rows[3].cells[2] = Cell::Number(1e308); // Age
        data.rows[4].cells[4] = Cell::Number(f64::MAX); // Fare
        for learner in Learner::ALL {
            let options = TrainOptions {
                learners: vec![learner],
                folds: 3,
                seed: 7,
            };
            let model = train(titanic_like(), &data, &options, provenance(), &mut |_| {})
                .unwrap_or_else(|e| panic!("{}: {e}", learner.name()));
            let cv = model.report.cross_validation.as_ref().unwrap();
            assert!(cv.results[0].metrics.log_loss.is_finite());
            for row in &data.rows {
                let crate::model::Prediction::Class {
                    probabilities: p, ..
                } = model.predict(row)
                else {
                    panic!("a classifier answers classes");
                };
                assert!(
                    p.iter().all(|p| p.is_finite()) && (p.iter().sum::<f64>() - 1.0).abs() < 1e-9,
                    "{}: {p:?}",
                    learner.name()
                );
            }
        }
    }
}
