//! The command line as a new user runs it: real binary, temporary files.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

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

const PASSENGERS: &str = "\
PassengerId,Pclass,Sex,Age,SibSp,Parch,Fare,Embarked
1,3,male,22,1,0,7.25,S
2,1,female,38,1,0,71.28,C
3,3,female,abc,0,0,7.9,S
4,1,female,,0,0,,
5,4,x,3,1,0,5,S
6,3,male,30,0
";

#[test]
fn inspect_shows_the_builtin_model() {
    let text = stdout(lifeboat().arg("inspect"));
    assert!(text.contains("Titanic survival (titanic)"), "{text}");
    for field in ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked"] {
        assert!(text.contains(field), "{field} missing from:\n{text}");
    }
    assert!(text.contains("0 = Passenger dies, 1 = Passenger survives"));
    assert!(text.contains("cross-validation"));

    let json: serde_json::Value =
        serde_json::from_str(&stdout(lifeboat().args(["inspect", "--json"]))).unwrap();
    assert_eq!(json["name"], "titanic");
    assert_eq!(json["inputs"].as_array().unwrap().len(), 7);
    assert_eq!(
        json["inputs"][0]["values"][0]["label"]["es"],
        "Primera clase"
    );
    assert_eq!(
        json["target"]["classes"][1]["label"]["en"],
        "Passenger survives"
    );
    assert_eq!(json["provenance"]["origin"]["rows"], 891);
}

#[test]
fn predict_scores_good_rows_and_reports_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.csv", PASSENGERS);
    let output = dir.path().join("out.csv");
    let out = lifeboat()
        .arg("predict")
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "some rows were rejected");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(r#"line 4: Age: "abc" is not a number; expected a number from 0 to 100"#),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"line 6: Pclass: "4" is not allowed"#),
        "{stderr}"
    );
    // A short row is rejected, not scored with empty cells.
    assert!(
        stderr.contains("line 7: the row has 5 cells but the header names 8 columns"),
        "{stderr}"
    );
    assert!(
        stderr.contains("6 rows: 3 predicted, 3 rejected"),
        "{stderr}"
    );
    assert!(stderr.contains("copied through): PassengerId"), "{stderr}");

    let scored = std::fs::read_to_string(&output).unwrap();
    let mut lines = scored.lines();
    assert_eq!(
        lines.next().unwrap(),
        "PassengerId,Pclass,Sex,Age,SibSp,Parch,Fare,Embarked,prediction,label,probability_0,probability_1"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0][..8],
        ["1", "3", "male", "22", "1", "0", "7.25", "S"]
    );
    assert_eq!((rows[0][8], rows[0][9]), ("0", "Passenger dies"));
    assert_eq!((rows[1][8], rows[1][9]), ("1", "Passenger survives"));
    for row in &rows {
        let p0: f64 = row[10].parse().unwrap();
        let p1: f64 = row[11].parse().unwrap();
        assert!((p0 + p1 - 1.0).abs() < 1e-12);
    }
}

#[test]
fn predict_explains_with_contributions_that_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.csv",
        "Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\n1,female,29,0,0,80,S\n",
    );
    let text = stdout(
        lifeboat()
            .args(["predict", "--explain", "--lang", "es", "--input"])
            .arg(&input),
    );
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    assert_eq!(row[col("label")], "El pasajero sobrevive");
    let base: f64 = row[col("base")].parse().unwrap();
    let sum: f64 = header
        .iter()
        .zip(&row)
        .filter(|(h, _)| h.starts_with("contribution_"))
        .map(|(_, v)| v.parse::<f64>().unwrap())
        .sum();
    let p1: f64 = row[col("probability_1")].parse().unwrap();
    // The explained score is in log-odds (logistic) or probability (forests);
    // either way base + contributions reproduces the prediction.
    let score = base + sum;
    let logistic = 1.0 / (1.0 + (-score).exp());
    assert!(
        (logistic - p1).abs() < 1e-9 || (score - p1).abs() < 1e-9,
        "base {base} + {sum} vs p {p1}"
    );
}

