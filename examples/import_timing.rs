//! Measures how long importing a scikit-learn file takes (read, decompress,
//! interpret, convert, check reference rows), and how long one prediction of
//! the converted model takes.
//!
//! ```text
//! cargo run --release --example import_timing -- model.pkl [more files...]
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
        let lifeboat::model::Estimator::Trees(t) = &model.estimator else {
            println!(
                "{path}: {} bytes, import {:.1} ms (best of {runs}), predict {:.1} µs",
                bytes.len(),
                best * 1e3,
                per_row * 1e6
            );
            continue;
        };
        println!(
            "{path}: {} bytes, {} trees, {} nodes: import {:.1} ms (best of {runs}), predict {:.1} µs",
            bytes.len(),
            t.trees.len(),
            t.nodes.len(),
            best * 1e3,
            per_row * 1e6
        );
    }
}
