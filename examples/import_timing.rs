//! Measures how long importing a scikit-learn or ONNX file takes (read,
//! decompress, interpret, convert, check reference rows), how long loading
//! the converted `.lifeboat` file takes, and how long one prediction and one
//! explanation of the converted model take.
//!
//! ```text
//! cargo run --release --example import_timing -- model.pkl [more files...]
//! cargo run --release --features onnx --example import_timing -- model.onnx
//! ```

use std::time::Instant;

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: import_timing FILE...");
        std::process::exit(2);
    }
    for path in paths {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let runs = 5;
        let mut best = f64::INFINITY;
        let mut model = None;
        for _ in 0..runs {
            let start = Instant::now();
            match lifeboat::import::from_bytes(&bytes, &path, None) {
                Ok(m) => model = Some(m),
                Err(e) => {
                    eprintln!("{path}: {e}");
                    break;
                }
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        let Some(model) = model else { continue };
        let row = &model.reference[0].row;
        let start = Instant::now();
        let n = 1000;
        for _ in 0..n {
            std::hint::black_box(model.predict(std::hint::black_box(row)));
        }
        let per_row = start.elapsed().as_secs_f64() / f64::from(n);
        let start = Instant::now();
        let m = 100;
        for _ in 0..m {
            std::hint::black_box(model.explain(std::hint::black_box(row)));
        }
        let explain = start.elapsed().as_secs_f64() / f64::from(m);
        let file = lifeboat::model::file::to_bytes(&model);
        let mut load = f64::INFINITY;
        for _ in 0..runs {
            let start = Instant::now();
            if let Err(e) = lifeboat::model::file::from_bytes(&file) {
                eprintln!("{path}: the converted file does not load: {e}");
                break;
            }
            load = load.min(start.elapsed().as_secs_f64());
        }
        let shape = match &model.estimator {
            lifeboat::model::Estimator::Trees(t) => {
                format!(", {} trees, {} nodes", t.trees.len(), t.nodes.len())
            }
            _ => String::new(),
        };
        println!(
            "{path}: {} bytes{shape} [{}]: import {:.1} ms, load converted {:.1} ms (best of {runs}), predict {:.1} µs, explain {:.1} µs",
            bytes.len(),
            model.estimator.family(),
            best * 1e3,
            load * 1e3,
            per_row * 1e6,
            explain * 1e6
        );
    }
}
