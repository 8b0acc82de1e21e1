//! Feature binning for histogram gradient boosting, as scikit-learn's
//! `_BinMapper`: each feature's present values fall into at most `max_bins`
//! bins cut at quantiles (or between every pair of distinct values when there
//! are few enough), and missing values get a bin of their own.
//!
//! A value `v` lands in the first bin `b` with `v <= thresholds[b]`, so "bin
//! ≤ b" is exactly "`v <= thresholds[b]`": a split found on bins is stored as
//! a threshold on raw values and predicts the same rows.
//!
//! Unlike scikit-learn, all training rows are used to find the cuts (it
//! subsamples 200 000 rows), so there is no randomness here.

use crate::train::cart::midpoint;
use crate::train::matrix::Matrix;

/// The bin of missing values; present values use bins `0..max_bins` (≤ 255).
pub(super) const MISSING_BIN: u8 = 255;
/// Bins per feature in a histogram: every present bin and the missing bin.
pub(super) const HISTOGRAM_WIDTH: usize = 256;

pub(super) struct BinMapper {
    /// Per feature, strictly increasing cut points between present bins.
    pub thresholds: Vec<Vec<f64>>,
    /// Whether the feature had missing values in the training rows.
    pub has_missing: Vec<bool>,
}

/// Binned training rows, one column after another.
pub(super) struct Binned {
    pub n_rows: usize,
    data: Vec<u8>,
}

impl Binned {
    pub fn column(&self, feature: usize) -> &[u8] {
        &self.data[feature * self.n_rows..(feature + 1) * self.n_rows]
    }
}

impl BinMapper {
    /// Finds the cuts from the rows `rows` of `x`; `max_bins` is 2..=255.
    pub fn fit(x: &Matrix, rows: &[usize], max_bins: usize) -> BinMapper {
        let mut thresholds = Vec::with_capacity(x.n_cols);
        let mut has_missing = Vec::with_capacity(x.n_cols);
        let mut values = Vec::with_capacity(rows.len());
        for feature in 0..x.n_cols {
            values.clear();
            values.extend(
                rows.iter()
                    .map(|&r| x.get(r, feature))
                    .filter(|v| !v.is_nan()),
            );
            has_missing.push(values.len() < rows.len());
            values.sort_by(f64::total_cmp);
            thresholds.push(cuts(&values, max_bins));
        }
        BinMapper {
            thresholds,
            has_missing,
        }
    }

    /// The number of bins present values of `feature` fall into.
    pub fn n_bins(&self, feature: usize) -> usize {
        self.thresholds[feature].len() + 1
    }

    pub fn bin(&self, feature: usize, value: f64) -> u8 {
        if value.is_nan() {
            MISSING_BIN
        } else {
            // At most 254 cuts, so the bin fits below MISSING_BIN.
            self.thresholds[feature].partition_point(|t| *t < value) as u8
        }
    }

    /// The rows `rows` of `x`, binned.
    pub fn transform(&self, x: &Matrix, rows: &[usize]) -> Binned {
        let mut data = Vec::with_capacity(rows.len() * x.n_cols);
        for feature in 0..x.n_cols {
            data.extend(rows.iter().map(|&r| self.bin(feature, x.get(r, feature))));
        }
        Binned {
            n_rows: rows.len(),
            data,
        }
    }
}

/// Cut points for sorted present values: midpoints between consecutive
/// distinct values when there are at most `max_bins` of them, otherwise the
/// `i / max_bins` quantiles (numpy's "averaged_inverted_cdf", as
/// scikit-learn ≥ 1.6 takes them), duplicates dropped.
fn cuts(sorted: &[f64], max_bins: usize) -> Vec<f64> {
    let mut distinct = sorted.to_vec();
    distinct.dedup();
    if distinct.len() <= max_bins {
        return distinct.windows(2).map(|w| midpoint(w[0], w[1])).collect();
    }
    let n = sorted.len();
    let mut cuts: Vec<f64> = (1..max_bins)
        .map(|i| {
            // The quantile's position n·i/max_bins, in exact integer arithmetic.
            let (position, remainder) = ((n * i) / max_bins, (n * i) % max_bins);
            if remainder == 0 {
                sorted[position - 1] / 2.0 + sorted[position] / 2.0
            } else {
                sorted[position]
            }
        })
        .collect();
    cuts.dedup();
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[f64]) -> Matrix {
        Matrix {
            n_rows: values.len(),
            n_cols: 1,
            data: values.to_vec(),
        }
    }

    #[test]
    fn few_distinct_values_are_cut_at_midpoints() {
        let x = column(&[3.0, 1.0, f64::NAN, 2.0, 1.0]);
        let mapper = BinMapper::fit(&x, &[0, 1, 2, 3, 4], 255);
        assert_eq!(mapper.thresholds[0], [1.5, 2.5]);
        assert!(mapper.has_missing[0]);
        let binned = mapper.transform(&x, &[0, 1, 2, 3, 4]);
        assert_eq!(binned.column(0), [2, 0, MISSING_BIN, 1, 0]);
        // Only the rows asked for count.
        let mapper = BinMapper::fit(&x, &[0, 1], 255);
        assert!(!mapper.has_missing[0]);
        assert_eq!(mapper.thresholds[0], [2.0]);
    }

    #[test]
    fn many_values_are_cut_at_quantiles() {
        let values: Vec<f64> = (0..1000).map(|i| (i * 7 % 1000) as f64).collect();
        let x = column(&values);
        let rows: Vec<usize> = (0..1000).collect();
        let mapper = BinMapper::fit(&x, &rows, 10);
        // numpy: np.percentile(range(1000), [10, ..., 90], method="averaged_inverted_cdf")
        assert_eq!(
            mapper.thresholds[0],
            [99.5, 199.5, 299.5, 399.5, 499.5, 599.5, 699.5, 799.5, 899.5]
        );
        let binned = mapper.transform(&x, &rows);
        let mut counts = [0; 10];
        for &b in binned.column(0) {
            counts[b as usize] += 1;
        }
        assert_eq!(counts, [100; 10]);
    }

    #[test]
    fn bins_agree_with_thresholds() {
        // Heavy ties: quantile cuts repeat and land on data values.
        let values: Vec<f64> = (0..500).map(|i| ((i * i) % 37) as f64 * 0.5).collect();
        let x = column(&values);
        let rows: Vec<usize> = (0..500).collect();
        let mapper = BinMapper::fit(&x, &rows, 8);
        let cuts = &mapper.thresholds[0];
        assert!(cuts.windows(2).all(|w| w[0] < w[1]), "{cuts:?}");
        assert!(cuts.len() < 8);
        for &v in &values {
            let b = mapper.bin(0, v) as usize;
            for (i, t) in cuts.iter().enumerate() {
                assert_eq!(b <= i, v <= *t, "value {v} bin {b} cut {t}");
            }
        }
    }

    #[test]
    fn constant_and_all_missing_features_have_one_bin() {
        let x = column(&[4.0, 4.0, 4.0]);
        let mapper = BinMapper::fit(&x, &[0, 1, 2], 255);
        assert_eq!(mapper.n_bins(0), 1);
        let x = column(&[f64::NAN, f64::NAN]);
        let mapper = BinMapper::fit(&x, &[0, 1], 255);
        assert_eq!(mapper.n_bins(0), 1);
        assert!(mapper.has_missing[0]);
    }
}
