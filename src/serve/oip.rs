//! The Open Inference Protocol v2 over REST (KServe, MLServer, Triton):
//! health, server and model metadata, and inference, with and without
//! `/versions/{version}` in the path. JSON tensors only: the binary tensor
//! extension is not advertised and such requests get a clear 400.
//!
//! Inference takes either one tensor per input column (MLServer's `pd`
//! convention; BYTES for strings, `null` for a missing value) or a single
//! `[n, k]` tensor whose columns are the model's inputs in order. It answers
//! `predict` (`[n, 1]`) and, for classifiers, `predict_proba` (`[n, classes]`).
//!
//! The body is parsed as JSON whatever the Content-Type says: tritonclient
//! sends none.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::error::{self, ApiError, Body, OipError, PathParams, Problems};
use super::{AppState, Routes};
use crate::model::Prediction;
use crate::quote::{self, quoted};
use crate::schema::{FieldKind, Lang, Row, Schema};

pub fn routes() -> Routes {
    Routes::new()
        .route("/v2", get(server_metadata))
        .route("/v2/health/live", get(live))
        .route("/v2/health/ready", get(ready))
        .route("/v2/models/{name}", get(model_metadata))
        .route(
            "/v2/models/{name}/versions/{version}",
            get(model_metadata_versioned),
        )
        .route("/v2/models/{name}/ready", get(model_ready))
        .route(
            "/v2/models/{name}/versions/{version}/ready",
            get(model_ready_versioned),
        )
        .route("/v2/models/{name}/infer", post(infer))
        .route(
            "/v2/models/{name}/versions/{version}/infer",
            post(infer_versioned),
        )
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn server_metadata() -> Response {
    json_response(
        StatusCode::OK,
        &json!({ "name": "lifeboat", "version": env!("CARGO_PKG_VERSION"), "extensions": [] }),
    )
}

async fn live() -> Response {
    json_response(StatusCode::OK, &json!({ "live": true }))
}

async fn ready(State(state): State<AppState>) -> Response {
    let ok = state.is_ready();
    json_response(status_of(ok), &json!({ "ready": ok }))
}

fn status_of(ok: bool) -> StatusCode {
    if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// Checks that the path names the served model (and version, if given).
fn check_model(state: &AppState, name: &str, version: Option<&str>) -> Result<(), ApiError> {
    let schema = &state.model().schema;
    if name != schema.name {
        return Err(ApiError::NotFound(format!(
            "Model {} not found; this server serves {}",
            quote::name(&error::cap(name)),
            schema.name
        )));
    }
    if let Some(v) = version
        && v != state.loaded.version()
    {
        return Err(ApiError::NotFound(format!(
            "Model {name} has no version {}; the version served is {}",
            quote::name(&error::cap(v)),
            state.loaded.version()
        )));
    }
    Ok(())
}

async fn model_metadata(
    State(state): State<AppState>,
    PathParams(name, ..): PathParams<String, OipError>,
) -> Result<Response, OipError> {
    metadata(&state, &name, None)
}

async fn model_metadata_versioned(
    State(state): State<AppState>,
    PathParams((name, version), ..): PathParams<(String, String), OipError>,
) -> Result<Response, OipError> {
    metadata(&state, &name, Some(&version))
}

fn metadata(state: &AppState, name: &str, version: Option<&str>) -> Result<Response, OipError> {
    check_model(state, name, version)?;
    let schema = &state.model().schema;
    let inputs: Vec<Value> = schema
        .fields
        .iter()
        .map(|f| json!({ "name": f.name, "datatype": datatype(&f.kind), "shape": [-1] }))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "name": schema.name,
            "versions": [state.loaded.version()],
            "platform": "lifeboat",
            "inputs": inputs,
            "outputs": output_metadata(schema),
        }),
    ))
}

/// The datatype a client should send for a field.
pub fn datatype(kind: &FieldKind) -> &'static str {
    match kind {
        FieldKind::Number(_) => "FP64",
        FieldKind::Integer(_) => "INT64",
        FieldKind::Boolean => "BOOL",
        FieldKind::Category(s) if s.values.iter().all(|c| c.value.parse::<i64>().is_ok()) => {
            "INT64"
        }
        FieldKind::Category(_) => "BYTES",
    }
}

