//! L2-regularized logistic regression, fitted by Newton's method with a
//! backtracking line search to full convergence (not a loose tolerance), so
//! the coefficients are the exact optimum of scikit-learn's objective
//! `C · Σ log-loss + ½‖w‖²` (intercepts unpenalized). Binary problems get one
//! log-odds output; three or more classes get a multinomial (softmax) model.
//!
//! Written here because the problem is small (features in the tens) and
//! Newton's method converges in a handful of steps; no crate gives the exact
//! optimum with deterministic results and our own output types.

use super::TrainError;
use super::matrix::Matrix;
use crate::model::{LinearModel, Link, sigmoid};

#[derive(Debug, Clone, PartialEq)]
pub struct LogisticParams {
    /// Inverse regularization strength, as scikit-learn's `C` (default 1.0).
    pub c: f64,
    /// Newton iterations before giving up (default 100; a few are usually enough).
    pub max_iter: u32,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            c: 1.0,
            max_iter: 100,
        }
    }
}

impl LogisticParams {
    pub fn describe(&self) -> Vec<(String, String)> {
        vec![
            ("C".into(), self.c.to_string()),
            ("penalty".into(), "l2".into()),
            ("solver".into(), "newton (exact)".into()),
        ]
    }
}

/// Fits the model; `feature_means` become the reference point of explanations.
pub fn fit(
    x: &Matrix,
    y: &[u32],
    n_classes: usize,
    params: &LogisticParams,
    feature_means: Vec<f64>,
) -> Result<(LinearModel, Link), TrainError> {
    if !(params.c.is_finite() && params.c > 0.0) {
        return Err(TrainError::Param(format!(
            "C must be a positive number, not {}",
            params.c
        )));
    }
    if x.n_rows == 0 {
        return Err(TrainError::NoRows);
    }
    if x.data.iter().any(|v| !v.is_finite()) {
        return Err(TrainError::Param(
            "logistic regression needs every feature present and finite; impute missing values first".into(),
        ));
    }
    let k = if n_classes == 2 { 1 } else { n_classes };
    let problem = Problem {
        x,
        y,
        k,
        lambda: 1.0 / params.c,
    };
    let theta = problem.newton(params.max_iter)?;
    let p = x.n_cols;
    let mut weights = Vec::with_capacity(k * p);
    let mut intercepts = Vec::with_capacity(k);
    for class in 0..k {
        let block = &theta[class * (p + 1)..(class + 1) * (p + 1)];
        weights.extend_from_slice(&block[..p]);
        intercepts.push(block[p]);
    }
    if k > 1 {
        // Softmax is unchanged by a common shift of the intercepts; center
        // them so the answer is unique (scikit-learn's solvers end up there too).
        let mean = intercepts.iter().sum::<f64>() / k as f64;
        intercepts.iter_mut().for_each(|b| *b -= mean);
    }
    let link = if k == 1 {
        Link::Logistic
    } else {
        Link::Softmax
    };
    Ok((
        LinearModel {
            weights,
            intercepts,
            feature_means,
        },
        link,
    ))
}

struct Problem<'a> {
    x: &'a Matrix,
    y: &'a [u32],
    /// Number of score outputs: 1 (binary) or the number of classes.
    k: usize,
    lambda: f64,
}

fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

