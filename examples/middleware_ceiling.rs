//! The ceiling behind lifeboat's own middleware: `examples/ceiling.rs`'s
//! constant JSON answer, served inside `lifeboat::serve::layers::wrap` (the
//! request id, timeout, metrics, security headers, log line, gzip decision
//! and panic catching every lifeboat request goes through). It runs no model,
//! so it shows how fast a server with lifeboat's operational features can
//! answer at best, and splits lifeboat's gap to the ceiling into what the
//! middleware costs and what predicting costs. Not part of lifeboat; used by
//! hand when profiling (bench/README.md):
//!
//! ```sh
//! cargo build --release --example middleware_ceiling
//! target/release/examples/middleware_ceiling --port 18990   # or PORT=18990
//! ```
//!
//! Route: `POST /api/v1/predict` with one JSON object of the seven tutorial
//! inputs (named values, as the built-in model takes them); a malformed body
//! gets 400.

use axum::ServiceExt as _;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use lifeboat::serve::{AppState, ServeConfig, layers, logfmt};
use serde::Deserialize;
use serde_json::Value;

/// The allocator of the `lifeboat` binary and of the ceiling.
#[global_allocator]
static ALLOCATOR: lifeboat::alloc::Allocator = lifeboat::alloc::Allocator;

/// The ceiling's constant answer (`examples/ceiling.rs`).
const ANSWER: &str = r#"{"class":"1","label":"Passenger survives","probability":0.75,"probabilities":{"0":0.25,"1":0.75}}"#;

/// The seven tutorial inputs, read as the ceiling reads them.
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

async fn predict_json(body: Bytes) -> Response {
    match serde_json::from_slice::<Passenger>(&body) {
        Ok(_) => ([(header::CONTENT_TYPE, "application/json")], ANSWER).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

fn port() -> u16 {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--port"
            && let Some(p) = args.next().and_then(|p| p.parse().ok())
        {
            return p;
        }
    }
    std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080)
}

fn main() -> anyhow::Result<()> {
    lifeboat::alloc::keep_small_pages();
    // As `lifeboat serve` does: the log sink first, then a multi-threaded runtime.
    let _log = logfmt::install("info");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // The built-in model's state, for the middleware (metrics, ids, pages
        // of errors); the one route below never reads the model.
        let state = AppState::new(ServeConfig::default())?;
        let routes = axum::Router::new().route("/api/v1/predict", post(predict_json));
        let app = layers::wrap(routes, state);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port())).await?;
        axum::serve(listener, app.into_make_service()).await?;
        anyhow::Ok(())
    })
}
