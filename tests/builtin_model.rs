//! The built-in models are exactly what `examples/titanic/train.sh` makes from
//! Kaggle's train.csv: retraining gives byte-identical files.

use std::path::Path;

use assert_cmd::Command;
use lifeboat::builtin::BUILTINS;
use lifeboat::model::file;
use lifeboat::model::report::Origin;

const DATA: &str = "../shared/data/titanic/train.csv";

#[test]
fn builtin_models_load_quickly_and_answer_their_reference_rows() {
    for (name, bytes) in BUILTINS {
        let loaded = file::from_bytes(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!loaded.model.reference.is_empty(), "{name}");
        assert_eq!(loaded.model.schema.name, "titanic");
    }
}

#[test]
fn retraining_reproduces_the_builtin_models() {
    if !Path::new(DATA).exists() {
        eprintln!(
            "skipped: {DATA} is absent (get train.csv from https://www.kaggle.com/competitions/titanic/data)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in BUILTINS {
        let committed = file::from_bytes(bytes).unwrap().model;
        let Origin::Trained { seed, .. } = committed.report.origin else {
            panic!("{name} is not a trained model");
        };
        let learner = match name {
            "titanic" => "auto",
            other => other.trim_start_matches("titanic-"),
        };
        let epoch = time::OffsetDateTime::parse(
            &committed.report.created,
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
        .unix_timestamp();
        let out = dir.path().join(format!("{name}.lifeboat"));
        let status = Command::cargo_bin("lifeboat")
            .unwrap()
            .env("SOURCE_DATE_EPOCH", epoch.to_string())
            .args(["train", "--data", DATA, "--target", "Survived"])
            .args(["--schema", "examples/titanic/titanic.toml"])
            .args(["--learner", learner, "--seed", &seed.to_string()])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        let retrained = std::fs::read(&out).unwrap();
        if retrained != bytes {
            let fresh = file::from_bytes(&retrained).unwrap().model;
            assert_eq!(fresh.report, committed.report, "{name}: reports differ");
            assert_eq!(
                fresh.estimator, committed.estimator,
                "{name}: estimators differ"
            );
            panic!(
                "{name}: the retrained file differs from models/{name}.lifeboat; run examples/titanic/train.sh and commit"
            );
        }
    }
}