fn integer_classes(schema: &Schema) -> bool {
    schema
        .classes()
        .iter()
        .all(|c| c.value.parse::<i64>().is_ok())
}

fn output_metadata(schema: &Schema) -> Vec<Value> {
    let classes = schema.classes();
    if classes.is_empty() {
        return vec![json!({ "name": "predict", "datatype": "FP64", "shape": [-1, 1] })];
    }
    let dt = if integer_classes(schema) {
        "INT64"
    } else {
        "BYTES"
    };
    vec![
        json!({ "name": "predict", "datatype": dt, "shape": [-1, 1] }),
        json!({ "name": "predict_proba", "datatype": "FP64", "shape": [-1, classes.len()] }),
    ]
}

async fn model_ready(
    State(state): State<AppState>,
    PathParams(name, ..): PathParams<String, OipError>,
) -> Result<Response, OipError> {
    model_ready_of(&state, &name, None)
}

async fn model_ready_versioned(
    State(state): State<AppState>,
    PathParams((name, version), ..): PathParams<(String, String), OipError>,
) -> Result<Response, OipError> {
    model_ready_of(&state, &name, Some(&version))
}

fn model_ready_of(
    state: &AppState,
    name: &str,
    version: Option<&str>,
) -> Result<Response, OipError> {
    check_model(state, name, version)?;
    let ok = state.is_ready();
    Ok(json_response(
        status_of(ok),
        &json!({ "name": name, "ready": ok }),
    ))
}

async fn infer(
    State(state): State<AppState>,
    PathParams(name, ..): PathParams<String, OipError>,
    binary: SaysBinary,
    Body(body, ..): Body<OipError>,
) -> Result<Response, OipError> {
    infer_model(&state, &name, None, binary, &body)
}

async fn infer_versioned(
    State(state): State<AppState>,
    PathParams((name, version), ..): PathParams<(String, String), OipError>,
    binary: SaysBinary,
    Body(body, ..): Body<OipError>,
) -> Result<Response, OipError> {
    infer_model(&state, &name, Some(&version), binary, &body)
}

/// Whether the request's headers say its tensors are binary: read from the
/// request's own headers (no copy of them), and refused only after the
/// model's name is checked, so a wrong name is still the error reported.
#[derive(Clone, Copy)]
struct SaysBinary(bool);

impl<S: Send + Sync> FromRequestParts<S> for SaysBinary {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &S,
    ) -> Result<SaysBinary, std::convert::Infallible> {
        Ok(SaysBinary(says_binary(&parts.headers)))
    }
}

#[derive(Debug, Deserialize)]
pub struct InferRequest {
    /// Echoed in the response; a string when given (checked by [`request_id`]).
    /// Request-level `parameters` (MLServer's `content_type`, tritonclient's
    /// `binary_data_output`) change nothing here and are ignored, as are
    /// other fields clients add.
    #[serde(default)]
    id: Option<Value>,
    inputs: Vec<Object<InputTensor>>,
    #[serde(default)]
    outputs: Option<Vec<Object<RequestedOutput>>>,
}

#[derive(Debug, Deserialize)]
pub struct InputTensor {
    name: String,
    shape: Vec<i64>,
    datatype: String,
    #[serde(default)]
    parameters: Option<Map<String, Value>>,
    #[serde(default)]
    data: Value,
}

#[derive(Debug, Deserialize)]
pub struct RequestedOutput {
    name: String,
}

/// What the protocol's objects are called in messages.
trait Described {
    const WHAT: &'static str;
}

impl Described for InferRequest {
    const WHAT: &'static str =
        "an inference request: a JSON object {\"inputs\": [...], \"id\"?, \"outputs\"?}";
}

impl Described for InputTensor {
    const WHAT: &'static str =
        "an input tensor: an object {\"name\", \"shape\", \"datatype\", \"data\"}";
}

impl Described for RequestedOutput {
    const WHAT: &'static str = "a requested output: an object {\"name\"}";
}