impl Problem<'_> {
    fn dim(&self) -> usize {
        self.k * (self.x.n_cols + 1)
    }

    /// Scores of row i for every output.
    fn scores(&self, theta: &[f64], i: usize, out: &mut [f64]) {
        let p = self.x.n_cols;
        let row = self.x.row(i);
        for (c, o) in out.iter_mut().enumerate() {
            let block = &theta[c * (p + 1)..(c + 1) * (p + 1)];
            *o = block[p] + block[..p].iter().zip(row).map(|(w, v)| w * v).sum::<f64>();
        }
    }

    fn penalty(&self, theta: &[f64]) -> f64 {
        let p = self.x.n_cols;
        let mut sum = 0.0;
        for c in 0..self.k {
            sum += theta[c * (p + 1)..c * (p + 1) + p]
                .iter()
                .map(|w| w * w)
                .sum::<f64>();
        }
        0.5 * self.lambda * sum
    }

    /// The objective Σ log-loss + λ/2 ‖w‖² (scikit-learn's divided by C).
    fn objective(&self, theta: &[f64]) -> f64 {
        let mut z = vec![0.0; self.k];
        let mut total = self.penalty(theta);
        for i in 0..self.x.n_rows {
            self.scores(theta, i, &mut z);
            let t = self.y[i] as usize;
            total += if self.k == 1 {
                softplus(z[0]) - if t == 1 { z[0] } else { 0.0 }
            } else {
                let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                lse - z[t]
            };
        }
        total
    }

    /// Gradient and Hessian (dense, `dim × dim`, row-major).
    fn derivatives(&self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let p = self.x.n_cols;
        let q = p + 1;
        let dim = self.dim();
        let mut grad = vec![0.0; dim];
        let mut hess = vec![0.0; dim * dim];
        let mut z = vec![0.0; self.k];
        let mut prob = vec![0.0; self.k];
        let mut xt = vec![1.0; q];
        for i in 0..self.x.n_rows {
            xt[..p].copy_from_slice(self.x.row(i));
            self.scores(theta, i, &mut z);
            let t = self.y[i] as usize;
            if self.k == 1 {
                prob[0] = sigmoid(z[0]);
            } else {
                let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
                for c in 0..self.k {
                    prob[c] = (z[c] - max).exp() / sum;
                }
            }
            for c in 0..self.k {
                let target = if self.k == 1 {
                    f64::from(t == 1)
                } else {
                    f64::from(t == c)
                };
                let r = prob[c] - target;
                for a in 0..q {
                    grad[c * q + a] += r * xt[a];
                }
                for l in 0..self.k {
                    let w = if self.k == 1 {
                        prob[0] * (1.0 - prob[0])
                    } else {
                        prob[c] * (f64::from(c == l) - prob[l])
                    };
                    if w == 0.0 {
                        continue;
                    }
                    for a in 0..q {
                        let wa = w * xt[a];
                        let row = (c * q + a) * dim + l * q;
                        for b in 0..q {
                            hess[row + b] += wa * xt[b];
                        }
                    }
                }
            }
        }
        for c in 0..self.k {
            for a in 0..p {
                let j = c * q + a;
                grad[j] += self.lambda * theta[j];
                hess[j * dim + j] += self.lambda;
            }
        }
        (grad, hess)
    }

    fn newton(&self, max_iter: u32) -> Result<Vec<f64>, TrainError> {
        let dim = self.dim();
        let n = self.x.n_rows as f64;
        let mut theta = vec![0.0; dim];
        let mut f = self.objective(&theta);
        for _ in 0..max_iter {
            let (grad, mut hess) = self.derivatives(&theta);
            let gmax = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
            if gmax <= 1e-10 * n.max(1.0) {
                return Ok(theta);
            }
            let mut step: Vec<f64> = grad.iter().map(|g| -g).collect();
            solve_damped(&mut hess, dim, &mut step);
            let slope: f64 = grad.iter().zip(&step).map(|(g, s)| g * s).sum();
            // The Newton decrement (-slope) bounds how far the objective is from
            // its minimum; below rounding level there is nothing left to gain.
            if -slope <= 1e-13 * (1.0 + f.abs()) {
                return Ok(theta);
            }
            // Backtracking (Armijo) line search: Newton steps are usually taken whole.
            let mut t = 1.0;
            let mut accepted = false;
            for _ in 0..60 {
                let trial: Vec<f64> = theta.iter().zip(&step).map(|(a, s)| a + t * s).collect();
                let ft = self.objective(&trial);
                if ft <= f + 1e-4 * t * slope {
                    theta = trial;
                    f = ft;
                    accepted = true;
                    break;
                }
                t *= 0.5;
            }
            if !accepted {
                // No decrease is possible at floating-point precision: this is the optimum.
                return Ok(theta);
            }
        }
        Err(TrainError::Param(format!(
            "logistic regression did not converge in {max_iter} Newton iterations; \
             check for features with extreme values or raise the iteration limit"
        )))
    }
}

