//! A linear predictor: `raw[k] = intercept[k] + Σ weight[k][j] · x[j]`, with
//! the per-feature contributions `weight[k][j] · (x[j] − mean[j])` that add up
//! to the raw score minus the score at the training mean.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    /// `n_outputs × n_features`, row-major.
    pub weights: Vec<f64>,
    pub intercepts: Vec<f64>,
    /// The mean of each feature over the training data: the reference point of
    /// explanations (zero where it is not known, e.g. some imported models).
    pub feature_means: Vec<f64>,
}

impl LinearModel {
    pub fn n_outputs(&self) -> usize {
        self.intercepts.len()
    }

    pub fn n_features(&self) -> usize {
        self.feature_means.len()
    }

    pub fn check(&self) -> Result<(), String> {
        let (k, n) = (self.n_outputs(), self.n_features());
        if k == 0 {
            return Err("a linear model needs at least one output".into());
        }
        if self.weights.len() != k * n {
            return Err(format!(
                "{} weights for {k} outputs × {n} features (expected {})",
                self.weights.len(),
                k * n
            ));
        }
        let all = self
            .weights
            .iter()
            .chain(&self.intercepts)
            .chain(&self.feature_means);
        if all.clone().any(|w| !w.is_finite()) {
            return Err("a weight, intercept or mean is not a finite number".into());
        }
        Ok(())
    }

    #[inline]
    pub fn raw(&self, x: &[f64], out: &mut [f64]) {
        let n = self.n_features();
        for (k, slot) in out.iter_mut().enumerate() {
            let w = &self.weights[k * n..(k + 1) * n];
            let mut sum = self.intercepts[k];
            for (wj, xj) in w.iter().zip(x) {
                sum += wj * xj;
            }
            *slot = sum;
        }
    }

    /// The raw score at the training mean: the base value of explanations.
    pub fn base(&self, output: usize) -> f64 {
        let mut out = vec![0.0; self.n_outputs()];
        self.raw(&self.feature_means, &mut out);
        out[output]
    }

    /// Per-feature contributions to `output`.
    pub fn contributions(&self, x: &[f64], output: usize, out: &mut [f64]) {
        let n = self.n_features();
        let w = &self.weights[output * n..(output + 1) * n];
        for j in 0..n {
            out[j] = w[j] * (x[j] - self.feature_means[j]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contributions_add_up() {
        let m = LinearModel {
            weights: vec![0.5, -2.0, 1.0, 0.25, 0.0, -1.0],
            intercepts: vec![0.1, -0.3],
            feature_means: vec![1.0, 2.0, 3.0],
        };
        m.check().unwrap();
        let x = [4.0, -1.0, 0.5];
        let mut raw = [0.0; 2];
        m.raw(&x, &mut raw);
        for (k, raw_k) in raw.iter().enumerate() {
            let mut c = [0.0; 3];
            m.contributions(&x, k, &mut c);
            let sum: f64 = c.iter().sum();
            assert!((m.base(k) + sum - raw_k).abs() < 1e-12);
        }
    }

    #[test]
    fn shapes_are_checked() {
        let m = LinearModel {
            weights: vec![1.0],
            intercepts: vec![0.0],
            feature_means: vec![0.0, 0.0],
        };
        assert!(m.check().unwrap_err().contains("expected 2"));
    }
}
