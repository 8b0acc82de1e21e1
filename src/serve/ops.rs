//! Operations endpoints for the platform: `/livez` (the process answers),
//! `/readyz` (it takes traffic: 503 once draining after SIGTERM), `/healthz`
//! (both, with what is served, for people), and Prometheus `/metrics`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::{AppState, Routes};

pub fn routes() -> Routes {
    Routes::new()
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn livez() -> Response {
    json_response(StatusCode::OK, json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.is_ready() {
        json_response(StatusCode::OK, json!({ "status": "ready" }))
    } else {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "draining" }),
        )
    }
}

async fn healthz(State(state): State<AppState>) -> Response {
    let ready = state.is_ready();
    let schema = &state.model().schema;
    json_response(
        if ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        json!({
            "status": if ready { "ok" } else { "draining" },
            "live": true,
            "ready": ready,
            "model": { "name": schema.name, "version": state.loaded.version() },
            "lifeboat_version": env!("CARGO_PKG_VERSION"),
            "uptime_seconds": state.uptime().as_secs(),
        }),
    )
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
