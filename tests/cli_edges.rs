//! The command line at its edges: closed pipes, a full disk, an output that
//! is the input, flags out of range, damaged files. Each must end with a
//! message that says what to do, never a panic or lost work.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use assert_cmd::Command;

fn lifeboat() -> Command {
    let mut cmd = Command::cargo_bin("lifeboat").expect("the binary is built");
    cmd.env_remove("LIFEBOAT_MODEL");
    cmd
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Exit code and standard error of a run expected to fail.
fn failure(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "it succeeded");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

fn rows(n: usize) -> String {
    let mut s = String::from("x,color,y\n");
    for i in 0..n {
        let x = (i * 37 % 101) as f64 / 10.0;
        let color = ["red", "green", "blue"][i % 3];
        let y = u8::from(x + if color == "red" { 3.0 } else { 0.0 } > 6.0);
        s.push_str(&format!("{x},{color},{y}\n"));
    }
    s
}

#[test]
fn a_full_disk_on_standard_output_is_an_error_not_a_panic() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full on this system");
        return;
    }
    for args in [&["inspect"][..], &["inspect", "--json"]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("lifeboat"))
            .args(args)
            .env_remove("LIFEBOAT_MODEL")
            .stdout(full)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            stderr.contains("cannot write to standard output"),
            "{stderr}"
        );
    }
}

#[test]
fn predict_to_a_full_disk_is_an_error() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full on this system");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "p.csv", passengers(2000));
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("lifeboat"))
        .args(["predict", "--input"])
        .arg(&data)
        .env_remove("LIFEBOAT_MODEL")
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output: No space left on device"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `n` rows the built-in model takes.
fn passengers(n: usize) -> String {
    let mut s = String::from("Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\n");
    for i in 0..n {
        let sex = ["male", "female"][i % 2];
        s.push_str(&format!(
            "{},{sex},{},0,0,{}.25,S\n",
            1 + i % 3,
            1 + i % 70,
            i % 90
        ));
    }
    s
}

