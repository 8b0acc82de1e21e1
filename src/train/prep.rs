//! Fitting the preprocessing: medians, most frequent categories, means and
//! standard deviations, learned from the training rows only (cross-validation
//! refits them per fold, so no held-out row leaks into them).

use super::TrainError;
use super::matrix::Matrix;
use crate::model::{Column, Preprocessor, Step};
use crate::schema::{Cell, FieldKind, Row, Schema};

/// How a learner family wants its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Imputed, standardized numbers and one-hot categories (unseen: all zeros).
    Linear,
    /// Imputed numbers and ordinal categories, for trees that cannot route missing values.
    TreesImputed,
    /// Numbers as they are and ordinal categories, missing values left as NaN
    /// for learners that route them (histogram gradient boosting).
    TreesMissing,
}

/// Fits the preprocessing `encoding` asks for. Fails only when a number
/// column cannot be standardized (values so far apart, near the largest
/// numbers a float holds, that their distance overflows).
pub fn fit(schema: &Schema, rows: &[Row], encoding: Encoding) -> Result<Preprocessor, TrainError> {
    let mut columns = Vec::new();
    for (f, field) in schema.fields.iter().enumerate() {
        let cells = rows.iter().map(|r| r.cells[f]);
        let fi = f as u32;
        match &field.kind {
            FieldKind::Category(spec) => {
                let mode = most_frequent(cells, spec.values.len());
                let mut steps = Vec::new();
                if encoding != Encoding::TreesMissing {
                    steps.push(Step::ImputeCategory(mode));
                }
                if encoding == Encoding::Linear {
                    for (c, cat) in spec.values.iter().enumerate() {
                        let mut steps = steps.clone();
                        steps.push(Step::Indicator {
                            category: Some(c as u32),
                            unseen: 0.0,
                        });
                        columns.push(Column {
                            name: format!("{}={}", field.name, cat.value),
                            field: fi,
                            steps,
                        });
                    }
                } else {
                    steps.push(Step::Ordinal {
                        codes: (0..spec.values.len()).map(|c| c as f64).collect(),
                        unseen: f64::NAN,
                        missing: f64::NAN,
                    });
                    columns.push(Column {
                        name: field.name.clone(),
                        field: fi,
                        steps,
                    });
                }
            }
            FieldKind::Number(_) | FieldKind::Integer(_) | FieldKind::Boolean => {
                let observed: Vec<f64> = cells
                    .filter_map(|c| match c {
                        Cell::Number(x) => Some(x),
                        _ => None,
                    })
                    .collect();
                let median = median(&observed);
                let mut steps = Vec::new();
                if encoding != Encoding::TreesMissing {
                    steps.push(Step::ImputeNumber(median));
                }
                if encoding == Encoding::Linear {
                    // Mean and spread of the imputed column, as scikit-learn's
                    // SimpleImputer followed by StandardScaler computes them.
                    let n_missing = rows.len() - observed.len();
                    let imputed = observed
                        .iter()
                        .copied()
                        .chain(std::iter::repeat_n(median, n_missing));
                    let (mean, std) = mean_std(imputed.clone());
                    // A constant column keeps scale 1, as scikit-learn does.
                    let scale = if std > 0.0 { std } else { 1.0 };
                    if let Some(value) = imputed.clone().find(|x| !((x - mean) / scale).is_finite())
                    {
                        return Err(TrainError::CannotStandardize {
                            column: field.name.clone(),
                            value,
                            mean,
                        });
                    }
                    steps.push(Step::Standardize { mean, scale });
                }
                columns.push(Column {
                    name: field.name.clone(),
                    field: fi,
                    steps,
                });
            }
        }
    }
    Ok(Preprocessor { columns })
}

/// The feature matrix of `rows`.
pub fn design_matrix(prep: &Preprocessor, rows: &[Row]) -> Matrix {
    let mut m = Matrix::zeros(rows.len(), prep.n_features());
    for (i, row) in rows.iter().enumerate() {
        let cols = m.n_cols;
        prep.transform(row, &mut m.data[i * cols..(i + 1) * cols]);
    }
    m
}