#[test]
fn strict_stops_at_the_first_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.csv", PASSENGERS);
    let out = lifeboat()
        .args(["predict", "--strict", "--input"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 4: Age: \"abc\" is not a number") && stderr.contains("strict"),
        "{stderr}"
    );
}

#[test]
fn predict_errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let missing = write(dir.path(), "m.csv", "Age,Fare\n3,4\n");
    let out = lifeboat()
        .args(["predict", "--input"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(r#"the required columns "Pclass", "Sex", "SibSp", "Parch" are missing"#),
        "{stderr}"
    );

    let not_a_model = write(dir.path(), "model.lifeboat", "hello");
    let out = lifeboat()
        .args(["predict", "--input"])
        .arg(&missing)
        .arg("--model")
        .arg(&not_a_model)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a lifeboat model file"));

    let out = lifeboat()
        .args(["inspect", "builtin:nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the built-in models are: titanic"));
}

#[test]
fn a_truncated_model_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let json = stdout(lifeboat().args(["inspect", "--json"]));
    assert!(json.contains("titanic"));
    let model = dir.path().join("copy.lifeboat");
    // Train a small model, then cut it short.
    let data = write(dir.path(), "d.csv", &synthetic_csv(200));
    stdout(
        lifeboat()
            .args(["train", "--learner", "logistic", "--target", "y", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&model),
    );
    let bytes = std::fs::read(&model).unwrap();
    std::fs::write(&model, &bytes[..bytes.len() - 10]).unwrap();
    let out = lifeboat().arg("inspect").arg(&model).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("truncated"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A small table with a numeric, an integer, a category and a free-text column.
fn synthetic_csv(n: usize) -> String {
    let mut s = String::from("id,x,k,color,note,y\n");
    for i in 0..n {
        let x = (i * 37 % 101) as f64 / 10.0;
        let color = ["red", "green", "blue"][i % 3];
        let y = u8::from(x + if color == "red" { 3.0 } else { 0.0 } > 6.0);
        s.push_str(&format!("{},{x},{},{color},note {i},{y}\n", i + 1, i % 4));
    }
    s
}

#[test]
fn train_drafts_a_schema_and_the_model_works() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.csv", &synthetic_csv(300));
    let model = dir.path().join("m.lifeboat");
    let out = lifeboat()
        .args([
            "train",
            "--learner",
            "logistic",
            "--target",
            "y",
            "--folds",
            "3",
            "--data",
        ])
        .arg(&data)
        .arg("--out")
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("300 rows, 3-fold stratified cross-validation"),
        "{text}"
    );
    assert!(text.contains("wrote"), "{text}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(r#"column "id" left out"#), "{stderr}");
    assert!(stderr.contains(r#"column "note" left out"#), "{stderr}");

    // The drafted schema is valid and can be edited and used again.
    let draft = std::fs::read_to_string(dir.path().join("m.schema.toml")).unwrap();
    let schema = lifeboat::schema::Schema::from_toml(&draft).unwrap();
    assert_eq!(
        schema.field_names().collect::<Vec<_>>(),
        ["x", "k", "color"]
    );
    let edited = write(
        dir.path(),
        "s.toml",
        &draft.replace(
            "label = \"color\"",
            "label = { en = \"Colour\", es = \"Color\" }",
        ),
    );
    stdout(
        lifeboat()
            .args(["train", "--learner", "logistic", "--target", "y", "--data"])
            .arg(&data)
            .arg("--schema")
            .arg(&edited)
            .arg("--out")
            .arg(&model),
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(lifeboat().arg("inspect").arg(&model).arg("--json"))).unwrap();
    assert_eq!(json["inputs"][2]["label"]["es"], "Color");

    let input = write(dir.path(), "in.csv", "x,k,color\n9.5,1,red\n0.5,2,blue\n");
    let scored = stdout(
        lifeboat()
            .arg("predict")
            .arg("--model")
            .arg(&model)
            .arg("--input")
            .arg(&input),
    );
    let rows: Vec<&str> = scored.lines().collect();
    assert!(rows[1].starts_with("9.5,1,red,1,"), "{scored}");
    assert!(rows[2].starts_with("0.5,2,blue,0,"), "{scored}");
}

#[test]
fn a_file_of_semicolons_and_decimal_commas_works_as_its_comma_twin() {
    // As a spreadsheet set to Spanish, French or German saves a CSV file.
    let dir = tempfile::tempdir().unwrap();
    let commas = synthetic_csv(120).replace("note 7", "\"note 7, with a comma\"");
    let semicolons: String = commas
        .lines()
        .map(|line| {
            let mut cells = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(line.as_bytes())
                .into_records()
                .next()
                .unwrap()
                .unwrap()
                .iter()
                .map(str::to_string)
                .collect::<Vec<_>>();
            cells[1] = cells[1].replace('.', ",");
            cells.join(";") + "\r\n"
        })
        .collect();
    assert!(semicolons.contains(";note 7, with a comma;"));
    let twins = [("c", commas.as_str()), ("s", semicolons.as_str())];
    let mut reports = Vec::new();
    for (name, text) in twins {
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        let data = write(&sub, "d.csv", text);
        let out = lifeboat()
            .args(["train", "--learner", "logistic", "--target", "y", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(sub.join("m.lifeboat"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        assert_eq!(
            stderr.contains("separated by semicolons"),
            name == "s",
            "{stderr}"
        );
        let draft = std::fs::read_to_string(sub.join("m.schema.toml")).unwrap();
        // Less the file's size, which its time of writing changes.
        let report: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|line| {
                line.split(" (")
                    .next()
                    .unwrap_or_default()
                    .replace(sub.to_str().unwrap(), "DIR")
            })
            .collect();
        reports.push((report, draft));
    }
    // The same schema drafted, the same cross-validation: the same data.
    assert_eq!(reports[0], reports[1]);
    assert!(
        reports[0].1.contains("name = \"x\"\nkind = \"number\""),
        "{}",
        reports[0].1
    );

    // Scored, the file comes back in its own separator and decimal mark.
    let model = dir.path().join("c").join("m.lifeboat");
    let score = |input: &Path| {
        let out = lifeboat()
            .arg("predict")
            .arg("--model")
            .arg(&model)
            .arg("--input")
            .arg(input)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (from_commas, _) = score(&dir.path().join("c").join("d.csv"));
    let (from_semicolons, note) = score(&dir.path().join("s").join("d.csv"));
    assert!(
        note.contains("the output is written the same way"),
        "{note}"
    );
    let parse = |text: &str, delimiter: u8| -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    };
    let (a, b) = (parse(&from_commas, b','), parse(&from_semicolons, b';'));
    assert_eq!(a.len(), 120);
    // Cells of text keep their commas; numbers change their mark only.
    let unmark = |rows: Vec<Vec<String>>| -> Vec<Vec<String>> {
        rows.into_iter()
            .map(|row| row.into_iter().map(|c| c.replace(',', ".")).collect())
            .collect()
    };
    assert_eq!(unmark(a), unmark(b));
    assert!(
        from_semicolons.contains(";\"note 7, with a comma\";"),
        "{from_semicolons}"
    );
    let probability = from_semicolons
        .lines()
        .nth(1)
        .unwrap()
        .rsplit(';')
        .next()
        .unwrap();
    assert!(probability.starts_with("0,"), "{from_semicolons}");
}

#[test]
fn a_spanish_excel_file_in_windows_1252_trains_and_scores() {
    // Excel on Windows set to Spanish saves "CSV (delimitado por comas)" in
    // Windows-1252, with semicolons and decimal commas.
    let dir = tempfile::tempdir().unwrap();
    let mut data = b"Ciudad;Edad;Sobrevive\r\n".to_vec();
    for i in 0..80 {
        let city: &[u8] = [&b"M\xe1laga"[..], b"C\xe1diz", b"Le\xf3n"][i % 3];
        let age = format!("{},5", 20 + i % 50);
        let survives: &[u8] = if (i % 3 == 0) ^ (i % 7 == 0) {
            b"s\xed"
        } else {
            b"no"
        };
        data.extend_from_slice(&[city, b";", age.as_bytes(), b";", survives, b"\r\n"].concat());
    }
    let file = dir.path().join("pasajeros.csv");
    std::fs::write(&file, &data).unwrap();
    let model = dir.path().join("m.lifeboat");
    let out = lifeboat()
        .args([
            "train",
            "--learner",
            "logistic",
            "--target",
            "Sobrevive",
            "--data",
        ])
        .arg(&file)
        .arg("--out")
        .arg(&model)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("read as Windows-1252"), "{stderr}");
    assert!(stderr.contains("separated by semicolons"), "{stderr}");
    let draft = std::fs::read_to_string(dir.path().join("m.schema.toml")).unwrap();
    for want in [
        "{ value = \"Málaga\", label = \"Málaga\" }",
        "{ value = \"León\", label = \"León\" }",
        "{ value = \"sí\", label = \"Sobrevive = sí\" }",
        "help = \"Seen in the data: 20.5 to 69.5.\"",
    ] {
        assert!(draft.contains(want), "{want}: {draft}");
    }
    let out = lifeboat()
        .arg("predict")
        .arg("--model")
        .arg(&model)
        .arg("--input")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("the output is UTF-8"), "{stderr}");
    let scored = String::from_utf8(out.stdout).unwrap();
    let row = scored.lines().nth(1).unwrap();
    assert!(row.starts_with("Málaga;20,5;no;"), "{row}");
    assert_eq!(scored.lines().count(), 81);
}

#[test]
fn train_errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.csv", &synthetic_csv(50));
    let out = dir.path().join("m.lifeboat");
    let run = |args: &[&str]| {
        let o = lifeboat()
            .arg("train")
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&out)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    assert!(run(&["--target", "nope"]).contains("the columns are: id, x, k, color, note, y"));
    let bad = write(
        dir.path(),
        "bad.toml",
        "name = \"m\"\n[target]\nname = \"y\"\nclasses=[0,1]\n[[fields]]\nname=\"x\"\nkind=\"numbr\"\n",
    );
    let err = run(&["--target", "y", "--schema", bad.to_str().unwrap()]);
    assert!(err.contains("unknown kind \"numbr\""), "{err}");
    let good = write(
        dir.path(),
        "good.toml",
        "name = \"m\"\n[target]\nname = \"y\"\nclasses=[0,1]\n[[fields]]\nname=\"x\"\nkind=\"number\"\n",
    );
    let err = run(&["--target", "x", "--schema", good.to_str().unwrap()]);
    assert!(
        err.contains("the schema's target is \"y\" but --target is \"x\""),
        "{err}"
    );
    let err = run(&["--target", "y", "--learner", "magic"]);
    assert!(err.contains("invalid value 'magic'"), "{err}");

    // A free-text target is not a number, and no schema was given: say what it is.
    let err = run(&["--target", "note"]);
    assert!(
        err.contains(
            "the target \"note\" has 50 different values in 50 rows: too many to be classes \
             (at most 20); `lifeboat train` trains classifiers, so choose a column of classes \
             such as k, color or y"
        ),
        "{err}"
    );
    assert!(!err.contains("regression"), "{err}");
    // So is a number with a value per row.
    let err = run(&["--target", "x"]);
    assert!(err.contains("the target \"x\" has"), "{err}");
    // A user's schema whose target is a value is named as the schema's.
    let value = write(
        dir.path(),
        "value.toml",
        "name = \"m\"\n[target]\nname = \"x\"\nkind = \"value\"\n[[fields]]\nname=\"k\"\nkind=\"number\"\n",
    );
    let err = run(&["--target", "x", "--schema", value.to_str().unwrap()]);
    assert!(
        err.contains("the schema's target \"x\" is of kind \"value\""),
        "{err}"
    );
    // Nothing was drafted for targets that cannot be trained.
    assert!(!dir.path().join("m.schema.toml").exists());
}

#[test]
fn schema_refuses_a_text_target_that_is_not_classes() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.csv", &synthetic_csv(60));
    let out = lifeboat()
        .args(["schema", "--target", "note", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the target \"note\" has 60 different values in 60 rows")
            && err.contains("it is text, so it cannot be a number to predict either"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    // A number with many values is still drafted as a value to predict.
    let text = stdout(
        lifeboat()
            .args(["schema", "--target", "x", "--data"])
            .arg(&data),
    );
    assert!(text.contains("kind = \"value\""), "{text}");
}

#[test]
fn train_checks_out_before_drafting_and_keeps_a_draft_when_training_fails() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.csv", &synthetic_csv(60));
    let train = |data: &Path, out: &Path| {
        let o = lifeboat()
            .args(["train", "--target", "y", "--data"])
            .arg(data)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // --out names a directory: refused before a schema is drafted.
    let adir = dir.path().join("adir");
    std::fs::create_dir(&adir).unwrap();
    let err = train(&data, &adir);
    assert!(err.contains("is a directory, not a file name"), "{err}");
    assert!(err.contains("adir/model.lifeboat"), "{err}");
    assert!(!err.contains("drafted"), "{err}");
    assert!(!dir.path().join("adir.schema.toml").exists());
    // --out in a directory that does not exist.
    let err = train(&data, &dir.path().join("nowhere/m.lifeboat"));
    assert!(err.contains("does not exist"), "{err}");
    assert!(!dir.path().join("nowhere").exists());
    // Training fails on the data: the draft is kept, and the error says where.
    let tiny = write(dir.path(), "tiny.csv", "x,y\n1,0\n2,1\n3,0\n");
    let err = train(&tiny, &dir.path().join("t.lifeboat"));
    assert!(
        err.contains("cannot cross-validate with --folds 5: cross-validation needs from 2 folds to one per row, and there are 3 rows to train on: 2 rows of class \"0\", 1 row of class \"1\""),
        "{err}"
    );
    let draft = dir.path().join("t.schema.toml");
    assert!(
        err.contains(&format!(
            "the schema drafted from the data is kept in {}",
            draft.display()
        )),
        "{err}"
    );
    lifeboat::schema::Schema::from_toml(&std::fs::read_to_string(&draft).unwrap()).unwrap();
    assert!(!dir.path().join("t.lifeboat").exists());
}

#[test]
fn train_warns_of_a_class_without_rows() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.csv", &synthetic_csv(60));
    let schema = write(
        dir.path(),
        "s.toml",
        "name = \"m\"\n[target]\nname = \"y\"\nclasses = [\"0\", \"1\", \"7\"]\n\
         [[fields]]\nname = \"x\"\nkind = \"number\"\n",
    );
    let out = lifeboat()
        .args([
            "train",
            "--learner",
            "logistic",
            "--folds",
            "3",
            "--target",
            "y",
        ])
        .arg("--data")
        .arg(&data)
        .arg("--schema")
        .arg(&schema)
        .arg("--out")
        .arg(dir.path().join("m.lifeboat"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "warning: the class \"7\" of \"y\" has no rows in the data, so the model will give \
             it a probability near 0 for every input"
        ),
        "{stderr}"
    );
    // Classes that have rows are not named.
    assert!(!stderr.contains("\"0\""), "{stderr}");
}

#[test]
fn schema_prints_an_editable_draft() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.csv", &synthetic_csv(60));
    let text = stdout(
        lifeboat()
            .args(["schema", "--target", "y", "--name", "demo", "--data"])
            .arg(&data),
    );
    let schema = lifeboat::schema::Schema::from_toml(&text).unwrap();
    assert_eq!(schema.name, "demo");
}

/// Runs lifeboat with `args` and `--data`/`--input` `file` as the command
/// takes it, expecting exit code `code`; gives stderr (and stdout).
fn run_on(command: &str, file: &Path, code: i32) -> (String, String) {
    let dir = file.parent().unwrap();
    let mut cmd = lifeboat();
    cmd.arg(command);
    match command {
        "predict" => cmd.arg("--input").arg(file),
        "schema" => cmd.args(["--target", "y", "--data"]).arg(file),
        _ => cmd
            .args([
                "--target",
                "y",
                "--learner",
                "logistic",
                "--folds",
                "2",
                "--data",
            ])
            .arg(file)
            .arg("--out")
            .arg(dir.join("m.lifeboat")),
    };
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{command}: {stderr}");
    (stderr, String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn a_quote_that_never_closes_is_an_error_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    // Three rows after the quote would vanish into its cell.
    let passengers = write(
        dir.path(),
        "p.csv",
        "Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\n1,female,29,0,0,80,S\n\
         3,male,22,1,0,7.25,\"oops\n1,female,38,1,0,71.3,C\n2,male,30,0,0,13,S\n3,male,4,1,1,9,Q\n",
    );
    let (stderr, stdout) = run_on("predict", &passengers, 2);
    assert!(
        stderr.contains("line 3: a quote (\") opens a cell that never closes"),
        "{stderr}"
    );
    assert_eq!(
        stdout.lines().count(),
        2,
        "the header and the row before: {stdout}"
    );
    let mut training = synthetic_csv(40);
    training.push_str("41,1.5,2,\"red,note,1\n42,2.5,1,blue,note,0\n");
    let training = write(dir.path(), "t.csv", &training);
    for command in ["train", "schema"] {
        let (stderr, _) = run_on(command, &training, 2);
        assert!(
            stderr.contains("line 42: a quote (\") opens a cell that never closes"),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn a_quote_still_open_16_mb_later_stops_every_command_without_reading_on() {
    let dir = tempfile::tempdir().unwrap();
    // 20 MB after the quote: read to the end, the whole file would become one cell.
    let mut csv = String::from(
        "Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\n1,female,29,0,0,80,S\n3,male,22,1,0,7.25,\"oops\n",
    );
    let row = "1,female,38,1,0,71.3,C\n";
    csv.push_str(&row.repeat((20 << 20) / row.len()));
    let passengers = write(dir.path(), "p.csv", &csv);
    let (stderr, stdout) = run_on("predict", &passengers, 2);
    assert!(
        stderr.contains("line 3: a quote (\") opens a cell that is still open 16 MB later"),
        "{stderr}"
    );
    assert_eq!(stdout.lines().count(), 2, "the header and the row before");
    let mut training = synthetic_csv(40);
    training.push_str("41,1.5,2,\"red,note,1\n");
    let row = "42,2.5,1,blue,note,0\n";
    training.push_str(&row.repeat((20 << 20) / row.len()));
    let training = write(dir.path(), "t.csv", &training);
    for command in ["train", "schema"] {
        let (stderr, _) = run_on(command, &training, 2);
        assert!(
            stderr.contains("line 42: a quote (\") opens a cell that is still open 16 MB later"),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn a_utf16_file_is_named_as_such_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let text = "\u{feff}Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\r\n1,female,29,0,0,80,S\r\n";
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let file = dir.path().join("unicode.csv");
    std::fs::write(&file, utf16).unwrap();
    for command in ["predict", "train", "schema"] {
        let (stderr, _) = run_on(command, &file, 2);
        assert!(
            stderr.contains(
                "the file looks like UTF-16 text (as Excel's \"Unicode Text\" saves it), not UTF-8"
            ),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn bad_rows_are_skipped_in_training_and_drafting_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = synthetic_csv(60).into_bytes();
    // A short row, a long one, one in Windows-1252, one with a number that is not one.
    csv.extend_from_slice(b"61,1.5,2\n62,1.5,2,red,note,1,extra\n63,1.5,2,r\xe9d,note,1\n");
    csv.extend_from_slice(b"64,abc,2,red,note,1\n");
    let data = dir.path().join("d.csv");
    std::fs::write(&data, &csv).unwrap();
    let (stderr, toml) = run_on("schema", &data, 0);
    for want in [
        "line 62: the row has 3 cells but the header names 6 columns",
        "line 63: the row has 7 cells but the header names 6 columns",
        "note: the file is not all UTF-8 text, so the bytes that are not were read as Windows-1252",
        "note: column \"x\" is drafted from its numbers, but 1 cell of 62 is not a number within ±1e150 (line 65: \"abc\")",
    ] {
        assert!(stderr.contains(want), "{want}: {stderr}");
    }
    // The short row did not make the columns it lacks optional; x is a number.
    let schema = lifeboat::schema::Schema::from_toml(&toml).unwrap();
    assert!(schema.fields.iter().all(|f| !f.optional), "{toml}");
    assert!(
        toml.contains("{ value = \"réd\", label = \"réd\" }"),
        "{toml}"
    );
    let x = &schema.fields[schema.field_index("x").unwrap()];
    assert!(
        matches!(x.kind, lifeboat::schema::FieldKind::Number(_)),
        "{toml}"
    );

    let (stderr, stdout) = run_on("train", &data, 0);
    assert!(stderr.contains("skipped 3 row(s)"), "{stderr}");
    for want in [
        "  line 62: the row has 3 cells but the header names 6 columns",
        "  line 63: the row has 7 cells but the header names 6 columns",
        "note: the file is not all UTF-8 text",
        "  line 65: x: \"abc\" is not a number",
    ] {
        assert!(stderr.contains(want), "{want}: {stderr}");
    }
    assert!(stdout.contains("61 rows, 2-fold"), "{stdout}");
}

#[test]
fn headers_that_cannot_be_used_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("", "the file is empty"),
        ("y\n0\n1\n", "the header names only the target column \"y\""),
        (
            "id,x,k,color,note,x\n1,2,3,red,n,4\n",
            "the header names \"x\" twice (columns 2 and 6)",
        ),
    ];
    for (text, want) in cases {
        let file = write(dir.path(), "h.csv", text);
        for command in ["train", "schema"] {
            let (stderr, _) = run_on(command, &file, 2);
            assert!(stderr.contains(want), "{command} {text:?}: {stderr}");
        }
    }
    let file = write(dir.path(), "h.csv", "");
    let (stderr, _) = run_on("predict", &file, 2);
    assert!(stderr.contains("the file is empty"), "{stderr}");
    let hints = [
        (
            "Pclass\tSex\tAge\tSibSp\tParch\n1\tmale\t3\t0\t0\n",
            "the header looks separated by a tab; lifeboat reads files separated by commas, \
             or by semicolons when the first line has no comma",
        ),
        (
            "pclass,Sex,Age,SibSp,Parch\n1,male,3,0,0\n",
            "the header has \"pclass\": did you mean \"Pclass\"? (names are case-sensitive)",
        ),
    ];
    for (text, want) in hints {
        let file = write(dir.path(), "h.csv", text);
        let (stderr, _) = run_on("predict", &file, 2);
        assert!(stderr.contains(want), "{stderr}");
    }
}

#[test]
fn help_teaches() {
    let text = stdout(lifeboat().args(["train", "--help"]));
    assert!(
        text.contains("cross-validation") && text.contains("Example:"),
        "{text}"
    );
    let text = stdout(lifeboat().args(["predict", "--help"]));
    assert!(
        text.contains("streamed") && text.contains("exit code is 1"),
        "{text}"
    );
}

const TUTORIAL_PICKLE: &str = "tests/fixtures/sklearn/tutorial_rf_array.p5.pkl";
const TUTORIAL_SCHEMA: &str = "examples/tutorial/titanic_tutorial.toml";

#[test]
fn a_scikit_learn_pickle_serves_with_a_schema() {
    let dir = tempfile::tempdir().unwrap();
    // The tutorial codes Sex as 0/1 and Embarked as 0/1/2.
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
                TUTORIAL_PICKLE,
                "--schema",
                TUTORIAL_SCHEMA,
                "--input",
            ])
            .arg(&input),
    );
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[1].contains(",1,Passenger survives,"), "{text}");
    assert!(rows[2].contains(",0,Passenger dies,"), "{text}");

    // Without a schema the bare-array model has inputs x0..x6.
    let json: serde_json::Value = serde_json::from_str(&stdout(lifeboat().args([
        "inspect",
        TUTORIAL_PICKLE,
        "--json",
    ])))
    .unwrap();
    assert_eq!(json["inputs"][6]["name"], "x6");
    assert_eq!(json["provenance"]["origin"]["kind"], "imported");

    // convert writes a native file that predicts the same.
    let converted = dir.path().join("t.lifeboat");
    stdout(
        lifeboat()
            .args([
                "convert",
                TUTORIAL_PICKLE,
                "--schema",
                TUTORIAL_SCHEMA,
                "--out",
            ])
            .arg(&converted),
    );
    let again = stdout(
        lifeboat()
            .arg("predict")
            .arg("--model")
            .arg(&converted)
            .arg("--input")
            .arg(&input),
    );
    assert_eq!(again, text);

    // A schema only renames imports; a native model keeps its own.
    let out = lifeboat()
        .args(["inspect", "--schema", TUTORIAL_SCHEMA])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--schema applies to imported models"));
}

#[test]
fn a_hostile_pickle_is_refused_by_every_command() {
    let hostile = "tests/fixtures/hostile/os_system.p4.pkl";
    assert!(Path::new(hostile).exists(), "fixture {hostile} is missing");
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.csv", "x0\n1\n");
    let out_file = dir.path().join("h.lifeboat");
    let runs: [Vec<&str>; 3] = [
        vec!["inspect", hostile],
        vec![
            "predict",
            "--model",
            hostile,
            "--input",
            input.to_str().unwrap(),
        ],
        vec!["convert", hostile, "--out", out_file.to_str().unwrap()],
    ];
    for args in runs {
        let out = lifeboat().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("`posix.system`") && stderr.contains("Nothing was run"),
            "{stderr}"
        );
    }
    assert!(!out_file.exists());
}

#[test]
fn train_and_inspect_show_the_same_cross_validation_table() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("x,color,deck\n");
    for i in 0..90 {
        let x = (i * 37 % 101) as f64 / 10.0;
        let color = ["red", "green", "blue"][i % 3];
        let deck = ["lower", "middle", "upper"][(x as usize + i % 2) % 3];
        csv.push_str(&format!("{x},{color},{deck}\n"));
    }
    let data = write(dir.path(), "d.csv", &csv);
    let model = dir.path().join("m.lifeboat");
    let trained = stdout(
        lifeboat()
            .args(["train", "--folds", "3", "--target", "deck", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&model),
    );
    let inspected = stdout(lifeboat().arg("inspect").arg(&model));
    let table = |text: &str| -> Vec<String> {
        text.lines()
            .skip_while(|l| !l.contains("confusion"))
            .take_while(|l| !l.is_empty())
            .map(String::from)
            .collect()
    };
    let from_train = table(&trained);
    assert_eq!(from_train.len(), 5, "{trained}");
    assert_eq!(from_train, table(&inspected), "{trained}\n{inspected}");
    assert!(
        from_train[0].ends_with("confusion (actual: predicted lower, middle, upper)"),
        "{trained}"
    );
    assert!(
        from_train[1..].iter().all(|l| l.contains(" lower: ")
            && l.contains(" | middle: ")
            && l.contains(" | upper: ")),
        "{trained}"
    );
}
