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
        | "ExtraTreeClassifier"
        | "ExtraTreeRegressor"
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

fn committed(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn tutorial_schema() -> lifeboat::schema::Schema {
    let text = String::from_utf8(committed("examples/tutorial/titanic_tutorial.toml")).unwrap();
    lifeboat::schema::Schema::from_toml(&text).unwrap()
}

#[test]
fn the_tutorial_schema_applies_to_a_bare_array_model() {
    let file = "tests/fixtures/sklearn/tutorial_rf_array.p5.pkl";
    let bytes = committed(file);
    let bare = lifeboat::import::from_bytes(&bytes, "titanic_model.pkl", None).unwrap();
    let names: Vec<&str> = bare.schema.field_names().collect();
    assert_eq!(names, ["x0", "x1", "x2", "x3", "x4", "x5", "x6"]);

    let model =
        lifeboat::import::from_bytes(&bytes, "titanic_model.pkl", Some(tutorial_schema())).unwrap();
    assert_eq!(model.schema.name, "titanic");
    assert_eq!(
        model.schema.classes()[1].label.es.as_deref(),
        Some("El pasajero sobrevive")
    );
    assert_eq!(model.schema.classes()[0].label.en, "Passenger dies");
    // The same passengers, as a form sends them and as the bare array takes them.
    for (pclass, sex, age, fare, embarked) in [
        ("3", "0", "22", "7.25", "0"),
        ("1", "1", "38", "71.2833", "1"),
        ("2", "1", "4", "16.7", "2"),
    ] {
        let form = model
            .schema
            .parse_strings([
                ("Pclass", pclass),
                ("Sex", sex),
                ("Age", age),
                ("SibSp", "1"),
                ("Parch", "0"),
                ("Fare", fare),
                ("Embarked", embarked),
            ])
            .unwrap();
        let array = bare
            .schema
            .parse_strings([
                ("x0", pclass),
                ("x1", sex),
                ("x2", age),
                ("x3", "1"),
                ("x4", "0"),
                ("x5", fare),
                ("x6", embarked),
            ])
            .unwrap();
        assert_eq!(model.predict(&form), bare.predict(&array));
    }
    // Labelled choices refuse codes the model never saw.
    let e = model
        .schema
        .parse_strings([
            ("Pclass", "4"),
            ("Sex", "0"),
            ("Age", "22"),
            ("SibSp", "1"),
            ("Parch", "0"),
            ("Fare", "7"),
            ("Embarked", "0"),
        ])
        .unwrap_err();
    assert!(e.to_string().contains("Pclass"), "{e}");
}

#[test]
fn a_schema_that_does_not_fit_says_what_is_wrong() {
    let bytes = committed("tests/fixtures/sklearn/tutorial_rf_array.p5.pkl");
    let import = |toml: String| {
        let schema = lifeboat::schema::Schema::from_toml(&toml).unwrap();
        lifeboat::import::from_bytes(&bytes, "m.pkl", Some(schema))
            .unwrap_err()
            .to_string()
    };
    let text = String::from_utf8(committed("examples/tutorial/titanic_tutorial.toml")).unwrap();
    let without_embarked = text[..text.rfind("[[fields]]").unwrap()].to_string();
    let e = import(without_embarked);
    assert!(
        e.contains("lists 6 fields but the model takes 7 inputs"),
        "{e}"
    );
    let e = import(text.replace(
        "value = \"1\", label = { en = \"Passenger survives\"",
        "value = \"yes\", label = { en = \"Passenger survives\"",
    ));
    assert!(
        e.contains("the target lists the classes 0, yes but the model predicts 0, 1"),
        "{e}"
    );
    let e = import(text.replace(
        "{ value = \"0\", label = { en = \"Male\"",
        "{ value = \"m\", label = { en = \"Male\"",
    ));
    assert!(
        e.contains("every category value must be a number, not \"m\""),
        "{e}"
    );

    // A pipeline trained on named columns matches fields by name.
    let named = committed("tests/fixtures/sklearn/pipe_lr_names.p5.pkl");
    let schema = lifeboat::schema::Schema::from_toml(&text).unwrap();
    let e = lifeboat::import::from_bytes(&named, "m.pkl", Some(schema))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("field \"Sex\" lists the values 0, 1 but the model knows female, male"),
        "{e}"
    );
}

#[test]
fn unsupported_classes_are_named_with_the_supported_list() {
    // pickle.dumps(SVC()) in outline: a class outside the allow-list.
    let svc = b"\x80\x04\x8c\x14sklearn.svm._classes\x8c\x03SVC\x93)\x81}b.";
    let e = lifeboat::import::from_bytes(svc, "svc.pkl", None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sklearn.svm._classes.SVC (named at byte 29) is not supported"),
        "{e}"
    );
    assert!(
        e.contains("HistGradientBoostingRegressor") && e.contains("OneHotEncoder"),
        "{e}"
    );
    // An allowed class that is not an estimator lifeboat converts.
    let dummy = b"\x80\x04\x8c\rsklearn.dummy\x8c\x0fDummyClassifier\x93)\x81}b.";
    let e = lifeboat::import::from_bytes(dummy, "d.pkl", None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sklearn.dummy.DummyClassifier is not supported"),
        "{e}"
    );
}

#[test]
fn unsupported_and_damaged_files_say_why() {
    let e = lifeboat::import::from_bytes(b"hello", "model.bin", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a format lifeboat imports"), "{e}");
    // A .onnx name is read as ONNX, and the error says what is wrong with it.
    let e = lifeboat::import::from_bytes(b"hello", "model.onnx", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("ONNX"), "{e}");
    let model = lifeboat::import::from_bytes(
        &committed("tests/fixtures/sklearn/lr_binary_array.p5.pkl"),
        "lr.pkl",
        None,
    )
    .unwrap();
    let native = lifeboat::model::file::to_bytes(&model);
    let e = lifeboat::import::from_bytes(&native, "lr.lifeboat", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("lifeboat model file already"), "{e}");
    // The converted model survives the native file format with its reference rows.
    let loaded = lifeboat::model::file::from_bytes(&native).unwrap();
    assert_eq!(loaded.model, model);
    assert!(!loaded.model.reference.is_empty());
    let lifeboat::model::report::Origin::Imported {
        producer, format, ..
    } = &model.report.origin
    else {
        panic!("not imported")
    };
    assert!(
        producer
            .as_deref()
            .is_some_and(|p| p.starts_with("scikit-learn ")),
        "{producer:?}"
    );
    assert_eq!(format, "pickle");
    assert_eq!(model.report.learner, "LogisticRegression");
    assert!(model.report.params.iter().any(|(k, _)| k == "max_iter"));
}