/// `T` read only from a JSON object. serde's derived structs also take an
/// array of their fields in order (`["id", [...], null]`), which no client
/// means and which would be read by position.
#[derive(Debug)]
struct Object<T>(T);

impl<'de, T: Deserialize<'de> + Described> Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Described> serde::de::Visitor<'de> for V<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(T::WHAT)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Object<T>, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// The request's `id`, which the protocol makes a string.
fn request_id(id: Option<Value>) -> Result<Option<String>, ApiError> {
    let what = match id {
        None => return Ok(None),
        Some(Value::String(s)) => return Ok(Some(s)),
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "a boolean",
        Some(Value::Number(_)) => "a number",
        Some(Value::Array(_)) => "an array",
        Some(Value::Object(_)) => "an object",
    };
    Err(ApiError::BadRequest(format!(
        "id must be a string, not {what}; it is echoed in the response (e.g. \"id\": \"req-42\"), or leave it out"
    )))
}

/// The answer to an inference request, serialized straight to bytes (not
/// built as a `Value` first). Fields are in alphabetical order, as
/// `serde_json`'s maps write them, so the bytes are those of the protocol's
/// usual `json!` answer.
#[derive(Serialize)]
struct InferResponse<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    model_name: &'a str,
    model_version: &'a str,
    outputs: Vec<OutputTensor>,
    parameters: Empty,
}

/// `{}`.
#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct OutputTensor {
    data: Value,
    datatype: &'static str,
    name: &'static str,
    parameters: NumpyContent,
    shape: [usize; 2],
}

/// `{"content_type": "np"}`: MLServer's codec for a tensor of one numpy array.
#[derive(Serialize)]
struct NumpyContent {
    content_type: &'static str,
}

const NUMPY: NumpyContent = NumpyContent { content_type: "np" };

fn infer_model(
    state: &AppState,
    name: &str,
    version: Option<&str>,
    binary: SaysBinary,
    body: &[u8],
) -> Result<Response, OipError> {
    check_model(state, name, version)?;
    if binary.0 {
        return Err(binary_refused().into());
    }
    let Object(request): Object<InferRequest> =
        serde_json::from_slice(body).map_err(|e| error::json_error(&e, body))?;
    let id = request_id(request.id)?;
    let inputs: Vec<InputTensor> = request.inputs.into_iter().map(|t| t.0).collect();
    if inputs.iter().any(|t| {
        t.parameters
            .as_ref()
            .is_some_and(|p| p.contains_key("binary_data_size"))
    }) {
        return Err(binary_refused().into());
    }
    let schema = &state.model().schema;
    let wanted = requested_outputs(schema, request.outputs.as_deref())?;
    let rows = rows(schema, &inputs)?;
    let predictions: Vec<Prediction> = rows.iter().map(|r| state.predict(r)).collect();
    let outputs: Vec<OutputTensor> = wanted
        .iter()
        .map(|w| output(schema, w, &predictions))
        .collect();
    let response = InferResponse {
        id,
        model_name: &schema.name,
        model_version: state.loaded.version(),
        outputs,
        parameters: Empty {},
    };
    let body = serde_json::to_vec(&response).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(super::api::json(body))
}

fn binary_refused() -> ApiError {
    ApiError::BadRequest(
        "binary tensor data is not supported by this server; send JSON tensors \
         (tritonclient: binary_data=False on every input and requested output)"
            .into(),
    )
}

/// The binary tensor extension's header, or an `application/octet-stream` body.
fn says_binary(headers: &HeaderMap) -> bool {
    // JSON, as clients say it almost always, needs no parsing.
    let json = headers
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes() == b"application/json");
    headers.contains_key("inference-header-content-length")
        || (!json && error::media_type(headers).0 == "application/octet-stream")
}

