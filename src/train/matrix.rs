//! A dense row-major matrix of features: what learners train on.

#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub n_rows: usize,
    pub n_cols: usize,
    /// `n_rows × n_cols`, row-major. NaN marks a missing value (only learners
    /// that handle missing values are given NaN).
    pub data: Vec<f64>,
}

impl Matrix {
    pub fn zeros(n_rows: usize, n_cols: usize) -> Matrix {
        Matrix {
            n_rows,
            n_cols,
            data: vec![0.0; n_rows * n_cols],
        }
    }

    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.n_cols..(i + 1) * self.n_cols]
    }

    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.n_cols + j]
    }

    /// The rows at `indices`, in that order (repeats allowed).
    pub fn select(&self, indices: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(indices.len() * self.n_cols);
        for &i in indices {
            data.extend_from_slice(self.row(i));
        }
        Matrix {
            n_rows: indices.len(),
            n_cols: self.n_cols,
            data,
        }
    }

    /// Column `j` as a vector.
    pub fn column(&self, j: usize) -> Vec<f64> {
        (0..self.n_rows).map(|i| self.get(i, j)).collect()
    }
}
