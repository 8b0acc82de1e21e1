//! Micro-benchmarks of the prediction path, so regressions show:
//! `cargo bench --bench model`.
//!
//! - `load/*`: decode and check a built-in model file (target: < 5 ms).
//! - `validate_predict/*`: form strings → typed row → prediction, one row
//!   (targets: < 2 µs logistic, < 10 µs for a 100-tree ensemble). Per
//!   built-in model, and per learner no built-in uses (`learner-tree`,
//!   `learner-forest`, trained at start-up when the Titanic data is present).
//! - `explain/*`: one row with per-field contributions.
//! - `batch/*`: predicting pre-validated rows on one core (target: ≥ 1 M rows/s logistic).
//! - `csv/*`: streaming CSV scoring, parse + validate + predict + write.
//! - `train/*`: the whole Titanic `train --learner auto` (needs ../shared data; target < 5 s).

use std::hint::black_box;
use std::sync::OnceLock;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use lifeboat::batch::{BatchOptions, score_csv};
use lifeboat::builtin::{self, BUILTINS};
use lifeboat::model::{Model, Scratch, file};
use lifeboat::schema::Schema;
use lifeboat::train::{self, Dataset, DatasetBuilder, Learner, Provenance, TrainOptions};

const PASSENGER: [(&str, &str); 7] = [
    ("Pclass", "3"),
    ("Sex", "female"),
    ("Age", "22"),
    ("SibSp", "1"),
    ("Parch", "0"),
    ("Fare", "7.25"),
    ("Embarked", "S"),
];

/// The built-in models, then one model per learner that no built-in model
/// uses (tree, forest), trained once on the Titanic data when it is present.
fn models() -> &'static [(String, Model)] {
    static MODELS: OnceLock<Vec<(String, Model)>> = OnceLock::new();
    MODELS.get_or_init(|| {
        let mut out: Vec<(String, Model)> = BUILTINS
            .iter()
            .map(|(name, _)| {
                let model = builtin::load(name).expect("built-in model").model;
                (name.to_string(), model)
            })
            .collect();
        match titanic_data() {
            Some((schema, data)) => {
                for learner in [Learner::Tree, Learner::Forest] {
                    let options = TrainOptions {
                        learners: vec![learner],
                        folds: 2,
                        seed: 42,
                    };
                    let model =
                        train::train(schema.clone(), &data, &options, provenance(), &mut |_| {})
                            .expect("training on the Titanic data");
                    out.push((format!("learner-{}", learner.name()), model));
                }
            }
            None => eprintln!("learner-tree, learner-forest: skipped, {TITANIC_CSV} is absent"),
        }
        out
    })
}

const TITANIC_CSV: &str = "../shared/data/titanic/train.csv";

/// Kaggle's Titanic training set with the built-in schema, if it is present.
fn titanic_data() -> Option<(Schema, Dataset)> {
    let text = std::fs::read_to_string(TITANIC_CSV).ok()?;
    let schema = Schema::from_toml(include_str!("../examples/titanic/titanic.toml")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut builder = DatasetBuilder::new(&schema, &header).unwrap();
    for (i, record) in reader.records().enumerate() {
        let record = record.unwrap();
        builder.push(i as u64 + 2, |c| record.get(c));
    }
    let data = builder.finish();
    Some((schema, data))
}

fn provenance() -> Provenance {
    Provenance {
        data_file: "train.csv".into(),
        data_sha256: String::new(),
        created: String::new(),
    }
}

fn load(c: &mut Criterion) {
    for (name, bytes) in BUILTINS {
        c.bench_function(&format!("load/{name}"), |b| {
            b.iter(|| file::from_bytes(black_box(bytes)).unwrap())
        });
    }
}

fn validate_predict(c: &mut Criterion) {
    for (name, model) in models() {
        let mut scratch = Scratch::default();
        c.bench_function(&format!("validate_predict/{name}"), |b| {
            b.iter(|| {
                let row = model.schema.parse_strings(black_box(PASSENGER)).unwrap();
                model.predict_with(&row, &mut scratch)
            })
        });
        let row = model.schema.parse_strings(PASSENGER).unwrap();
        c.bench_function(&format!("explain/{name}"), |b| {
            b.iter(|| model.explain(black_box(&row)))
        });
    }
}

/// Rows spread over the input space, validated once.
fn sample_rows(model: &Model, n: usize) -> Vec<lifeboat::schema::Row> {
    (0..n)
        .map(|i| {
            let age = format!("{}", (i * 7) % 80);
            let fare = format!("{}", (i * 13) % 300);
            let pclass = ["1", "2", "3"][i % 3];
            let sex = ["male", "female"][i % 2];
            let pairs = [
                ("Pclass", pclass),
                ("Sex", sex),
                ("Age", age.as_str()),
                ("SibSp", "1"),
                ("Parch", "0"),
                ("Fare", fare.as_str()),
                ("Embarked", "C"),
            ];
            model.schema.parse_strings(pairs).unwrap()
        })
        .collect()
}

fn batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch");
    for (name, model) in models() {
        let rows = sample_rows(model, 10_000);
        group.throughput(Throughput::Elements(rows.len() as u64));
        let mut scratch = Scratch::default();
        group.bench_function(name, |b| {
            b.iter(|| {
                for row in &rows {
                    black_box(model.predict_with(row, &mut scratch));
                }
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("csv");
    let mut csv = String::from("Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\n");
    let n = 20_000;
    for i in 0..n {
        csv.push_str(&format!(
            "{},{},{},1,0,{},S\n",
            1 + i % 3,
            ["male", "female"][i % 2],
            (i * 7) % 80,
            (i * 13) % 300
        ));
    }
    group.throughput(Throughput::Elements(n as u64));
    for (name, model) in models() {
        group.bench_function(name, |b| {
            b.iter_batched(
                || Vec::with_capacity(csv.len() * 2),
                |mut out| {
                    score_csv(
                        model,
                        csv.as_bytes(),
                        &mut out,
                        &BatchOptions::default(),
                        &mut |_| {},
                        &mut |_| {},
                    )
                    .unwrap()
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn train(c: &mut Criterion) {
    let Some((schema, data)) = titanic_data() else {
        eprintln!("train/*: skipped, {TITANIC_CSV} is absent");
        return;
    };
    let mut group = c.benchmark_group("train");
    group.sample_size(10);
    group.bench_function("titanic_auto", |b| {
        b.iter(|| {
            let options = TrainOptions {
                learners: Learner::ALL.to_vec(),
                folds: 5,
                seed: 42,
            };
            train::train(schema.clone(), &data, &options, provenance(), &mut |_| {}).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, load, validate_predict, batch, train);
criterion_main!(benches);
