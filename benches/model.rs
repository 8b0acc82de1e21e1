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
//! - `batch_blocked/*`: the same rows through `batch::predict_rows` (tree
//!   ensembles tree by tree over blocks of rows), as `lifeboat predict` runs them.
//! - `csv/*`: streaming CSV scoring, parse + validate + predict + write, on one
//!   thread; `csv/*/threads-2` on two.
//! - `*/sklearn-forest`: scikit-learn's `RandomForestClassifier(n_estimators=100)`
//!   (unlimited depth) of the benchmark (`bench/run.sh`), imported from
//!   `$LIFEBOAT_BENCH_FOREST` (default: where `bench/run.sh` keeps it,
//!   `bench/results/cache/models/model_forest.pkl`) with the tutorial's
//!   schema, when that file exists.
//! - `train/*`: the whole Titanic `train --learner auto` (needs ../shared data; target < 5 s).

mod common;

use std::hint::black_box;
use std::sync::OnceLock;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use lifeboat::batch::{BatchOptions, predict_rows, score_csv_threads};
use lifeboat::builtin::{self, BUILTINS};
use lifeboat::model::{Estimator, Model, Scratch, file};
use lifeboat::schema::Schema;
use lifeboat::train::{self, Dataset, DatasetBuilder, Learner, Provenance, TrainOptions};

/// The tutorial's numeric coding of [`PASSENGER`] (Sex female 1, Embarked S 0).
const PASSENGER_CODED: [(&str, &str); 7] = [
    ("Pclass", "3"),
    ("Sex", "1"),
    ("Age", "22"),
    ("SibSp", "1"),
    ("Parch", "0"),
    ("Fare", "7.25"),
    ("Embarked", "0"),
];

use common::PASSENGER;

/// The built-in models, then one model per learner that no built-in model
/// uses (tree, forest), trained once on the Titanic data when it is present.
fn models() -> &'static [(String, Model)] {
    static MODELS: OnceLock<Vec<(String, Model)>> = OnceLock::new();
    MODELS.get_or_init(|| {
        let mut out = named_models();
        if let Some(forest) = sklearn_forest() {
            out.push(("sklearn-forest".into(), forest));
        }
        out
    })
}

/// Whether `name`'s inputs are in the tutorial's numeric coding.
fn coded(name: &str) -> bool {
    name.starts_with("sklearn-")
}

fn passenger(name: &str) -> [(&'static str, &'static str); 7] {
    if coded(name) {
        PASSENGER_CODED
    } else {
        PASSENGER
    }
}

/// The benchmark's scikit-learn forest, if its pickle is present.
fn sklearn_forest() -> Option<Model> {
    let path = std::env::var("LIFEBOAT_BENCH_FOREST").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/bench/results/cache/models/model_forest.pkl"
        )
        .into()
    });
    if !std::path::Path::new(&path).exists() {
        eprintln!("sklearn-forest: skipped, {path} is absent (bench/run.sh makes it)");
        return None;
    }
    let schema = Schema::from_toml(include_str!("../examples/tutorial/titanic_tutorial.toml"))
        .expect("the tutorial schema");
    let loaded = lifeboat::import::from_path(std::path::Path::new(&path), Some(schema));
    Some(loaded.expect("the benchmark forest imports"))
}

fn named_models() -> Vec<(String, Model)> {
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
        let pairs = passenger(name);
        c.bench_function(&format!("validate_predict/{name}"), |b| {
            b.iter(|| {
                let row = model.schema.parse_strings(black_box(pairs)).unwrap();
                model.predict_with(&row, &mut scratch)
            })
        });
        if let Estimator::Trees(trees) = &model.estimator {
            // The same, through the plain node-by-node walk (the loop before
            // the compact form), for comparison.
            let mut features = vec![0.0; model.preprocessor.n_features()];
            let mut raw = vec![0.0; model.estimator.n_outputs()];
            c.bench_function(&format!("validate_predict_plain/{name}"), |b| {
                b.iter(|| {
                    let row = model.schema.parse_strings(black_box(pairs)).unwrap();
                    model.preprocessor.transform(&row, &mut features);
                    trees.raw_plain(&features, &mut raw);
                    model.finish(&raw)
                })
            });
        }
        let row = model.schema.parse_strings(pairs).unwrap();
        c.bench_function(&format!("explain/{name}"), |b| {
            b.iter(|| model.explain(black_box(&row)))
        });
    }
}

/// Rows spread over the input space (seeded), validated once.
fn sample_rows(name: &str, model: &Model, n: usize) -> Vec<lifeboat::schema::Row> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = |m: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % m
    };
    let (sexes, ports) = if coded(name) {
        (["0", "1"], ["0", "1", "2"])
    } else {
        (["male", "female"], ["S", "C", "Q"])
    };
    (0..n)
        .map(|_| {
            let age = format!("{}", next(160) as f64 / 2.0);
            let fare = format!("{:.2}", next(30_000) as f64 / 100.0);
            let sibsp = format!("{}", next(6));
            let parch = format!("{}", next(5));
            let pairs = [
                ("Pclass", ["1", "2", "3"][next(3) as usize]),
                ("Sex", sexes[next(2) as usize]),
                ("Age", age.as_str()),
                ("SibSp", sibsp.as_str()),
                ("Parch", parch.as_str()),
                ("Fare", fare.as_str()),
                ("Embarked", ports[next(3) as usize]),
            ];
            model.schema.parse_strings(pairs).unwrap()
        })
        .collect()
}

fn batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch");
    for (name, model) in models() {
        let rows = sample_rows(name, model, 10_000);
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

    let mut group = c.benchmark_group("batch_blocked");
    for (name, model) in models() {
        let rows = sample_rows(name, model, 10_000);
        group.throughput(Throughput::Elements(rows.len() as u64));
        let (mut features, mut raw) = (Vec::new(), Vec::new());
        group.bench_function(name, |b| {
            b.iter(|| {
                for chunk in rows.chunks(1024) {
                    black_box(predict_rows(model, chunk, &mut features, &mut raw));
                }
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("csv");
    let n = 20_000;
    let csv = |coded: bool| {
        let mut csv = String::from("Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\n");
        let (sexes, port) = if coded {
            (["0", "1"], "0")
        } else {
            (["male", "female"], "S")
        };
        for i in 0..n {
            csv.push_str(&format!(
                "{},{},{},1,0,{},{port}\n",
                1 + i % 3,
                sexes[i % 2],
                (i * 7) % 80,
                (i * 13) % 300
            ));
        }
        csv
    };
    let (named, coded_csv) = (csv(false), csv(true));
    group.throughput(Throughput::Elements(n as u64));
    for (name, model) in models() {
        let csv = if coded(name) { &coded_csv } else { &named };
        for threads in [1, 2] {
            let id = match threads {
                1 => name.clone(),
                _ => format!("{name}/threads-{threads}"),
            };
            group.bench_function(&id, |b| {
                b.iter_batched(
                    || Vec::with_capacity(csv.len() * 2),
                    |mut out| {
                        score_csv_threads(
                            model,
                            csv.as_bytes(),
                            &mut out,
                            &BatchOptions::default(),
                            threads,
                            &mut |_| {},
                            &mut |_| {},
                        )
                        .unwrap()
                    },
                    BatchSize::LargeInput,
                )
            });
        }
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
