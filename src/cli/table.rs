//! A plain-text table with aligned columns, for terminal output, and the
//! cross-validation table that `train` prints and `inspect` shows.

use lifeboat::model::report::CrossValidation;

pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            rows: vec![header.iter().map(|h| h.to_string()).collect()],
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let n = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..n)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

/// One row per learner cross-validated, the kept one marked `*`: accuracy
/// (± its spread over the folds), ROC AUC, log loss and the confusion
/// matrix ([`confusion`]). `train` prints it and `inspect` shows it, the same.
pub fn cross_validation(cv: &CrossValidation, classes: &[&str]) -> Table {
    let mut table = Table::new(&[
        "",
        "learner",
        "accuracy",
        "ROC AUC",
        "log loss",
        &format!("confusion (actual: predicted {})", classes.join(", ")),
    ]);
    for (i, r) in cv.results.iter().enumerate() {
        let m = &r.metrics;
        table.row(vec![
            if i as u32 == cv.chosen { "*" } else { "" }.to_string(),
            r.learner.clone(),
            format!("{:.3} ± {:.3}", m.accuracy, m.accuracy_std),
            m.roc_auc.map_or("-".into(), |a| format!("{a:.3}")),
            format!("{:.4}", m.log_loss),
            confusion(&m.confusion, classes),
        ]);
    }
    table
}

/// A confusion matrix on one line, a part per actual class, each named:
/// `0: 473 76 | 1: 103 239` (of the rows of class 0, 473 predicted 0 and
/// 76 predicted 1). A row beyond the class names is named by its index.
pub fn confusion(matrix: &[Vec<u64>], classes: &[&str]) -> String {
    matrix
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let counts: Vec<String> = row.iter().map(u64::to_string).collect();
            let name = classes
                .get(i)
                .map_or_else(|| i.to_string(), |c| c.to_string());
            format!("{name}: {}", counts.join(" "))
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifeboat::model::report::{LearnerResult, Metrics};

    #[test]
    fn the_confusion_matrix_names_each_actual_class() {
        let m = vec![vec![473, 76], vec![103, 239]];
        assert_eq!(confusion(&m, &["0", "1"]), "0: 473 76 | 1: 103 239");
        let m = vec![vec![5, 1, 0], vec![0, 4, 2], vec![1, 0, 7]];
        assert_eq!(
            confusion(&m, &["lower", "middle", "upper"]),
            "lower: 5 1 0 | middle: 0 4 2 | upper: 1 0 7"
        );
    }

    #[test]
    fn the_cross_validation_table_marks_the_kept_learner() {
        let result = |learner: &str, log_loss| LearnerResult {
            learner: learner.into(),
            params: Vec::new(),
            metrics: Metrics {
                accuracy: 0.8,
                accuracy_std: 0.01,
                roc_auc: Some(0.85),
                log_loss,
                confusion: vec![vec![4, 1], vec![2, 3]],
            },
        };
        let cv = CrossValidation {
            folds: 5,
            results: vec![result("logistic", 0.45), result("tree", 0.9)],
            chosen: 0,
        };
        assert_eq!(
            cross_validation(&cv, &["no", "yes"]).render(),
            "   learner   accuracy       ROC AUC  log loss  confusion (actual: predicted no, yes)\n\
             *  logistic  0.800 ± 0.010  0.850    0.4500    no: 4 1 | yes: 2 3\n\
             \x20  tree      0.800 ± 0.010  0.850    0.9000    no: 4 1 | yes: 2 3\n"
        );
    }
}
