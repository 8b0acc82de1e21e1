//! Parity with scikit-learn: every fixture written by
//! `scripts/make_sklearn_fixtures.py` loads through `lifeboat::import`, and
//! on the held-out rows (missing values and unseen categories included) gives
//! scikit-learn's classes and probabilities (within 1e-9, or bit-identical
//! where declared below), or refuses the rows scikit-learn refused.
//!
//! Set `LIFEBOAT_SKLEARN_FIXTURES=DIR` to check fixtures made by another
//! scikit-learn version (CI regenerates them with the newest and an older one).

use std::path::PathBuf;

use lifeboat::model::Prediction;
use serde_json::{Map, Value};

fn fixture_dir() -> PathBuf {
    match std::env::var_os("LIFEBOAT_SKLEARN_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sklearn"),
    }
}

/// The largest difference allowed from scikit-learn, per final estimator.
/// Trees and forests do scikit-learn's arithmetic in its order (float32 inputs,
/// the same normalization and sums): bit-identical. Boosting and linear models
/// differ in summation order or in how the logistic function is written.
fn tolerance(estimator: &str) -> f64 {
    match estimator {
        "DecisionTreeClassifier"
        | "DecisionTreeRegressor"
        | "RandomForestClassifier"
        | "RandomForestRegressor"
        | "ExtraTreesClassifier"
        | "ExtraTreesRegressor" => 0.0,
        _ => 1e-9,
    }
}

fn input_row(expected: &Value, model: &Value, i: usize) -> Map<String, Value> {
    if model["input"] == "frame" {
        expected["rows"][i].as_object().cloned().unwrap_or_default()
    } else {
        expected["rows_array"][i]
            .as_array()
            .map(|cells| {
                cells
                    .iter()
                    .enumerate()
                    .map(|(j, v)| (format!("x{j}"), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[test]
fn every_fixture_matches_scikit_learn() {
    let dir = fixture_dir();
    let text = std::fs::read_to_string(dir.join("expected.json"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join("expected.json").display()));
    let expected: Value = serde_json::from_str(&text).unwrap();
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    let mut checked_files = 0;
    for model in expected["models"].as_array().unwrap() {
        let name = model["name"].as_str().unwrap();
        let estimator = model["estimator"]
            .as_str()
            .unwrap_or(model["class"].as_str().unwrap());
        let tol = tolerance(estimator);
        let mut max_diff: f64 = 0.0;
        for file in model["files"].as_array().unwrap() {
            let file = file.as_str().unwrap();
            let bytes = std::fs::read(dir.join(file)).unwrap();
            let imported = match lifeboat::import::from_bytes(&bytes, file, None) {
                Ok(m) => m,
                Err(e) => {
                    failures.push(format!("{file}: {e}"));
                    continue;
                }
            };
            checked_files += 1;
            for (i, answer) in model["answers"].as_array().unwrap().iter().enumerate() {
                let input = input_row(&expected, model, i);
                let parsed = imported.schema.parse_json_object(&input);
                let row = match (answer.get("error"), parsed) {
                    (Some(_), Err(_)) => continue,
                    (Some(e), Ok(_)) => {
                        failures.push(format!(
                            "{file} row {i}: scikit-learn refused it ({e}) but lifeboat accepted it"
                        ));
                        continue;
                    }
                    (None, Err(e)) => {
                        failures.push(format!("{file} row {i}: lifeboat refused it: {e}"));
                        continue;
                    }
                    (None, Ok(row)) => row,
                };
                match imported.predict(&row) {
                    Prediction::Class {
                        index,
                        probabilities,
                    } => {
                        let class = &imported.schema.classes()[index].value;
                        if Some(class.as_str()) != answer["predict"].as_str() {
                            failures.push(format!(
                                "{file} row {i}: class {class} but scikit-learn says {}",
                                answer["predict"]
                            ));
                        }
                        let want: Vec<f64> = answer["proba"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|p| p.as_f64().unwrap())
                            .collect();
                        for (g, w) in probabilities.iter().zip(&want) {
                            max_diff = max_diff.max((g - w).abs());
                        }
                        if probabilities.len() != want.len() {
                            failures.push(format!("{file} row {i}: {probabilities:?} vs {want:?}"));
                        }
                    }
                    Prediction::Value(v) => {
                        let w = answer["predict"].as_f64().unwrap();
                        max_diff = max_diff.max((v - w).abs() / w.abs().max(1.0));
                    }
                }
            }
        }
        if max_diff > tol {
            failures.push(format!(
                "{name}: differs from scikit-learn by {max_diff:e} (allowed {tol:e})"
            ));
        }
        summary.push(format!(
            "{name:<36} {estimator:<32} max diff {max_diff:.3e}"
        ));
    }
    eprintln!(
        "scikit-learn {} parity:\n{}",
        expected["sklearn_version"],
        summary.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked_files > 0, "no fixture files were checked");
}
