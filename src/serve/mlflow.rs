//! The MLflow scoring protocol (`mlflow models serve`): `POST /invocations`
//! with `dataframe_split`, `dataframe_records`, `instances` or `inputs`, or a
//! CSV body (`text/csv`, and `application/csv` as MLflow's docs say);
//! `GET /ping`, `/health`, `/version`. Answers `{"predictions": [...]}` and
//! errors `{"error_code", "message"}` (never a stack trace).
//!
//! As in MLflow, columns the model does not use are ignored, and column
//! order does not matter.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value};

use super::error::{self, ApiError, Body, MlflowError, Problems};
use super::{AppState, Routes};
use crate::model::Prediction;
use crate::quote::{self, quoted};
use crate::schema::validate::ColumnMap;
use crate::schema::{Lang, Row, Schema};

pub fn routes() -> Routes {
    Routes::new()
        .route("/invocations", post(invocations))
        .route("/ping", get(ping))
        .route("/health", get(ping))
        .route("/version", get(version))
}

const FORMATS: [&str; 4] = [
    "dataframe_split",
    "dataframe_records",
    "instances",
    "inputs",
];

async fn ping() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], "\n").into_response()
}

async fn version() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        env!("CARGO_PKG_VERSION"),
    )
        .into_response()
}

async fn invocations(
    State(state): State<AppState>,
    kind: Kind,
    Body(body, ..): Body<MlflowError>,
) -> Result<Response, MlflowError> {
    let schema = &state.model().schema;
    let rows = match kind {
        Kind::Csv => csv_rows(schema, &body)?,
        Kind::Json => {
            let Unique(value) =
                serde_json::from_slice(&body).map_err(|e| error::json_error(&e, &body))?;
            json_rows(schema, value)?
        }
    };
    let predictions: Vec<Value> = rows
        .iter()
        .map(|row| prediction_value(schema, &state.predict(row)))
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({ "predictions": predictions }))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(super::api::json(body))
}

