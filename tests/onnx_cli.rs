//! ONNX models through the command line: `inspect`, `predict` (with
//! explanations) and `convert` take an `.onnx` file as they take a pickle,
//! and an operator lifeboat cannot run is named by every command.
#![cfg(feature = "onnx")]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

const PIPELINE: &str = "tests/fixtures/onnx/pipe_lr.zipmap.onnx";
const BARE_FOREST: &str = "tests/fixtures/onnx/rfc_binary_array.nozipmap.onnx";
const UNSUPPORTED: &str = "tests/fixtures/onnx/svc_unsupported.onnx";
const TUTORIAL_SCHEMA: &str = "examples/tutorial/titanic_tutorial.toml";

fn lifeboat() -> Command {
    let mut cmd = Command::cargo_bin("lifeboat").expect("the binary is built");
    cmd.env_remove("LIFEBOAT_MODEL");
    cmd
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn stdout(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn inspect_shows_what_the_graph_takes() {
    let json: serde_json::Value =
        serde_json::from_str(&stdout(lifeboat().args(["inspect", PIPELINE, "--json"]))).unwrap();
    let names: Vec<&str> = json["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Age", "Fare", "SibSp", "Parch", "Sex", "Embarked"]);
    let sex = &json["inputs"][4];
    assert_eq!(sex["kind"], "category");
    assert_eq!(sex["open"], true);
    assert_eq!(sex["values"][0]["value"], "female");
    // The string imputer reads "" as missing, so Embarked may be left out;
    // the numeric imputer makes Age optional.
    assert_eq!(json["inputs"][5]["optional"], true);
    assert_eq!(json["inputs"][0]["optional"], true);
    assert_eq!(json["provenance"]["origin"]["format"], "onnx");
    assert_eq!(json["provenance"]["origin"]["producer"], "skl2onnx 1.20.0");
    assert_eq!(json["estimator"]["family"], "ONNX graph");
    assert_eq!(json["estimator"]["explanation_units"], "probability");
    // Explanations compare with a stored baseline: here every field is
    // imputed by the graph, so the baseline leaves them all missing (the
    // graph's medians and most frequent values).
    let baseline = &json["estimator"]["explanation_baseline"];
    assert_eq!(baseline["Age"], "missing");
    assert_eq!(baseline["Sex"], "missing");

    let text = stdout(lifeboat().args(["inspect", PIPELINE]));
    assert!(
        text.contains("imported  from pipe_lr.zipmap.onnx (onnx, made by skl2onnx"),
        "{text}"
    );
    assert!(text.contains("LinearClassifier"), "{text}");
    assert!(
        text.contains("explains  each field's share of the change from the answer for the baseline input Age=missing"),
        "{text}"
    );
}

#[test]
fn predict_explains_and_convert_keeps_the_answers() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.csv",
        "Age,Fare,SibSp,Parch,Sex,Embarked\n29,80,0,0,female,C\n,7.25,1,0,male,\n40,13,0,1,other,X\n",
    );
    let text = stdout(
        lifeboat()
            .args(["predict", "--explain", "--model", PIPELINE, "--input"])
            .arg(&input),
    );
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3, "{text}");
    for row in &rows {
        let p1: f64 = row[col("probability_1")].parse().unwrap();
        let base: f64 = row[col("base")].parse().unwrap();
        let total: f64 = ["Age", "Fare", "SibSp", "Parch", "Sex", "Embarked"]
            .iter()
            .map(|f| {
                row[col(&format!("contribution_{f}"))]
                    .parse::<f64>()
                    .unwrap()
            })
            .sum();
        assert!((base + total - p1).abs() < 1e-9, "{row:?}");
    }
    assert_eq!(rows[0][col("prediction")], "1", "{text}");

    let converted = dir.path().join("m.lifeboat");
    let said = stdout(
        lifeboat()
            .args(["convert", PIPELINE, "--out"])
            .arg(&converted),
    );
    assert!(
        said.contains("inputs: Age, Fare, SibSp, Parch, Sex, Embarked"),
        "{said}"
    );
    let again = stdout(
        lifeboat()
            .args(["predict", "--explain", "--model"])
            .arg(&converted)
            .arg("--input")
            .arg(&input),
    );
    assert_eq!(again, text);
}

#[test]
fn a_bare_tensor_takes_a_schema_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.csv",
        "Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\n1,1,29,0,0,80,0\n3,0,22,1,0,7.25,0\n",
    );
    let text = stdout(
        lifeboat()
            .args([
                "predict",
                "--model",
                BARE_FOREST,
                "--schema",
                TUTORIAL_SCHEMA,
                "--input",
            ])
            .arg(&input),
    );
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[1].contains(",1,Passenger survives,"), "{text}");
    assert!(rows[2].contains(",0,Passenger dies,"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(lifeboat().args(["inspect", BARE_FOREST, "--json"]))).unwrap();
    assert_eq!(json["inputs"][6]["name"], "x6");
}

#[test]
fn an_unsupported_operator_is_named_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.csv", "x0\n1\n");
    let out_file = dir.path().join("u.lifeboat");
    let runs: [Vec<&str>; 3] = [
        vec!["inspect", UNSUPPORTED],
        vec![
            "predict",
            "--model",
            UNSUPPORTED,
            "--input",
            input.to_str().unwrap(),
        ],
        vec!["convert", UNSUPPORTED, "--out", out_file.to_str().unwrap()],
    ];
    for args in runs {
        let out = lifeboat().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("ai.onnx.ml.SVMClassifier"), "{stderr}");
    }
    assert!(!out_file.exists());
}