fn requested_outputs(
    schema: &Schema,
    outputs: Option<&[Object<RequestedOutput>]>,
) -> Result<Vec<&'static str>, ApiError> {
    let available: &[&'static str] = if schema.is_classifier() {
        &["predict", "predict_proba"]
    } else {
        &["predict"]
    };
    let Some(outputs) = outputs.filter(|o| !o.is_empty()) else {
        return Ok(available.to_vec());
    };
    outputs
        .iter()
        .map(|o| {
            available
                .iter()
                .find(|a| **a == o.0.name)
                .copied()
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "unknown output {}; the outputs are: {}",
                        quoted(&error::cap(&o.0.name)),
                        crate::quote::name_list(available.iter().copied())
                    ))
                })
        })
        .collect()
}

fn output(schema: &Schema, name: &'static str, predictions: &[Prediction]) -> OutputTensor {
    let n = predictions.len();
    let classes = schema.classes();
    match name {
        "predict_proba" => {
            let data: Vec<f64> = predictions
                .iter()
                .flat_map(|p| match p {
                    Prediction::Class { probabilities, .. } => probabilities.clone(),
                    Prediction::Value(v) => vec![*v],
                })
                .collect();
            OutputTensor {
                name,
                shape: [n, classes.len()],
                datatype: "FP64",
                parameters: NUMPY,
                data: json!(data),
            }
        }
        _ => {
            let ints = integer_classes(schema);
            let (datatype, data): (&str, Vec<Value>) = if classes.is_empty() {
                (
                    "FP64",
                    predictions
                        .iter()
                        .map(|p| match p {
                            Prediction::Value(v) => json!(v),
                            Prediction::Class { index, .. } => json!(index),
                        })
                        .collect(),
                )
            } else {
                let dt = if ints { "INT64" } else { "BYTES" };
                let data = predictions
                    .iter()
                    .map(|p| {
                        let index = match p {
                            Prediction::Class { index, .. } => *index,
                            Prediction::Value(_) => 0,
                        };
                        let v = &classes[index].value;
                        match v.parse::<i64>() {
                            Ok(i) if ints => json!(i),
                            _ => json!(v),
                        }
                    })
                    .collect();
                (dt, data)
            };
            OutputTensor {
                name: "predict",
                shape: [n, 1],
                datatype,
                parameters: NUMPY,
                data: Value::Array(data),
            }
        }
    }
}

/// Flattens (possibly nested) tensor data, row-major.
fn flatten<'a>(data: &'a Value, out: &mut Vec<&'a Value>, depth: usize) -> Result<(), ApiError> {
    match data {
        Value::Array(items) if depth < 8 => {
            for item in items {
                flatten(item, out, depth + 1)?;
            }
            Ok(())
        }
        Value::Array(_) => Err(ApiError::BadRequest(
            "tensor data is nested too deeply".into(),
        )),
        other => {
            out.push(other);
            Ok(())
        }
    }
}

/// A shape for a message: as written, cut like every other echo
/// ([`error::MAX_ECHO`] characters) and followed by how many dimensions it
/// has when cut, so a shape of thousands of dimensions is not sent back whole.
fn shape_text(shape: &[i64]) -> String {
    use std::fmt::Write;
    let mut out = String::from("[");
    for (i, d) in shape.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{d}");
        if out.len() > error::MAX_ECHO {
            out.truncate(error::MAX_ECHO);
            let _ = write!(out, "…] ({} dimensions)", shape.len());
            return out;
        }
    }
    out.push(']');
    out
}

/// How many values a shape holds, or a message saying why it holds none
/// that a request could carry: a negative dimension, or a product that does
/// not fit in a `usize` (checked, never wrapped).
fn shape_size(name: &str, shape: &[i64]) -> Result<usize, ApiError> {
    if let Some(d) = shape.iter().find(|d| **d < 0) {
        return Err(ApiError::BadRequest(format!(
            "input {name}: shape {} has a negative dimension ({d}); every dimension is a count of 0 or more",
            shape_text(shape)
        )));
    }
    if shape.contains(&0) {
        return Ok(0);
    }
    shape
        .iter()
        .try_fold(1usize, |n, d| {
            usize::try_from(*d).ok().and_then(|d| n.checked_mul(d))
        })
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "input {name}: shape {} holds more values than any request can carry; \
                 the shape must match the data, e.g. [n] for a column of n values or [n, {}] for n rows",
                shape_text(shape),
                shape.get(1).copied().unwrap_or(1)
            ))
        })
}