#[test]
fn predict_into_a_reader_that_goes_away_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    // Larger than any buffer on the way, and on more than one thread.
    let data = write(dir.path(), "p.csv", passengers(50_000));
    for threads in ["1", "2"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("lifeboat"))
            .args(["predict", "--threads", threads, "--input"])
            .arg(&data)
            .env_remove("LIFEBOAT_MODEL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // `| head -1`: one line read, then the pipe closed.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 64];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
        assert!(first.starts_with(b"Pclass,Sex"));
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{:?}: {stderr}", out.status);
        assert!(!stderr.contains("pipe"), "{stderr}");
        assert!(!stderr.contains("lifeboat:"), "{stderr}");
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    let bin = assert_cmd::cargo::cargo_bin("lifeboat");
    // The reading end is closed before lifeboat writes its first line.
    let mut child = std::process::Command::new(bin)
        .arg("inspect")
        .env_remove("LIFEBOAT_MODEL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn an_output_that_is_the_input_is_refused_and_the_input_kept() {
    let dir = tempfile::tempdir().unwrap();
    let text = rows(60);
    let data = write(dir.path(), "d.csv", &text);
    // The same file under another spelling.
    let again = dir.path().join(".").join("d.csv");

    let (_, stderr) = failure(
        lifeboat()
            .args(["predict", "--input"])
            .arg(&data)
            .arg("--output")
            .arg(&again),
    );
    assert!(stderr.contains("is the same file as --input"), "{stderr}");

    let (_, stderr) = failure(
        lifeboat()
            .args(["train", "--target", "y", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&again),
    );
    assert!(stderr.contains("is the same file as --data"), "{stderr}");

    let (_, stderr) = failure(
        lifeboat()
            .args(["schema", "--target", "y", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&again),
    );
    assert!(stderr.contains("is the same file as --data"), "{stderr}");

    assert_eq!(std::fs::read_to_string(&data).unwrap(), text);
}

#[test]
fn training_again_without_schema_keeps_an_edited_draft() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.csv", rows(200));
    let model = dir.path().join("m.lifeboat");
    let train = || {
        let mut cmd = lifeboat();
        cmd.args(["train", "--learner", "logistic", "--folds", "3"])
            .args(["--target", "y", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&model);
        cmd
    };
    train().assert().success();
    // Training again on the same data drafts the same schema: fine.
    train().assert().success();

    let draft = dir.path().join("m.schema.toml");
    let edited = std::fs::read_to_string(&draft).unwrap() + "# my edits\n";
    std::fs::write(&draft, &edited).unwrap();
    let (code, stderr) = failure(&mut train());
    assert_eq!(code, 2);
    assert!(stderr.contains("--schema"), "{stderr}");
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&draft).unwrap(), edited);
}

#[test]
fn flags_out_of_range_are_refused_with_the_range() {
    let (_, stderr) =
        failure(lifeboat().args(["predict", "--input", "x.csv", "--threads", "100000"]));
    assert!(stderr.contains("1..=1024"), "{stderr}");
    let (_, stderr) = failure(lifeboat().args(["predict", "--input", "x.csv", "--threads", "-1"]));
    assert!(stderr.contains("1..=1024"), "{stderr}");
    let (_, stderr) = failure(lifeboat().args(["serve", "--body-limit", "0"]));
    assert!(stderr.contains("would refuse every request"), "{stderr}");
    let (_, stderr) = failure(lifeboat().args(["serve", "--log", "bogus[["]));
    assert!(stderr.contains("is not a log filter"), "{stderr}");
    let (_, stderr) = failure(lifeboat().args(["serve", "--timeout", "-1"]));
    assert!(stderr.contains("from 0 to 3600"), "{stderr}");
    let (_, stderr) = failure(lifeboat().args([
        "schema", "--data", "d.csv", "--target", "y", "--name", "My Model",
    ]));
    assert!(
        stderr.contains("is not valid; use 1 to 64 letters"),
        "{stderr}"
    );
}

#[test]
fn damaged_and_foreign_files_are_named_for_what_they_are() {
    let dir = tempfile::tempdir().unwrap();

    let bad_toml = write(dir.path(), "bad.toml", "name = \n");
    let data = write(dir.path(), "d.csv", rows(40));
    let (_, stderr) = failure(
        lifeboat()
            .args(["train", "--target", "y", "--data"])
            .arg(&data)
            .arg("--schema")
            .arg(&bad_toml)
            .arg("--out")
            .arg(dir.path().join("m.lifeboat")),
    );
    assert_eq!(
        stderr.matches("TOML parse error").count(),
        1,
        "said more than once:\n{stderr}"
    );

    // pickle.dumps([1, 2], protocol=2)
    let list = write(dir.path(), "list.pkl", b"\x80\x02]q\x00(K\x01K\x02e.");
    let (_, stderr) = failure(lifeboat().arg("inspect").arg(&list));
    assert!(
        stderr.contains("the file holds a list, not a scikit-learn object"),
        "{stderr}"
    );

    let model = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/titanic.lifeboat"
    ))
    .unwrap();
    let cut = write(dir.path(), "cut.lifeboat", &model[..8]);
    let (_, stderr) = failure(lifeboat().arg("inspect").arg(&cut));
    assert!(
        stderr.contains("ends after 8 bytes, inside its"),
        "{stderr}"
    );

    if cfg!(not(feature = "onnx")) {
        let fake = write(dir.path(), "fake.onnx", "abcd\n");
        let (_, stderr) = failure(lifeboat().arg("inspect").arg(&fake));
        assert!(stderr.contains("this is not an ONNX model"), "{stderr}");
    }
}

#[test]
fn healthcheck_says_why_it_failed() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = lifeboat()
        .env_remove("LIFEBOAT_HOST")
        .args(["healthcheck", "--port", &port.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("http://127.0.0.1:{port}/readyz")),
        "{stderr}"
    );
    let (_, stderr) = failure(lifeboat().args(["healthcheck", "--path", "readyz"]));
    assert!(stderr.contains("starts with /"), "{stderr}");
}

