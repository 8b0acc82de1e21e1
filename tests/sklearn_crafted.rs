//! scikit-learn tree classifiers with crafted leaf values (written by
//! `scripts/make_crafted_tree_fixtures.py`): leaves no `fit` writes are
//! refused with the estimator, tree and node named, rather than answered as
//! "probabilities" below 0 or above 1; counts in a file from scikit-learn
//! before 1.4 are divided by their sum, as its `predict_proba` did.

use std::path::PathBuf;

use lifeboat::model::Prediction;
use serde_json::{Map, Value};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sklearn_crafted")
}

#[test]
fn crafted_leaves_are_refused_or_read_as_scikit_learn_did() {
    let dir = fixture_dir();
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let files = expected["files"].as_object().unwrap();
    assert_eq!(files.len(), 7);
    for (file, want) in files {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let imported = lifeboat::import::from_bytes(&bytes, file, None);
        if let Some(parts) = want.get("error") {
            let err = match imported {
                Ok(_) => panic!("{file}: accepted"),
                Err(e) => e.to_string(),
            };
            for part in parts.as_array().unwrap() {
                assert!(err.contains(part.as_str().unwrap()), "{file}: {err}");
            }
            continue;
        }
        let model = imported.unwrap_or_else(|e| panic!("{file}: {e}"));
        let input: Map<String, Value> = want["row"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(j, v)| (format!("x{j}"), v.clone()))
            .collect();
        let row = model.schema.parse_json_object(&input).unwrap();
        let Prediction::Class { probabilities, .. } = model.predict(&row) else {
            panic!("{file}: a classifier answers classes");
        };
        let want: Vec<f64> = want["probabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_f64().unwrap())
            .collect();
        assert_eq!(probabilities, want, "{file}");
    }
}