/// Checks a tensor's shape against its data and its datatype against each element.
fn elements(t: &InputTensor) -> Result<Vec<&Value>, ApiError> {
    let name = error::cap(&t.name);
    if t.data.is_null() {
        return Err(ApiError::BadRequest(format!(
            "input {name}: data is missing; send \"data\": a list of the tensor's values (null for a missing one)"
        )));
    }
    let expected = shape_size(&name, &t.shape)?;
    let mut values = Vec::new();
    flatten(&t.data, &mut values, 0)?;
    if expected != values.len() {
        return Err(ApiError::BadRequest(format!(
            "input {name}: shape {} needs {expected} values but data has {}",
            shape_text(&t.shape),
            values.len()
        )));
    }
    let dt = t.datatype.as_str();
    for (i, v) in values.iter().enumerate() {
        let ok = match (dt, v) {
            (_, Value::Null) => true,
            ("BOOL", Value::Bool(_)) => true,
            ("BOOL", Value::Number(n)) => matches!(n.as_f64(), Some(x) if x == 0.0 || x == 1.0),
            (
                "INT8" | "INT16" | "INT32" | "INT64" | "UINT8" | "UINT16" | "UINT32" | "UINT64",
                Value::Number(n),
            ) => n.as_f64().is_some_and(|x| x.fract() == 0.0),
            ("FP16" | "FP32" | "FP64", Value::Number(_)) => true,
            ("BYTES", Value::String(_) | Value::Number(_) | Value::Bool(_)) => true,
            (
                "BOOL" | "INT8" | "INT16" | "INT32" | "INT64" | "UINT8" | "UINT16" | "UINT32"
                | "UINT64" | "FP16" | "FP32" | "FP64" | "BYTES",
                _,
            ) => false,
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "input {name}: unknown datatype {}",
                    quoted(&error::cap(dt))
                )));
            }
        };
        if !ok {
            return Err(ApiError::BadRequest(format!(
                "input {name}: element {i} ({}) is not a valid {dt} value",
                error::cap(&v.to_string())
            )));
        }
    }
    Ok(values)
}

