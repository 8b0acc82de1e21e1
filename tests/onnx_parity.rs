//! Parity with onnxruntime: every graph written by
//! `scripts/make_onnx_fixtures.py` (skl2onnx exports, ZipMap on and off)
//! imports through `lifeboat::import`, and on the held-out rows (missing
//! values and unseen categories included) gives onnxruntime's probabilities
//! (or values) within 1e-5 and its classes, whether the rows are run one at a
//! time, three at a time or all at once. Rows for which onnxruntime answers
//! NaN (a linear model given a missing value) are refused by validation.
//! Explanations add up to the answer. A graph with an operator lifeboat does
//! not run is refused at load with the operator named, and damaged files give
//! errors, never a panic.
//!
//! Set `LIFEBOAT_ONNX_FIXTURES=DIR` to check fixtures made by other versions
//! of skl2onnx and onnxruntime (`scripts/check_onnx_versions.sh`).
#![cfg(feature = "onnx")]

use std::path::PathBuf;

use lifeboat::model::{Estimator, Model, Prediction};
use lifeboat::schema::Row;
use serde_json::{Map, Value};

const TOLERANCE: f64 = 1e-5;

fn dir() -> PathBuf {
    match std::env::var_os("LIFEBOAT_ONNX_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx"),
    }
}

