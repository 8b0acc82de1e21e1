//! The benchmark's ceiling: an axum server that parses the same request
//! bodies as `lifeboat serve` and answers a constant prediction, so its
//! throughput is what the HTTP stack alone allows on this machine. It runs no
//! model; no model server on the same stack can be faster.
//!
//! ```sh
//! cargo build --release --example ceiling
//! target/release/examples/ceiling --port 8080    # or PORT=8080
//! ```
//!
//! Routes (the ones the benchmark loads): `POST /api/v1/predict` (one JSON
//! object), `POST /predict` (form fields → a small HTML page),
//! `POST /invocations` (MLflow `dataframe_split`), `POST
//! /v2/models/{name}/infer` (Open Inference Protocol), `GET /readyz`.
//! Bodies are deserialized into typed structs (the least work that still
//! reads every field); a malformed body gets 400. Not part of lifeboat:
//! only `bench/run.sh` uses it.
//!
//! `--page FILE` makes `POST /predict` answer with that file instead of the
//! small page: with lifeboat's own result page, it shows what the page's
//! size alone costs the HTTP stack (bench/README.md, "The page's size").
//!
//! `--busy-ns N` makes `POST /api/v1/predict` spin for N nanoseconds before
//! it answers: what a server's own work per request costs in throughput on
//! a machine whose cores it shares with the load generator
//! (bench/README.md, "What a microsecond costs").

use std::net::SocketAddr;

/// The same allocator as the `lifeboat` binary (src/main.rs), so the two
/// differ only in what they do per request. With glibc's malloc, this server
/// fell into spells of half speed on MLflow batches (42 k → 22 k req/s, for
/// minutes), which lifeboat, with mimalloc, did not have.
#[global_allocator]
static ALLOCATOR: lifeboat::alloc::Allocator = lifeboat::alloc::Allocator;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::Value;

/// The constant answer of `/api/v1/predict`, in lifeboat's shape.
const ANSWER: &str = r#"{"class":"1","label":"Passenger survives","probability":0.75,"probabilities":{"0":0.25,"1":0.75}}"#;

/// The constant result page of the form.
const PAGE: &str = "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Passenger survives</title></head>\n<body>\n<h1>Passenger survives</h1>\n<p>Probability: 75.0%</p>\n</body>\n</html>\n";

/// The seven tutorial inputs, as our JSON API takes them.
#[allow(non_snake_case, dead_code)]
#[derive(Deserialize)]
struct Passenger {
    Pclass: Value,
    Sex: String,
    Age: Option<f64>,
    SibSp: i64,
    Parch: i64,
    Fare: Option<f64>,
    Embarked: Option<String>,
}

/// The same inputs from a form: every value a string.
#[allow(non_snake_case, dead_code)]
#[derive(Deserialize)]
struct PassengerForm {
    Pclass: String,
    Sex: String,
    Age: String,
    SibSp: String,
    Parch: String,
    Fare: String,
    Embarked: String,
}

#[derive(Deserialize)]
struct Invocation {
    dataframe_split: Split,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct Split {
    columns: Vec<String>,
    data: Vec<Vec<Value>>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct InferRequest {
    id: Option<String>,
    parameters: Option<Value>,
    inputs: Vec<InferInput>,
    outputs: Option<Vec<Value>>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct InferInput {
    name: String,
    shape: Vec<u64>,
    datatype: String,
    parameters: Option<Value>,
    data: Vec<Value>,
}

fn json(body: impl IntoResponse) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn bad(e: impl std::fmt::Display) -> Response {
    (StatusCode::BAD_REQUEST, e.to_string()).into_response()
}

/// `--busy-ns`: nanoseconds of busy work per JSON prediction (0: none).
static BUSY_NS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

async fn predict_json(body: Bytes) -> Response {
    let busy = BUSY_NS.load(std::sync::atomic::Ordering::Relaxed);
    if busy > 0 {
        let start = std::time::Instant::now();
        while start.elapsed().as_nanos() < u128::from(busy) {
            std::hint::spin_loop();
        }
    }
    match serde_json::from_slice::<Passenger>(&body) {
        Ok(_) => json(ANSWER),
        Err(e) => bad(e),
    }
}

async fn predict_form(State(page): State<Bytes>, _: Form<PassengerForm>) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

async fn invocations(body: Bytes) -> Response {
    match serde_json::from_slice::<Invocation>(&body) {
        Ok(request) => {
            let n = request.dataframe_split.data.len();
            let mut out = String::with_capacity(20 + 2 * n);
            out.push_str(r#"{"predictions":["#);
            for i in 0..n {
                out.push_str(if i == 0 { "1" } else { ",1" });
            }
            out.push_str("]}");
            json(out)
        }
        Err(e) => bad(e),
    }
}

async fn infer(Path(name): Path<String>, body: Bytes) -> Response {
    let request = match serde_json::from_slice::<InferRequest>(&body) {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    let n = request
        .inputs
        .first()
        .and_then(|i| i.shape.first())
        .copied()
        .unwrap_or(0) as usize;
    let probabilities = [0.25, 0.75].repeat(n);
    let answer = serde_json::json!({
        "model_name": name,
        "id": request.id,
        "parameters": {},
        "outputs": [
            {"name": "predict", "shape": [n, 1], "datatype": "INT64",
             "parameters": {"content_type": "np"}, "data": vec![1; n]},
            {"name": "predict_proba", "shape": [n, 2], "datatype": "FP64",
             "parameters": {"content_type": "np"}, "data": probabilities},
        ],
    });
    json(answer.to_string())
}

/// The value after `--name` on the command line.
fn option(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
    }
    None
}

fn port() -> u16 {
    option("--port")
        .or_else(|| std::env::var("PORT").ok())
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080)
}

/// The result page: `--page FILE`, or the small constant one.
fn page() -> std::io::Result<Bytes> {
    match option("--page") {
        Some(path) => std::fs::read(path).map(Bytes::from),
        None => Ok(Bytes::from_static(PAGE.as_bytes())),
    }
}

fn main() -> std::io::Result<()> {
    // As `lifeboat` does first (same allocator, same pages), then the same
    // multi-threaded runtime `#[tokio::main]` would build.
    lifeboat::alloc::keep_small_pages();
    if let Some(ns) = option("--busy-ns").and_then(|v| v.parse().ok()) {
        BUSY_NS.store(ns, std::sync::atomic::Ordering::Relaxed);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve())
}

async fn serve() -> std::io::Result<()> {
    let app = Router::new()
        .route("/api/v1/predict", post(predict_json))
        .route("/predict", post(predict_form))
        .route("/invocations", post(invocations))
        .route("/v2/models/{name}/infer", post(infer))
        .route("/readyz", get(|| async { "ready\n" }))
        .with_state(page()?);
    let addr = SocketAddr::from(([127, 0, 0, 1], port()));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await
}