#[test]
fn rows_of_a_windows_file_are_reported_on_their_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\r\n\
               3,male,22,1,0,7.25,S\r\n\
               3,xx,22,1,0,7.25,S\r\n\
               \r\n\
               9,female,30,0,0,80,C\r\n";
    let data = write(dir.path(), "windows.csv", csv);
    let out = lifeboat()
        .args(["predict", "--input"])
        .arg(&data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("line 3: Sex"), "{stderr}");
    assert!(stderr.contains("line 5: Pclass"), "{stderr}");
}

#[test]
fn a_bad_value_from_the_environment_names_the_variable() {
    let serve = |var: &str, value: &str| {
        let mut cmd = lifeboat();
        // Should the value ever be taken, the server must not run on.
        cmd.timeout(std::time::Duration::from_secs(20))
            .env(var, value)
            .arg("serve");
        cmd
    };
    for (var, value, says) in [
        (
            "PORT",
            "abc",
            "invalid value 'abc' in environment variable PORT (for --port): invalid digit",
        ),
        (
            "LIFEBOAT_BODY_LIMIT",
            "0",
            "invalid value '0' in environment variable LIFEBOAT_BODY_LIMIT (for --body-limit): \
             a limit of 0 bytes would refuse every request",
        ),
        (
            "LIFEBOAT_TIMEOUT",
            "-1",
            "invalid value '-1' in environment variable LIFEBOAT_TIMEOUT (for --timeout): \
             \"-1\" is not a number of seconds from 0 to 3600",
        ),
        (
            "LIFEBOAT_DEV",
            "maybe",
            "invalid value 'maybe' in environment variable LIFEBOAT_DEV (for --dev): \
             use 1, true, yes or on to turn it on; 0, false, no or off to leave it off",
        ),
    ] {
        let (code, stderr) = failure(&mut serve(var, value));
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
    let (_, stderr) = failure(lifeboat().env("PORT", "abc").arg("healthcheck"));
    assert!(
        stderr.contains("in environment variable PORT (for --port)"),
        "{stderr}"
    );

    // A bad value on the command line keeps clap's message for the flag,
    // whatever the environment holds.
    let (code, stderr) = failure(serve("PORT", "5000").args(["--port", "abc"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("invalid value 'abc' for '--port <PORT>'"),
        "{stderr}"
    );
    assert!(!stderr.contains("environment"), "{stderr}");
    let (_, stderr) = failure(serve("PORT", "abc").args(["--body-limit", "0"]));
    assert!(
        stderr.contains("invalid value '0' for '--body-limit <BODY_LIMIT>'"),
        "{stderr}"
    );
}

#[test]
fn auto_leaves_out_a_learner_that_cannot_use_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("x,color,y\n");
    for i in 0..60 {
        // The largest floats on both sides: too far apart to standardize.
        let x = match i {
            0..3 => -f64::MAX,
            3 => f64::MAX,
            _ => (i * 37 % 101) as f64 / 10.0,
        };
        let color = ["red", "green", "blue"][i % 3];
        csv.push_str(&format!("{x:e},{color},{}\n", i % 2));
    }
    let data = write(dir.path(), "d.csv", csv);
    let schema = write(
        dir.path(),
        "s.toml",
        r#"name = "m"
title = "m"

[target]
name = "y"
label = "y"
classes = [{ value = "0", label = "no" }, { value = "1", label = "yes" }]

[[fields]]
name = "x"
kind = "number"
label = "x"

[[fields]]
name = "color"
kind = "category"
label = "color"
values = [{ value = "blue", label = "blue" }, { value = "green", label = "green" }, { value = "red", label = "red" }]
"#,
    );
    let train = |learner: &str| {
        let mut cmd = lifeboat();
        cmd.args([
            "train",
            "--folds",
            "3",
            "--target",
            "y",
            "--learner",
            learner,
        ])
        .arg("--data")
        .arg(&data)
        .arg("--schema")
        .arg(&schema)
        .arg("--out")
        .arg(dir.path().join(format!("{learner}.lifeboat")));
        cmd
    };
    let out = train("auto").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "note: logistic regression is left out, and the other learners compared: \
             the column \"x\" cannot be standardized"
        ),
        "{stderr}"
    );
    assert!(!stdout.contains("logistic"), "{stdout}");
    assert!(stdout.contains("forest"), "{stdout}");
    assert!(dir.path().join("auto.lifeboat").exists());

    // Asked for alone, it is an error that says what to do.
    let (code, stderr) = failure(&mut train("logistic"));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("the column \"x\" cannot be standardized"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--learner tree, forest or gbdt"),
        "{stderr}"
    );
}