fn expected() -> Value {
    let text = std::fs::read_to_string(dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn import(file: &str) -> Result<Model, lifeboat::import::ImportError> {
    let bytes = std::fs::read(dir().join(file)).unwrap();
    lifeboat::import::from_bytes(&bytes, file, None)
}

/// Held-out row `i` as the fields of `model` (pipelines without Pclass leave it out).
fn input_row(expected: &Value, spec: &Value, model: &Model, i: usize) -> Map<String, Value> {
    if spec["input"] == "frame" {
        let mut row = expected["rows"][i].as_object().cloned().unwrap_or_default();
        row.retain(|k, _| model.schema.field_index(k).is_some());
        row
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

/// onnxruntime's answer as numbers: probabilities, or the one value; None for NaN.
fn want(answer: &Value) -> Option<Vec<f64>> {
    match (answer.get("proba"), answer.get("value")) {
        (Some(Value::Array(p)), _) => Some(p.iter().map(|v| v.as_f64().unwrap()).collect()),
        (_, Some(Value::Number(v))) => Some(vec![v.as_f64().unwrap()]),
        _ => None,
    }
}

/// Runs `rows` through the graph in batches of `size`, as raw outputs.
fn batched(model: &Model, rows: &[Row], size: usize) -> Vec<Vec<f64>> {
    let Estimator::Onnx(onnx) = &model.estimator else {
        panic!("not an ONNX estimator")
    };
    let n = model.preprocessor.n_features();
    let width = onnx.n_outputs();
    let mut out = Vec::new();
    for chunk in rows.chunks(size) {
        let mut x = vec![0.0; chunk.len() * n];
        for (r, row) in chunk.iter().enumerate() {
            model
                .preprocessor
                .transform(row, &mut x[r * n..(r + 1) * n]);
        }
        let mut raw = vec![0.0; chunk.len() * width];
        onnx.raw_batch(&x, chunk.len(), &mut raw).unwrap();
        out.extend(raw.chunks(width).map(<[f64]>::to_vec));
    }
    out
}

#[test]
fn every_fixture_matches_onnxruntime() {
    let expected = expected();
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    let mut families: std::collections::BTreeMap<String, f64> = Default::default();
    for spec in expected["models"].as_array().unwrap() {
        let file = spec["file"].as_str().unwrap();
        let model = match import(file) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        let classes: Vec<&str> = model
            .schema
            .classes()
            .iter()
            .map(|c| c.value.as_str())
            .collect();
        let want_classes: Vec<&str> = spec["classes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        if classes != want_classes {
            failures.push(format!(
                "{file}: classes {classes:?}, scikit-learn has {want_classes:?}"
            ));
        }
        let mut rows = Vec::new();
        let mut answers = Vec::new();
        for (i, answer) in spec["answers"].as_array().unwrap().iter().enumerate() {
            let parsed = model
                .schema
                .parse_json_object(&input_row(&expected, spec, &model, i));
            match (want(answer), parsed) {
                (None, Err(_)) => {}
                (None, Ok(_)) => failures.push(format!(
                    "{file} row {i}: onnxruntime answers NaN but lifeboat accepts the row"
                )),
                (Some(_), Err(e)) => {
                    failures.push(format!("{file} row {i}: lifeboat refused it: {e}"))
                }
                (Some(w), Ok(row)) => {
                    rows.push(row);
                    answers.push((i, w, answer["label"].as_str().map(str::to_string)));
                }
            }
        }
        let mut max_diff: f64 = 0.0;
        // One row at a time through the model's own path, then in batches.
        let single: Vec<Vec<f64>> = rows
            .iter()
            .map(|r| model.answer_vector(&model.predict(r)))
            .collect();
        let runs = [
            ("predict", single),
            ("batch 1", batched(&model, &rows, 1)),
            ("batch 3", batched(&model, &rows, 3)),
            ("one batch", batched(&model, &rows, rows.len().max(1))),
        ];
        for (how, got) in &runs {
            for ((i, w, label), g) in answers.iter().zip(got) {
                if g.len() != w.len() {
                    failures.push(format!("{file} row {i} ({how}): {g:?} vs {w:?}"));
                    continue;
                }
                for (a, b) in g.iter().zip(w) {
                    max_diff = max_diff.max((a - b).abs() / b.abs().max(1.0));
                }
                if let Some(label) = label {
                    let Prediction::Class { index, .. } = model.finish(g) else {
                        panic!("{file}: a classifier gave a value")
                    };
                    if classes[index] != label {
                        failures.push(format!(
                            "{file} row {i} ({how}): class {} but onnxruntime says {label} ({g:?})",
                            classes[index]
                        ));
                    }
                }
            }
        }
        if max_diff > TOLERANCE {
            failures.push(format!("{file}: differs from onnxruntime by {max_diff:e}"));
        }
        let name = spec["name"].as_str().unwrap();
        let family = name.split('_').next().unwrap_or(name).to_string();
        let entry = families.entry(family).or_default();
        *entry = entry.max(max_diff);
        summary.push(format!(
            "{file:<40} {:>2} rows  max diff {max_diff:.2e}  {}",
            rows.len(),
            model.report.learner
        ));
    }
    eprintln!(
        "onnxruntime {} parity:\n{}\nby family: {families:?}",
        expected["onnxruntime_version"],
        summary.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn explanations_add_up_to_the_answer() {
    let expected = expected();
    for spec in expected["models"].as_array().unwrap() {
        let file = spec["file"].as_str().unwrap();
        let model = import(file).unwrap();
        let mut explained = 0;
        for i in [0, 7, 40, 41, 42] {
            let Ok(row) = model
                .schema
                .parse_json_object(&input_row(&expected, spec, &model, i))
            else {
                continue;
            };
            let (prediction, e) = model.explain(&row);
            assert_eq!(prediction, model.predict(&row), "{file} row {i}");
            let sum: f64 = e.contributions.iter().sum();
            assert!(
                (e.base + sum - e.score).abs() < 1e-9,
                "{file} row {i}: {} + {sum} != {}",
                e.base,
                e.score
            );
            let answer = model.answer_vector(&prediction);
            let shown = if model.schema.is_classifier() {
                answer[e.output]
            } else {
                answer[0]
            };
            assert_eq!(e.score, shown, "{file} row {i}");
            explained += 1;
        }
        assert!(explained > 0, "{file}: no row explained");
    }
}

#[test]
fn an_unsupported_operator_is_named_at_load() {
    let expected = expected();
    for spec in expected["unsupported"].as_array().unwrap() {
        let file = spec["file"].as_str().unwrap();
        let operator = spec["operator"].as_str().unwrap();
        let err = import(file).unwrap_err().to_string();
        assert!(err.contains(operator), "{file}: {err}");
        assert!(
            err.contains("TreeEnsembleClassifier"),
            "lists what runs: {err}"
        );
    }
}

#[test]
fn converted_files_load_and_answer_the_same() {
    let model = import("pipe_lr.zipmap.onnx").unwrap();
    let bytes = lifeboat::model::file::to_bytes(&model);
    let loaded = lifeboat::model::file::from_bytes(&bytes).unwrap().model;
    // (Models hold NaN codes, so compare their files, not the values.)
    assert_eq!(lifeboat::model::file::to_bytes(&loaded), bytes);
    for r in &model.reference {
        assert_eq!(loaded.predict(&r.row), model.predict(&r.row));
    }
}

/// Truncated copies of fixtures: a clean error (a cut that happens to fall
/// between two top-level fields may leave a graph that still loads), never a panic.
#[test]
fn truncated_files_give_errors() {
    for file in ["pipe_lr.zipmap.onnx", "gbc_binary_array.nozipmap.onnx"] {
        let good = std::fs::read(dir().join(file)).unwrap();
        let (mut total, mut errors) = (0, 0);
        for len in (0..good.len()).step_by(41) {
            total += 1;
            if let Err(e) = lifeboat::import::from_bytes(&good[..len], file, None) {
                errors += 1;
                assert!(!e.to_string().is_empty());
            }
        }
        assert!(
            errors * 10 >= total * 9,
            "{file}: {errors} errors in {total} cuts"
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
    #[test]
    fn flipped_bits_never_panic(
        which: bool,
        flips in proptest::collection::vec((0usize..1_000_000, 0u8..8), 1..4),
        cut in proptest::option::of(0usize..1_000_000),
    ) {
        let file = if which { "pipe_lr.zipmap.onnx" } else { "dtc_multiclass_array.nozipmap.onnx" };
        let mut bytes = std::fs::read(dir().join(file)).unwrap();
        for (at, bit) in flips {
            let i = at % bytes.len();
            bytes[i] ^= 1 << bit;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut % bytes.len());
        }
        if let Ok(model) = lifeboat::import::from_bytes(&bytes, file, None) {
            // Whatever loads answers its reference rows and explains them.
            for r in &model.reference {
                let _ = model.explain(&r.row);
            }
        }
    }
}

/// A schema for pipe_lr's inputs, with `sex` and `extra` spliced in.
fn pipe_schema(sex: &str, extra: &str) -> lifeboat::schema::Schema {
    let text = format!(
        r#"name = "titanic"
title = {{ en = "Titanic" }}
[target]
name = "Survived"
classes = [
  {{ value = "0", label = {{ en = "Passenger dies" }} }},
  {{ value = "1", label = {{ en = "Passenger survives" }} }},
]
[[fields]]
name = "Age"
kind = "number"
optional = true
[[fields]]
name = "Fare"
kind = "number"
[[fields]]
name = "SibSp"
kind = "integer"
[[fields]]
name = "Parch"
kind = "integer"
{sex}
[[fields]]
name = "Embarked"
kind = "category"
optional = true
values = [{{ value = "S", label = {{ en = "Southampton", es = "Southampton" }} }}, {{ value = "C" }}, {{ value = "Q" }}]
{extra}
"#
    );
    lifeboat::schema::Schema::from_toml(&text).unwrap()
}

#[test]
fn a_user_schema_must_fit_the_graph() {
    let bytes = std::fs::read(dir().join("pipe_lr.zipmap.onnx")).unwrap();
    let import = |schema| lifeboat::import::from_bytes(&bytes, "pipe_lr.onnx", Some(schema));
    let sex = "[[fields]]\nname = \"Sex\"\nkind = \"category\"\nvalues = [{ value = \"male\" }, { value = \"female\" }]";
    let model = import(pipe_schema(sex, "")).unwrap();
    assert_eq!(model.schema.classes()[1].label.en, "Passenger survives");
    // The user's category order is kept, and answers do not change with it.
    let derived = lifeboat::import::from_bytes(&bytes, "pipe_lr.onnx", None).unwrap();
    let row = |m: &Model| {
        m.schema
            .parse_strings([
                ("Age", "30"),
                ("Fare", "20"),
                ("SibSp", "0"),
                ("Parch", "0"),
                ("Sex", "female"),
                ("Embarked", "C"),
            ])
            .unwrap()
    };
    assert_eq!(model.predict(&row(&model)), derived.predict(&row(&derived)));

    let e = import(pipe_schema(
        "[[fields]]\nname = \"Sex\"\nkind = \"number\"",
        "",
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("\"Sex\"") && e.contains("as text"), "{e}");
    let e = import(pipe_schema(
        sex,
        "[[fields]]\nname = \"Cabin\"\nkind = \"number\"",
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("7 fields") && e.contains("6 inputs"), "{e}");
    let bad_sex = "[[fields]]\nname = \"Sex\"\nkind = \"category\"\nvalues = [{ value = \"m\" }, { value = \"f\" }]";
    // The graph ignores unknown categories, so unknown values are allowed but
    // a closed list naming none the graph knows is most likely a mistake: it
    // still imports (the graph decides), and answers as for unseen values.
    assert!(import(pipe_schema(bad_sex, "")).is_ok());
}

#[test]
fn a_field_may_be_optional_only_where_the_graph_takes_missing_values() {
    let tutorial = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/tutorial/titanic_tutorial.toml"),
    )
    .unwrap();
    let age_optional = tutorial.replace("name = \"Age\"\n", "name = \"Age\"\noptional = true\n");
    assert_ne!(age_optional, tutorial);
    let schema = || lifeboat::schema::Schema::from_toml(&age_optional).unwrap();
    let read = |f: &str| std::fs::read(dir().join(f)).unwrap();
    // A linear model answers NaN for a missing age: it must be given.
    let e = lifeboat::import::from_bytes(
        &read("lr_binary_array.nozipmap.onnx"),
        "lr.onnx",
        Some(schema()),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("\"Age\" is optional, but the graph cannot take a missing"),
        "{e}"
    );
    // Trees route a missing value: it may be left out.
    let forest = lifeboat::import::from_bytes(
        &read("rfc_binary_array.nozipmap.onnx"),
        "rf.onnx",
        Some(schema()),
    )
    .unwrap();
    assert!(forest.schema.fields[2].optional);
}