/// The median of observed values (0 when there are none).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        let (a, b) = (v[n / 2 - 1], v[n / 2]);
        let m = (a + b) / 2.0;
        // Two huge values overflow their sum; halve them first then.
        if m.is_finite() { m } else { a / 2.0 + b / 2.0 }
    }
}

/// Values whose magnitude is above this are scaled down before their mean and
/// spread are taken, so that neither the sum nor the squares overflow.
const LARGE: f64 = 2.582_249_878_086_908_6e120; // 2^400

/// Mean and population standard deviation (ddof = 0, as StandardScaler),
/// finite for any finite values.
fn mean_std(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = values.clone().count().max(1) as f64;
    let largest = values.clone().fold(0.0, |m: f64, x| m.max(x.abs()));
    if largest <= LARGE {
        let mean = values.clone().sum::<f64>() / n;
        let var = values.map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        return (mean, var.sqrt());
    }
    // Work on the values times 2^-shift, which brings the largest to about
    // 2^400: scaling by a power of two is exact, and the mean and standard
    // deviation scale with it, so they are multiplied back at the end (at
    // most by 2^624, and both are at most the largest value).
    let shift = largest.log2().floor() as i32 - 400;
    let (down, up) = (2f64.powi(-shift), 2f64.powi(shift));
    let mean = values.clone().map(|x| x * down).sum::<f64>() / n;
    let var = values.map(|x| (x * down - mean).powi(2)).sum::<f64>() / n;
    (mean * up, var.sqrt() * up)
}

/// The most frequent category (the first listed wins ties; 0 when none is seen).
fn most_frequent(cells: impl Iterator<Item = Cell>, n: usize) -> u32 {
    let mut counts = vec![0u64; n];
    for c in cells {
        if let Cell::Category(i) = c
            && let Some(slot) = counts.get_mut(i as usize)
        {
            *slot += 1;
        }
    }
    let best = counts
        .iter()
        .enumerate()
        .fold(0, |best, (i, c)| if *c > counts[best] { i } else { best });
    best as u32
}