/// The rows of a request, in either layout.
fn rows(schema: &Schema, inputs: &[InputTensor]) -> Result<Vec<Row>, ApiError> {
    let k = schema.fields.len();
    if inputs.is_empty() {
        return Err(ApiError::BadRequest("the request has no inputs".into()));
    }
    let matrix = inputs.len() == 1
        && inputs[0].shape.len() == 2
        && inputs[0].shape[1] == k as i64
        && (k > 1 || schema.field_index(&inputs[0].name).is_none());
    let mut problems = Problems::default();
    let mut rows = Vec::new();
    if matrix {
        // `elements` checked that the values are exactly shape[0] rows of k.
        let values = elements(&inputs[0])?;
        for (i, cells) in values.chunks(k.max(1)).enumerate() {
            let pairs = schema
                .fields
                .iter()
                .zip(cells)
                .map(|(f, v)| (f.name.as_str(), *v));
            match schema.parse_json_pairs(pairs) {
                Ok(row) => rows.push(row),
                Err(errors) => problems.add(&errors, Some(i), Lang::En),
            }
        }
    } else {
        let mut columns = Vec::with_capacity(inputs.len());
        let mut n = None;
        for t in inputs {
            if schema.field_index(&t.name).is_none() {
                let names: Vec<&str> = schema.field_names().collect();
                if inputs.len() == 1 && t.shape.last() == Some(&(k as i64)) {
                    // Whole rows, in a shape other than [n, k].
                    return Err(ApiError::BadRequest(format!(
                        "input {}: shape {} is not [n, {k}]; one tensor of whole rows must have shape [n, {k}] (n rows of {}), e.g. [1, {k}] for one row",
                        crate::quote::name(&error::cap(&t.name)),
                        shape_text(&t.shape),
                        crate::quote::name_list(names.iter().copied())
                    )));
                }
                return Err(ApiError::BadRequest(format!(
                    "unknown input {}; send one tensor per input ({}), or one [n, {k}] tensor with the inputs as columns in that order",
                    quoted(&error::cap(&t.name)),
                    crate::quote::name_list(names.iter().copied())
                )));
            }
            let rows_here = match t.shape.as_slice() {
                [r] | [r, 1] => *r,
                _ => {
                    return Err(ApiError::BadRequest(format!(
                        "input {}: shape {} is not [n] or [n, 1]; each input is one column",
                        error::cap(&t.name),
                        shape_text(&t.shape)
                    )));
                }
            };
            if *n.get_or_insert(rows_here) != rows_here {
                return Err(ApiError::BadRequest(
                    "every input must have the same number of rows".into(),
                ));
            }
            columns.push((t.name.as_str(), elements(t)?));
        }
        // `elements` checked that every column holds exactly its rows.
        let n = columns.first().map_or(0, |(_, values)| values.len());
        for i in 0..n {
            let pairs = columns.iter().map(|(name, values)| (*name, values[i]));
            match schema.parse_json_pairs(pairs) {
                Ok(row) => rows.push(row),
                Err(errors) => problems.add(&errors, Some(i), Lang::En),
            }
        }
    }
    problems.into_result()?;
    if rows.is_empty() {
        return Err(ApiError::BadRequest("the inputs hold no rows".into()));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: ApiError) -> String {
        e.detail()
    }

    #[test]
    fn shape_sizes_are_checked_never_wrapped() {
        assert_eq!(shape_size("x", &[2, 7]).unwrap(), 14);
        assert_eq!(shape_size("x", &[]).unwrap(), 1);
        // A zero anywhere holds no values, whatever the others are.
        assert_eq!(shape_size("x", &[i64::MAX, i64::MAX, 0]).unwrap(), 0);
        // 7905747460161236407 × 7 is 1 modulo 2^64; 2^62 × 7 is negative in i64.
        for shape in [
            &[7_905_747_460_161_236_407, 7][..],
            &[4_611_686_018_427_387_904, 7],
            &[i64::MAX, 3],
            &[1 << 32, 1 << 32],
        ] {
            let m = message(shape_size("x", shape).unwrap_err());
            assert!(
                m.contains("holds more values than any request can carry"),
                "{m}"
            );
            assert!(!m.contains('-'), "{m}");
        }
        let m = message(shape_size("x", &[3, -1]).unwrap_err());
        assert_eq!(
            m,
            "input x: shape [3, -1] has a negative dimension (-1); every dimension is a count of 0 or more"
        );
    }

    #[test]
    fn shapes_in_messages_are_capped() {
        assert_eq!(shape_text(&[]), "[]");
        assert_eq!(shape_text(&[2, 7]), "[2, 7]");
        let long = shape_text(&[1; 150_000]);
        assert!(long.ends_with("…] (150000 dimensions)"), "{long}");
        assert!(long.chars().count() < error::MAX_ECHO + 30, "{long}");
        // Cut within a number, it still says how many dimensions there were.
        let big = shape_text(&[i64::MAX; 4]);
        assert!(big.starts_with("[9223372036854775807, "), "{big}");
        assert!(big.ends_with("…] (4 dimensions)"), "{big}");
    }

    #[test]
    fn missing_data_is_named_before_the_shape() {
        let t = InputTensor {
            name: "Pclass".into(),
            shape: vec![2],
            datatype: "INT64".into(),
            parameters: None,
            data: Value::Null,
        };
        let m = message(elements(&t).unwrap_err());
        assert!(m.starts_with("input Pclass: data is missing"), "{m}");
    }

    #[test]
    fn ids_are_strings() {
        assert_eq!(request_id(None).unwrap(), None);
        assert_eq!(request_id(Some(json!("a"))).unwrap(), Some("a".to_string()));
        for v in [json!(5), json!(true), json!({"a": [1, 2]}), json!([1])] {
            let m = message(request_id(Some(v.clone())).unwrap_err());
            assert!(m.starts_with("id must be a string"), "{v}: {m}");
        }
    }
}