/// Solves `a · x = b` for a symmetric positive (semi)definite `a` by Cholesky,
/// adding a growing ridge when the matrix is singular (the multinomial
/// intercepts have one flat direction). `b` is replaced by `x`.
fn solve_damped(a: &mut [f64], n: usize, b: &mut [f64]) {
    let original = a.to_vec();
    let mut ridge = 0.0;
    loop {
        a.copy_from_slice(&original);
        for i in 0..n {
            a[i * n + i] += ridge;
        }
        if cholesky(a, n) {
            break;
        }
        ridge = if ridge == 0.0 { 1e-10 } else { ridge * 10.0 };
    }
    // Forward then backward substitution with L (lower triangle of a).
    for i in 0..n {
        let mut s = b[i];
        for j in 0..i {
            s -= a[i * n + j] * b[j];
        }
        b[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for j in i + 1..n {
            s -= a[j * n + i] * b[j];
        }
        b[i] = s / a[i * n + i];
    }
}

/// In-place Cholesky factorization; false when `a` is not positive definite.
fn cholesky(a: &mut [f64], n: usize) -> bool {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d <= 1e-300 || !d.is_finite() {
            return false;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::rng::Rng;

    fn synthetic(n: usize, k: usize, seed: u64) -> (Matrix, Vec<u32>) {
        let mut rng = Rng::new(seed);
        let mut x = Matrix::zeros(n, 3);
        let mut y = Vec::new();
        for i in 0..n {
            let row: Vec<f64> = (0..3).map(|_| rng.unit() * 4.0 - 2.0).collect();
            x.data[i * 3..i * 3 + 3].copy_from_slice(&row);
            let score = row[0] - 0.5 * row[1] + 0.3 * rng.unit();
            let class = if k == 2 {
                u32::from(score + rng.unit() - 0.5 > 0.0)
            } else {
                ((score + 3.0) / 6.0 * k as f64).clamp(0.0, k as f64 - 1.0) as u32
            };
            y.push(class);
        }
        (x, y)
    }

    /// At the optimum the gradient of the objective is zero.
    fn assert_stationary(x: &Matrix, y: &[u32], k: usize, m: &LinearModel) {
        let kk = if k == 2 { 1 } else { k };
        let p = x.n_cols;
        let mut theta = Vec::new();
        for c in 0..kk {
            theta.extend_from_slice(&m.weights[c * p..(c + 1) * p]);
            theta.push(m.intercepts[c]);
        }
        let problem = Problem {
            x,
            y,
            k: kk,
            lambda: 1.0,
        };
        let (grad, _) = problem.derivatives(&theta);
        let gmax = grad.iter().fold(0.0f64, |a, g| a.max(g.abs()));
        assert!(gmax < 1e-6, "gradient {gmax}");
    }

    #[test]
    fn binary_converges_to_the_optimum() {
        let (x, y) = synthetic(300, 2, 1);
        let (m, link) = fit(&x, &y, 2, &LogisticParams::default(), vec![0.0; 3]).unwrap();
        assert_eq!(link, Link::Logistic);
        assert!(m.weights[0] > 0.5 && m.weights[1] < -0.2, "{m:?}");
        assert_stationary(&x, &y, 2, &m);
    }

    #[test]
    fn multinomial_converges_with_centered_intercepts() {
        let (x, y) = synthetic(400, 3, 2);
        let (m, link) = fit(&x, &y, 3, &LogisticParams::default(), vec![0.0; 3]).unwrap();
        assert_eq!(link, Link::Softmax);
        assert_eq!(m.intercepts.len(), 3);
        assert!(m.intercepts.iter().sum::<f64>().abs() < 1e-9);
        assert_stationary(&x, &y, 3, &m);
    }

    #[test]
    fn separable_data_stays_finite() {
        let x = Matrix {
            n_rows: 4,
            n_cols: 1,
            data: vec![-2.0, -1.0, 1.0, 2.0],
        };
        let (m, _) = fit(&x, &[0, 0, 1, 1], 2, &LogisticParams::default(), vec![0.0]).unwrap();
        assert!(m.weights[0].is_finite() && m.weights[0] > 0.0);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let x = Matrix {
            n_rows: 2,
            n_cols: 1,
            data: vec![f64::NAN, 1.0],
        };
        assert!(fit(&x, &[0, 1], 2, &LogisticParams::default(), vec![0.0]).is_err());
        let x = Matrix {
            n_rows: 2,
            n_cols: 1,
            data: vec![0.0, 1.0],
        };
        let bad = LogisticParams {
            c: 0.0,
            ..Default::default()
        };
        assert!(fit(&x, &[0, 1], 2, &bad, vec![0.0]).is_err());
    }
}