/// The mean of each column: the reference point of linear explanations.
pub fn column_means(x: &Matrix) -> Vec<f64> {
    let mut means = vec![0.0; x.n_cols];
    for i in 0..x.n_rows {
        for (m, v) in means.iter_mut().zip(x.row(i)) {
            *m += v;
        }
    }
    means.iter_mut().for_each(|m| *m /= x.n_rows.max(1) as f64);
    means
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::titanic_like;

    fn rows() -> Vec<Row> {
        let r = |pclass, sex, age: Option<f64>, fare| Row {
            cells: vec![
                Cell::Category(pclass),
                Cell::Category(sex),
                age.map_or(Cell::Missing, Cell::Number),
                Cell::Number(0.0),
                Cell::Number(fare),
                Cell::Missing,
                Cell::Number(1.0),
            ],
        };
        vec![
            r(2, 0, Some(20.0), 7.0),
            r(2, 1, Some(40.0), 9.0),
            r(0, 1, None, 80.0),
            r(1, 0, Some(30.0), 20.0),
        ]
    }

    #[test]
    fn linear_encoding() {
        let schema = titanic_like();
        let p = fit(&schema, &rows(), Encoding::Linear).unwrap();
        p.check(&schema, false).unwrap();
        let names: Vec<_> = p.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Pclass=1",
                "Pclass=2",
                "Pclass=3",
                "Sex=male",
                "Sex=female",
                "Age",
                "SibSp",
                "Fare",
                "Embarked=S",
                "Embarked=C",
                "Embarked=Q",
                "Alone"
            ]
        );
        let x = design_matrix(&p, &rows());
        // Age: median 30 imputed, then standardized to mean 0, unit variance.
        let age = x.column(5);
        assert!(age.iter().sum::<f64>().abs() < 1e-12);
        assert!((age.iter().map(|a| a * a).sum::<f64>() / 4.0 - 1.0).abs() < 1e-12);
        assert!((age[2] - 0.0).abs() < 1e-12); // the imputed median is the mean here
        // Constant columns keep scale 1.
        assert_eq!(x.column(6), vec![0.0; 4]);
        // Embarked is never seen: imputed to the first listed value, S.
        assert_eq!(x.column(8), vec![1.0; 4]);
    }

    #[test]
    fn tree_encodings() {
        let schema = titanic_like();
        let p = fit(&schema, &rows(), Encoding::TreesMissing).unwrap();
        p.check(&schema, true).unwrap();
        assert!(p.check(&schema, false).is_err());
        let x = design_matrix(&p, &rows());
        assert_eq!(x.row(2)[0], 0.0);
        assert!(x.row(2)[2].is_nan());
        let p = fit(&schema, &rows(), Encoding::TreesImputed).unwrap();
        p.check(&schema, false).unwrap();
        let x = design_matrix(&p, &rows());
        assert_eq!(x.row(2)[2], 30.0);
    }

    #[test]
    fn huge_values_standardize_without_overflow() {
        let schema = titanic_like();
        let mut rows = rows();
        rows[0].cells[2] = Cell::Number(1e308); // Age
        rows[1].cells[4] = Cell::Number(f64::MAX); // Fare
        rows[3].cells[4] = Cell::Number(f64::MAX);
        let p = fit(&schema, &rows, Encoding::Linear).unwrap();
        p.check(&schema, false).unwrap();
        let x = design_matrix(&p, &rows);
        assert!(x.data.iter().all(|v| v.is_finite()), "{:?}", x.data);
        for col in [5, 7] {
            let c = x.column(col);
            let mean = c.iter().sum::<f64>() / 4.0;
            let var = c.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0;
            assert!(mean.abs() < 1e-12, "column {col}: {c:?}");
            assert!((var - 1.0).abs() < 1e-12, "column {col}: {c:?}");
        }
        // Fare: two at the largest float, median between 9 and f64::MAX.
        let (mean, std) = mean_std([f64::MAX, f64::MAX, 7.0, 20.0].into_iter());
        assert_eq!(mean, f64::MAX / 2.0);
        assert!((std / (f64::MAX / 2.0) - 1.0).abs() < 1e-15, "{std}");
        assert_eq!(median(&[f64::MAX, f64::MAX]), f64::MAX);
        assert_eq!(median(&[1.0, 2.0]), 1.5);
    }

    #[test]
    fn scaling_down_gives_the_same_bits_as_the_plain_formula() {
        // Ordinary values take the plain path; values above 2^400 are scaled
        // by a power of two, which changes no bit of the answer.
        let values = [0.1, 7.25, 71.2833, 8.05, 0.0, 512.3292, 13.0, 30.5];
        let (mean, std) = mean_std(values.into_iter());
        let big = 2f64.powi(600);
        let (big_mean, big_std) = mean_std(values.iter().map(|v| v * big));
        assert_eq!(big_mean, mean * big);
        assert_eq!(big_std, std * big);
    }

    #[test]
    fn values_too_far_apart_to_standardize_name_the_column() {
        let schema = titanic_like();
        let mut rows = rows();
        // Fare: three at minus the largest float and one at plus it: the
        // mean is near the first, and the last is 1.5 * f64::MAX from it.
        for r in &mut rows[..3] {
            r.cells[4] = Cell::Number(-f64::MAX);
        }
        rows[3].cells[4] = Cell::Number(f64::MAX);
        let err = fit(&schema, &rows, Encoding::Linear).unwrap_err();
        assert!(
            matches!(&err, TrainError::CannotStandardize { column, value, .. }
                if column == "Fare" && *value == f64::MAX),
            "{err:?}"
        );
        assert!(err.to_string().contains("\"Fare\""), "{err}");
        // Trees take the values as they are.
        fit(&schema, &rows, Encoding::TreesImputed).unwrap();
    }
}