#[test]
fn too_many_folds_say_how_many_rows_there_are_and_what_works() {
    let dir = tempfile::tempdir().unwrap();
    let train = |data: &Path, folds: &str| {
        let mut cmd = lifeboat();
        cmd.args(["train", "--target", "y", "--folds", folds, "--data"])
            .arg(data)
            .arg("--out")
            .arg(dir.path().join("m.lifeboat"));
        cmd
    };
    // Two of the eight rows cannot be used.
    let data = write(
        dir.path(),
        "few.csv",
        "x,c,y\n1,a,0\n2,b,1\n3,a,0\n4,b,1\n5,a,0\n6,b,1\n7,a,\n8,b,1,9\n",
    );
    let (code, stderr) = failure(&mut train(&data, "10"));
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "cannot cross-validate with --folds 10: cross-validation needs from 2 folds to \
             one per row, and there are 6 rows to train on (2 more skipped): 3 rows of class \
             \"0\", 3 rows of class \"1\"; use --folds 2 to 6"
        ),
        "{stderr}"
    );
    let _ = std::fs::remove_file(dir.path().join("m.schema.toml"));

    // One row of class 1: the fold that holds it trains on class 0 alone.
    let data = write(dir.path(), "one.csv", "x,y\n1,0\n2,1\n3,0\n4,0\n5,0\n6,0\n");
    let (_, stderr) = failure(&mut train(&data, "3"));
    assert!(
        stderr.contains(
            "5 rows of class \"0\", 1 row of class \"1\"; no number of folds works: add rows \
             of the class with a single row (\"1\"), or choose --learner logistic"
        ),
        "{stderr}"
    );
}

#[test]
fn odd_target_cells_are_skipped_rows_not_classes() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = rows(120).lines().map(String::from).collect();
    lines[5] = "3.3,red,abc".into();
    lines[9] = "4.1,blue,".into();
    let data = write(dir.path(), "d.csv", lines.join("\n") + "\n");
    let out = lifeboat()
        .args(["train", "--learner", "logistic", "--target", "y", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(dir.path().join("m.lifeboat"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "note: target column \"y\" takes its classes from its numbers; 1 cell of 119 is \
             not a number (line 6: \"abc\"), so no class: training skips that row"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "note: target column \"y\" has no value in 1 row of 120 (line 10): training skips it"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("skipped 2 row(s)"), "{stderr}");
    assert!(
        stderr.contains("line 6: y: \"abc\" is not one of the classes 0, 1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 10: y: the target is empty"),
        "{stderr}"
    );
    let draft = std::fs::read_to_string(dir.path().join("m.schema.toml")).unwrap();
    assert!(!draft.contains("abc"), "{draft}");
}

#[test]
fn column_names_in_messages_show_hidden_characters_and_commas() {
    let dir = tempfile::tempdir().unwrap();
    // A header that hides a right-to-left override in one name and has a
    // comma in another (quoted, as CSV allows).
    let data = write(
        dir.path(),
        "d.csv",
        "x,\"a, b\",co\u{202e}lor,y\n1,2,red,0\n2,3,blue,1\n",
    );
    let (code, stderr) = failure(
        lifeboat()
            .args(["train", "--target", "survived", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(dir.path().join("m.lifeboat")),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(r#"x, "a, b", "co\u202elor", y"#),
        "each column is told apart and the override is shown escaped: {stderr}"
    );
    assert!(!stderr.contains('\u{202e}'), "{stderr}");
}