/// A JSON value whose objects give each key once. `serde_json::Value` keeps
/// the last of a repeated key, so a record with `"Age"` twice would be scored
/// on one of them silently; `/api/v1/predict` refuses the same row.
struct Unique(Value);

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Unique, D::Error> {
        use serde::de::{self, MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Unique;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Unique, E> {
                Ok(Unique(Value::Null))
            }
            fn visit_bool<E>(self, b: bool) -> Result<Unique, E> {
                Ok(Unique(Value::Bool(b)))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Unique, E> {
                Ok(Unique(Value::from(n)))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Unique, E> {
                Ok(Unique(Value::from(n)))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Unique, E> {
                Ok(Unique(Value::from(n)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Unique, E> {
                Ok(Unique(Value::from(s)))
            }
            fn visit_string<E>(self, s: String) -> Result<Unique, E> {
                Ok(Unique(Value::String(s)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(Unique(v)) = seq.next_element()? {
                    items.push(v);
                }
                Ok(Unique(Value::Array(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
                let mut object = Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if object.contains_key(&key) {
                        return Err(de::Error::custom(format!(
                            "the key {} is given more than once in one object; give each key once",
                            quoted(&error::cap(&key))
                        )));
                    }
                    let Unique(value) = map.next_value()?;
                    object.insert(key, value);
                }
                Ok(Unique(Value::Object(object)))
            }
        }
        d.deserialize_any(V)
    }
}

/// What the body is, by its `Content-Type`: read from the request's own
/// headers (no copy of them), and refused before the body is read.
enum Kind {
    Json,
    Csv,
}

impl<S: Send + Sync> FromRequestParts<S> for Kind {
    type Rejection = MlflowError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Kind, MlflowError> {
        Ok(content_kind(&parts.headers)?)
    }
}

/// MLflow's content-type rules, in its order.
fn content_kind(headers: &HeaderMap) -> Result<Kind, ApiError> {
    let (essence, params) = error::media_type(headers);
    error::check_charset(&essence, &params)?;
    let unknown: Vec<&str> = params
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| *k != "charset")
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::UnsupportedMediaType {
            got: format!(
                "{essence} with parameters {}",
                error::cap(&crate::quote::name_list(unknown.iter().copied()))
            ),
            expected: "application/json or text/csv with no parameters but charset (the MLflow 2 protocol: put the format in the JSON body, e.g. {\"dataframe_split\": ...})",
        });
    }
    match essence.as_str() {
        "application/json" => Ok(Kind::Json),
        "text/csv" | "application/csv" => Ok(Kind::Csv),
        _ => Err(ApiError::UnsupportedMediaType {
            got: essence,
            expected: "application/json, text/csv or application/csv",
        }),
    }
}

/// The prediction as MLflow's sklearn flavor gives it: the class value (as a
/// number when every class value is one), or the predicted number.
fn prediction_value(schema: &Schema, p: &Prediction) -> Value {
    match p {
        Prediction::Class { index, .. } => {
            let class = &schema.classes()[*index].value;
            let numeric = schema
                .classes()
                .iter()
                .all(|c| c.value.parse::<i64>().is_ok());
            match class.parse::<i64>() {
                Ok(n) if numeric => Value::from(n),
                _ => Value::from(class.as_str()),
            }
        }
        Prediction::Value(v) => Value::from(*v),
    }
}

fn csv_rows(schema: &Schema, body: &[u8]) -> Result<Vec<Row>, ApiError> {
    // As every CSV lifeboat reads: Windows-1252 text and semicolons too.
    let body = &*crate::spreadsheet::as_read(body);
    let bad = |what: String| {
        ApiError::BadRequest(format!(
            "Failed to parse input as a Pandas DataFrame: {what}. The first line must name the columns."
        ))
    };
    let text = std::str::from_utf8(body).map_err(|_| bad("the body is not UTF-8 text".into()))?;
    if text.trim().is_empty() {
        return Err(bad("the body is empty".into()));
    }
    if let Some(line) = crate::csvfile::unclosed_quote_line(body) {
        return Err(ApiError::BadRequest(
            crate::csvfile::TableError::UnclosedQuote { line }.to_string(),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let columns = ColumnMap::new(
        schema,
        header.iter().map(|h| h.trim_start_matches('\u{feff}')),
    )
    .map_err(|e| invalid(e.to_string()))?;
    let mut rows = Vec::new();
    let mut problems = Problems::default();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        match columns.parse_strings(schema, |c| record.get(c)) {
            Ok(row) => rows.push(row),
            Err(errors) => problems.add(&errors, Some(i), Lang::En),
        }
    }
    problems.into_result()?;
    if rows.is_empty() {
        return Err(bad("there are no data rows".into()));
    }
    Ok(rows)
}

fn invalid(message: String) -> ApiError {
    ApiError::invalid(vec![error::FieldProblem {
        row: None,
        field: "columns".into(),
        pointer: None,
        message,
    }])
}

fn json_rows(schema: &Schema, value: Value) -> Result<Vec<Row>, ApiError> {
    let keys = FORMATS.join("', '");
    let Value::Object(mut body) = value else {
        let what = match value {
            Value::Array(_) => "a list",
            _ => "a single value",
        };
        return Err(ApiError::BadRequest(format!(
            "The input must be a JSON dictionary with exactly one of the input fields {{'{keys}'}}. Received {what}."
        )));
    };
    let present: Vec<&str> = FORMATS
        .iter()
        .copied()
        .filter(|k| body.contains_key(*k))
        .collect();
    let extra: Vec<String> = body
        .keys()
        .filter(|k| !FORMATS.contains(&k.as_str()) && *k != "params")
        .map(|k| error::cap(k))
        .collect();
    if present.len() != 1 || !extra.is_empty() {
        let found: Vec<String> = body.keys().take(10).map(|k| error::cap(k)).collect();
        let found = quote::quoted_list(found.iter().map(String::as_str));
        return Err(ApiError::BadRequest(format!(
            "The input must be a JSON dictionary with exactly one of the input fields {{'{keys}'}} (and optionally 'params'). Received dictionary with input fields: [{found}]."
        )));
    }
    let format = present[0];
    let data = body.remove(format).unwrap_or(Value::Null);
    let mut problems = Problems::default();
    let rows = match format {
        "dataframe_split" => split_rows(schema, data, &mut problems)?,
        "dataframe_records" => match data {
            Value::Array(items) => records_rows(schema, &items, &mut problems)?,
            _ => {
                return Err(ApiError::BadRequest(
                    "dataframe_records must be a list of records, one object per row".into(),
                ));
            }
        },
        _ => tensor_rows(schema, format, data, &mut problems)?,
    };
    problems.into_result()?;
    if rows.is_empty() {
        return Err(ApiError::BadRequest(format!("{format} holds no rows")));
    }
    Ok(rows)
}

fn split_rows(schema: &Schema, data: Value, problems: &mut Problems) -> Result<Vec<Row>, ApiError> {
    let shape_error = || {
        ApiError::BadRequest(
            "Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields."
                .into(),
        )
    };
    let Value::Object(mut split) = data else {
        return Err(shape_error());
    };
    if split
        .keys()
        .any(|k| !matches!(k.as_str(), "data" | "columns" | "index"))
    {
        return Err(shape_error());
    }
    let Some(Value::Array(data)) = split.remove("data") else {
        return Err(shape_error());
    };
    check_index(split.remove("index"), data.len())?;
    let columns: Vec<String> = match split.remove("columns") {
        Some(Value::Array(cols)) => cols
            .into_iter()
            .map(|c| match c {
                Value::String(s) => Ok(s),
                other => Err(ApiError::BadRequest(format!(
                    "dataframe_split columns must be strings, not {}",
                    error::cap(&other.to_string())
                ))),
            })
            .collect::<Result<_, _>>()?,
        None | Some(Value::Null) => schema.field_names().map(String::from).collect(),
        Some(_) => return Err(shape_error()),
    };
    let map = ColumnMap::new(schema, columns.iter().map(String::as_str))
        .map_err(|e| invalid(e.to_string()))?;
    positional(schema, &map, columns.len(), &data, problems)
}

/// A `dataframe_split` index, as pandas takes it: left out or null (rows
/// are numbered), or an array with one label per row. The labels are not
/// used (predictions come back in row order), but a wrong count means the
/// client built the table wrong, and pandas refuses it too.
fn check_index(index: Option<Value>, rows: usize) -> Result<(), ApiError> {
    let got = match index {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(labels)) if labels.len() == rows => return Ok(()),
        Some(Value::Array(labels)) => {
            let n = labels.len();
            return Err(ApiError::BadRequest(format!(
                "dataframe_split index has {n} label{} for {rows} row{} of data; give one label per row, or leave index out",
                if n == 1 { "" } else { "s" },
                if rows == 1 { "" } else { "s" },
            )));
        }
        Some(Value::Bool(_)) => "true or false",
        Some(Value::Number(_)) => "a number",
        Some(Value::String(_)) => "a string",
        Some(Value::Object(_)) => "an object",
    };
    Err(ApiError::BadRequest(format!(
        "dataframe_split index must be an array with one label per row of data ({rows}), or left out; got {got}"
    )))
}

/// Rows given as arrays, read through a column map.
fn positional(
    schema: &Schema,
    map: &ColumnMap,
    width: usize,
    data: &[Value],
    problems: &mut Problems,
) -> Result<Vec<Row>, ApiError> {
    let mut rows = Vec::with_capacity(data.len());
    for (i, item) in data.iter().enumerate() {
        let Value::Array(cells) = item else {
            return Err(ApiError::BadRequest(format!(
                "row {i} is not a list of values"
            )));
        };
        if cells.len() != width {
            return Err(ApiError::BadRequest(format!(
                "row {i} has {} values for {width} columns",
                cells.len()
            )));
        }
        match map.parse_json(schema, |c| cells.get(c)) {
            Ok(row) => rows.push(row),
            Err(errors) => problems.add(&errors, Some(i), Lang::En),
        }
    }
    Ok(rows)
}

/// Row objects; keys the model does not use are ignored, as MLflow does.
fn records_rows(
    schema: &Schema,
    items: &[Value],
    problems: &mut Problems,
) -> Result<Vec<Row>, ApiError> {
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::Object(record) = item else {
            return Err(ApiError::BadRequest(format!(
                "record {i} is not an object of column: value"
            )));
        };
        match record_row(schema, record) {
            Ok(row) => rows.push(row),
            Err(errors) => problems.add(&errors, Some(i), Lang::En),
        }
    }
    Ok(rows)
}

fn record_row(
    schema: &Schema,
    record: &Map<String, Value>,
) -> Result<Row, crate::schema::RowErrors> {
    schema.parse_json_pairs(
        record
            .iter()
            .filter(|(k, _)| schema.field_index(k).is_some())
            .map(|(k, v)| (k.as_str(), v)),
    )
}

/// `instances` (rows) and `inputs` (columns, or rows), TF-Serving style.
fn tensor_rows(
    schema: &Schema,
    format: &str,
    data: Value,
    problems: &mut Problems,
) -> Result<Vec<Row>, ApiError> {
    match data {
        Value::Array(items) if items.iter().all(Value::is_object) => {
            records_rows(schema, &items, problems)
        }
        Value::Array(items) if items.iter().all(Value::is_array) => {
            let names: Vec<&str> = schema.field_names().collect();
            let map = ColumnMap::new(schema, names.iter().copied())
                .map_err(|e| invalid(e.to_string()))?;
            positional(schema, &map, names.len(), &items, problems)
        }
        Value::Object(columns) if format == "inputs" => {
            let names: Vec<&str> = columns.keys().map(String::as_str).collect();
            let map = ColumnMap::new(schema, names.iter().copied())
                .map_err(|e| invalid(e.to_string()))?;
            let mut lists = Vec::with_capacity(columns.len());
            for (name, v) in &columns {
                match v {
                    Value::Array(values) => lists.push(values.as_slice()),
                    _ => {
                        return Err(ApiError::BadRequest(format!(
                            "inputs[{}] must be a list with one value per row",
                            quoted(&error::cap(name))
                        )));
                    }
                }
            }
            let n = lists.first().map_or(0, |l| l.len());
            if lists.iter().any(|l| l.len() != n) {
                return Err(ApiError::BadRequest(
                    "every column in inputs must have the same number of values".into(),
                ));
            }
            let mut rows = Vec::with_capacity(n);
            for i in 0..n {
                match map.parse_json(schema, |c| lists.get(c).and_then(|l| l.get(i))) {
                    Ok(row) => rows.push(row),
                    Err(errors) => problems.add(&errors, Some(i), Lang::En),
                }
            }
            Ok(rows)
        }
        _ => Err(ApiError::BadRequest(format!(
            "{format} must be a list of rows (objects, or lists of values in the model's column order){}",
            if format == "inputs" {
                " or an object of columns"
            } else {
                ""
            }
        ))),
    }
}
