//! The OpenAPI 3.1 document (`/openapi.json`) and the `/docs` page's data,
//! built once at startup from the model's schema: the input object lists the
//! model's own fields with their types, ranges and category values, and every
//! example (and curl command) is made from the schema's defaults.
//!
//! Written by hand with `serde_json::json!` rather than derived (utoipa): the
//! interesting half of the document depends on the model loaded at run time,
//! not on Rust types. A test checks that every route in the router is in the
//! document and every path in the document is routed, and the integration
//! tests run every curl example against a live server.

use axum::body::Bytes;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use crate::model::file::Loaded;
use crate::schema::{Cell, FieldKind, Schema, validate};

/// Replaced by the visitor's origin on `/docs`.
const BASE: &str = "http://localhost:5000";

pub struct Document {
    pub json: Bytes,
    pub value: Value,
    operations: Vec<Operation>,
}

/// One endpoint on the `/docs` page.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    pub id: String,
    pub tag: &'static str,
    pub method: &'static str,
    pub path: String,
    pub summary: String,
    pub description: String,
    pub curl: Vec<String>,
}

/// The problem types of our API, for the errors section of `/docs`.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemType {
    pub slug: &'static str,
    pub title: &'static str,
    pub status: u16,
}

pub fn problem_types() -> Vec<ProblemType> {
    use super::error::Protocol;
    [
        ApiError::MalformedJson(String::new()),
        ApiError::BadRequest(String::new()),
        ApiError::NotFound(String::new()),
        ApiError::MethodNotAllowed {
            allow: String::new(),
        },
        ApiError::TooLarge { limit: 0 },
        ApiError::UnsupportedMediaType {
            got: String::new(),
            expected: "",
        },
        ApiError::invalid(vec![]),
        ApiError::Internal(String::new()),
        ApiError::Timeout,
    ]
    .iter()
    .map(|e| ProblemType {
        slug: e.slug(),
        title: e.title(),
        status: e.status(Protocol::Problem).as_u16(),
    })
    .collect()
}

/// Quotes a string for a POSIX shell.
fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A URL for a shell: quoted when it has a query, whose `?` zsh (macOS's
/// shell) would take for a pattern.
fn url(path: &str) -> String {
    let url = format!("{BASE}{path}");
    if path.contains(['?', '&']) {
        sh(&url)
    } else {
        url
    }
}

/// An example row from the schema's defaults, as JSON values.
pub fn example_row(schema: &Schema) -> Map<String, Value> {
    schema
        .fields
        .iter()
        .map(|f| {
            let text = f.default.clone().unwrap_or_else(|| match &f.kind {
                FieldKind::Number(s) | FieldKind::Integer(s) => {
                    s.min.map(|v| v.to_string()).unwrap_or_else(|| "0".into())
                }
                FieldKind::Category(s) => s.values[0].value.clone(),
                FieldKind::Boolean => "false".into(),
            });
            let value = match (&f.kind, validate::parse_str(f, &text)) {
                (FieldKind::Number(_) | FieldKind::Integer(_), Ok(Cell::Number(v))) => {
                    if v.fract() == 0.0 && matches!(f.kind, FieldKind::Integer(_)) {
                        json!(v as i64)
                    } else {
                        json!(v)
                    }
                }
                (FieldKind::Boolean, Ok(Cell::Number(v))) => json!(v == 1.0),
                (_, Ok(Cell::Missing)) => Value::Null,
                (FieldKind::Category(_), Ok(_)) => {
                    integer_text(&text).map_or_else(|| json!(text), |n| json!(n))
                }
                _ => json!(text),
            };
            (f.name.clone(), value)
        })
        .collect()
}

/// The integer a category value spells exactly (`"3"`, not `"03"`).
fn integer_text(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().filter(|n| n.to_string() == s)
}

/// An example value as an OIP tensor of the field's datatype carries it.
fn oip_value(kind: &FieldKind, v: &Value) -> Value {
    match (super::oip::datatype(kind), v) {
        ("INT64", Value::String(s)) => s.parse::<i64>().map_or(v.clone(), |n| json!(n)),
        _ => v.clone(),
    }
}

fn field_schema(f: &crate::schema::Field) -> Value {
    let mut s = match &f.kind {
        FieldKind::Number(n) | FieldKind::Integer(n) => {
            let mut s = json!({
                "type": if matches!(f.kind, FieldKind::Integer(_)) { "integer" } else { "number" },
            });
            if let Some(v) = n.min {
                s["minimum"] = json!(v);
            }
            if let Some(v) = n.max {
                s["maximum"] = json!(v);
            }
            s
        }
        FieldKind::Category(c) => {
            // Categories such as ticket classes 1, 2, 3 may be sent as numbers too.
            let numbers: Option<Vec<i64>> =
                c.values.iter().map(|v| integer_text(&v.value)).collect();
            let mut s = json!({ "type": if numbers.is_some() { json!(["string", "integer"]) } else { json!("string") } });
            if !c.open {
                let mut values: Vec<Value> = c.values.iter().map(|v| json!(v.value)).collect();
                values.extend(numbers.into_iter().flatten().map(|n| json!(n)));
                s["enum"] = json!(values);
            }
            s
        }
        FieldKind::Boolean => json!({ "type": "boolean" }),
    };
    let mut description = f.label.en.clone();
    if !f.help.en.is_empty() {
        description = format!("{description}. {}", f.help.en);
    }
    s["description"] = json!(description);
    if f.optional {
        // Optional fields may be null or left out; the model imputes them.
        let t = s["type"].clone();
        let t = match t {
            Value::Array(mut types) => {
                types.push(json!("null"));
                Value::Array(types)
            }
            t => json!([t, "null"]),
        };
        s["type"] = t;
        if let Some(Value::Array(values)) = s.get_mut("enum") {
            values.push(Value::Null);
        }
    }
    s
}

impl Document {
    pub fn new(loaded: &Loaded) -> Document {
        let schema = &loaded.model.schema;
        let name = &schema.name;
        let version = loaded.version();
        let row = example_row(schema);
        let row_json = Value::Object(row.clone());
        let columns: Vec<&str> = schema.field_names().collect();
        let values: Vec<&Value> = columns.iter().map(|c| &row[*c]).collect();
        let csv_line = |v: &&Value| match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let csv = format!(
            "{}\\n{}\\n",
            columns.join(","),
            values.iter().map(csv_line).collect::<Vec<_>>().join(",")
        );
        let form: Vec<String> = columns
            .iter()
            .zip(&values)
            .map(|(c, v)| format!("-d {}", sh(&format!("{c}={}", csv_line(v)))))
            .collect();
        let json_post = |path: &str, body: &Value| {
            format!(
                "curl -s {} -H 'Content-Type: application/json' -d {}",
                url(path),
                sh(&body.to_string())
            )
        };
        let get = |path: &str| format!("curl -s {}", url(path));
        let classes: Vec<&str> = schema.classes().iter().map(|c| c.value.as_str()).collect();
        let oip_columns: Vec<Value> = schema
            .fields
            .iter()
            .map(|f| {
                json!({
                    "name": f.name,
                    "shape": [1],
                    "datatype": super::oip::datatype(&f.kind),
                    "data": [oip_value(&f.kind, &row[&f.name])],
                })
            })
            .collect();
        let oip_request = json!({ "id": "example-1", "inputs": oip_columns });
        let mlflow_split = json!({ "dataframe_split": { "columns": columns, "data": [values] } });

        let mut ops: Vec<(Operation, Value)> = Vec::new();
        let mut op = |tag: &'static str,
                      method: &'static str,
                      path: &str,
                      summary: &str,
                      description: &str,
                      curl: Vec<String>,
                      spec: Value| {
            let id = format!(
                "{}{}",
                method.to_lowercase(),
                path.replace(['/', '{', '}', '.', '*'], "_")
            );
            ops.push((
                Operation {
                    id,
                    tag,
                    method,
                    path: path.to_string(),
                    summary: summary.to_string(),
                    description: description.to_string(),
                    curl,
                },
                spec,
            ));
        };
        let html = |d: &str| json!({ "200": { "description": d, "content": { "text/html": {} } } });
        let json_ok = |d: &str, schema: Value| json!({ "200": { "description": d, "content": { "application/json": { "schema": schema } } } });
        let problem = json!({ "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } });
        let mlflow_err = json!({ "content": { "application/json": { "schema": { "$ref": "#/components/schemas/MlflowError" } } } });
        let oip_err = json!({ "content": { "application/json": { "schema": { "$ref": "#/components/schemas/OipError" } } } });
        let with = |mut base: Value, code: &str, desc: &str, body: &Value| {
            let mut r = body.clone();
            r["description"] = json!(desc);
            base[code] = r;
            base
        };
        let lang_param = json!({ "name": "lang", "in": "query", "required": false,
            "description": "Language of the page: en or es (default: Accept-Language, else en). Another value is not an error: the page falls back to Accept-Language, else en, and links to the other language.",
            "schema": { "type": "string", "enum": ["en", "es"] } });
        let api_lang_param = json!({ "name": "lang", "in": "query", "required": false,
            "description": "Language of labels and messages: en or es (default: Accept-Language, else en). Another value is refused (400).",
            "schema": { "type": "string", "enum": ["en", "es"] } });

        // Pages.
        op(
            "pages",
            "GET",
            "/",
            "The prediction form",
            "An HTML form generated from the model's schema.",
            vec![get("/")],
            json!({ "parameters": [lang_param], "responses": html("The form") }),
        );
        let form_body = json!({ "required": true, "content": { "application/x-www-form-urlencoded": { "schema": { "$ref": "#/components/schemas/Input" } } } });
        for path in ["/predict", "/result"] {
            op(
                "pages",
                "GET",
                path,
                "The prediction form (same as /)",
                "So that language links on the result page work.",
                vec![get(path)],
                json!({ "parameters": [lang_param], "responses": html("The form") }),
            );
            op(
                "pages",
                "POST",
                path,
                "Submit the form: the result page",
                "The predicted outcome in words, its probability, a chart of why, the values entered and the form again. Invalid values give the form back with a message next to each field (422). Numbers take a decimal point; a Spanish form (lang=es) also a decimal comma (22,5). A comma is never a thousands separator: 1,000 is refused, saying to write 1000.",
                vec![format!("curl -s {} {}", url(path), form.join(" "))],
                json!({ "parameters": [lang_param], "requestBody": form_body,
                        "responses": with(with(html("The result page"), "422", "The form with a message per invalid field", &json!({ "content": { "text/html": {} } })), "415", "Not a form", &json!({ "content": { "text/html": {} } })) }),
            );
        }
        op(
            "pages",
            "GET",
            "/model",
            "The model card",
            "Learner, cross-validation metrics, confusion matrix, importance, inputs and provenance.",
            vec![get("/model")],
            json!({ "parameters": [lang_param], "responses": html("The model card") }),
        );
        op(
            "pages",
            "GET",
            "/batch",
            "The CSV upload page",
            "A form to upload a CSV file.",
            vec![get("/batch")],
            json!({ "parameters": [lang_param], "responses": html("The upload form") }),
        );
        op(
            "pages",
            "POST",
            "/batch",
            "Score a CSV file",
            "Upload a CSV file (multipart/form-data field `file`, or a text/csv body). Browsers get a page with a summary, the rejected rows and a download link; when Accept prefers text/csv to text/html, q-values counted (`Accept: text/csv`; or ?format=csv, and ?format=html asks for the page), the scored CSV itself comes back, with the number of rejected rows in the X-Rejected-Rows header and the uploaded file's name in Content-Disposition (NAME-scored.csv: filename= in ASCII, and filename*= in UTF-8 when the name has other letters). ?explain=true adds contribution columns (read as /api/v1/predict reads it). A file separated by semicolons, with decimal commas, as spreadsheets in Spanish, French or German save it, comes back the same way; bytes that are not UTF-8 are read as Windows-1252, and the scored file is UTF-8.",
            vec![format!(
                "printf '{csv}' | curl -s {BASE}/batch -H 'Content-Type: text/csv' -H 'Accept: text/csv' --data-binary @-"
            )],
            json!({ "parameters": [lang_param,
                        { "name": "explain", "in": "query", "required": false, "schema": { "type": "boolean" } },
                        { "name": "format", "in": "query", "required": false, "schema": { "type": "string", "enum": ["csv", "html"] } }],
                    "requestBody": { "required": true, "content": {
                        "multipart/form-data": { "schema": { "type": "object", "properties": { "file": { "type": "string", "contentMediaType": "text/csv" }, "explain": { "type": "string" } } } },
                        "text/csv": { "schema": { "type": "string" } } } },
                    "responses": {
                        "200": { "description": "The result page, or the scored CSV", "content": { "text/html": {}, "text/csv": { "schema": { "type": "string" } } } },
                        "400": { "description": "No file, or a query parameter with a value it does not take (explain=yes, format=xml); as problem details when the scored CSV was asked for (format=csv, or an Accept that prefers text/csv)", "content": { "text/html": {}, "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
                        "413": { "description": "The file is larger than the upload limit", "content": { "text/html": {}, "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
                        "415": { "description": "Neither a form upload nor CSV, or a compressed body (Content-Encoding)", "content": { "text/html": {}, "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
                        "422": { "description": "The file cannot be scored (a required column is missing, say): a page, or problem details when the scored CSV was asked for", "content": { "text/html": {}, "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } } } }),
        );
        op(
            "pages",
            "GET",
            "/docs",
            "This page",
            "The API documentation, made from /openapi.json.",
            vec![get("/docs")],
            json!({ "parameters": [lang_param], "responses": html("This page") }),
        );
        op(
            "pages",
            "GET",
            "/static/{path}",
            "Static files",
            "Style sheets and icons, embedded in the binary.",
            vec![get("/static/css/style.css")],
            json!({ "parameters": [{ "name": "path", "in": "path", "required": true, "schema": { "type": "string" } }],
                    "responses": { "200": { "description": "The file" },
                        "400": { "description": "The path does not decode to UTF-8 text (an invalid percent-encoding such as %ff): a page naming the escape", "content": { "text/html": {} } },
                        "404": { "description": "No such file" } } }),
        );
        op(
            "pages",
            "GET",
            "/favicon.ico",
            "The icon",
            "The site icon (SVG).",
            vec![get("/favicon.ico")],
            json!({ "responses": { "200": { "description": "The icon", "content": { "image/svg+xml": {} } } } }),
        );

        // Our API.
        let predict_responses = with(
            with(
                with(
                    with(
                        json_ok(
                            "One prediction per input object (an object for an object, an array for an array)",
                            json!({ "oneOf": [ { "$ref": "#/components/schemas/Prediction" },
                                   { "type": "array", "items": { "$ref": "#/components/schemas/Prediction" } } ] }),
                        ),
                        "400",
                        "Malformed JSON, JSON of the wrong shape, or a query parameter with a value it does not take (explain=yes, lang=fr)",
                        &problem,
                    ),
                    "413",
                    "The body is larger than the limit",
                    &problem,
                ),
                "415",
                "The body is not JSON (Content-Type), has a charset other than UTF-8, or is compressed (Content-Encoding)",
                &problem,
            ),
            "422",
            "Invalid values: one entry per field problem in `errors`",
            &problem,
        );
        op(
            "api",
            "POST",
            "/api/v1/predict",
            "Predict",
            "One JSON object (a row) or an array of them. Labels are in English unless ?lang=es or Accept-Language asks for Spanish. ?explain=true adds per-field contributions.",
            vec![
                json_post("/api/v1/predict", &row_json),
                json_post("/api/v1/predict?explain=true", &json!([row_json])),
            ],
            json!({ "parameters": [api_lang_param, { "name": "explain", "in": "query", "required": false,
                        "description": "Add per-field contributions to each prediction.", "schema": { "type": "boolean" } }],
                    "requestBody": { "required": true, "content": { "application/json": {
                        "schema": { "oneOf": [ { "$ref": "#/components/schemas/Input" },
                                               { "type": "array", "minItems": 1, "items": { "$ref": "#/components/schemas/Input" } } ] },
                        "example": row_json } } },
                    "responses": predict_responses }),
        );
        op(
            "api",
            "GET",
            "/api/v1/model",
            "The model card as JSON",
            "Inputs with their labels and ranges, classes, learner, cross-validation metrics, importance and provenance.",
            vec![get("/api/v1/model")],
            json!({ "responses": json_ok("The model card", json!({ "type": "object" })) }),
        );
        op(
            "api",
            "GET",
            "/openapi.json",
            "This document",
            "OpenAPI 3.1.",
            vec![get("/openapi.json")],
            json!({ "responses": json_ok("The OpenAPI document", json!({ "type": "object" })) }),
        );

        // MLflow.
        op(
            "mlflow",
            "POST",
            "/invocations",
            "Score (MLflow protocol)",
            "The MLflow scoring protocol: a JSON object with exactly one of dataframe_split, dataframe_records, instances or inputs (and optionally params, ignored), or a CSV body (text/csv or application/csv) whose first line names the columns. Columns the model does not use are ignored.",
            vec![
                json_post("/invocations", &mlflow_split),
                format!(
                    "printf '{csv}' | curl -s {BASE}/invocations -H 'Content-Type: text/csv' --data-binary @-"
                ),
            ],
            json!({ "requestBody": { "required": true, "content": {
                        "application/json": { "schema": { "$ref": "#/components/schemas/MlflowRequest" }, "example": mlflow_split },
                        "text/csv": { "schema": { "type": "string" } },
                        "application/csv": { "schema": { "type": "string" } } } },
                    "responses": with(with(with(
                        json_ok("Predictions, one per row", json!({ "$ref": "#/components/schemas/MlflowResponse" })),
                        "400", "Malformed input or invalid values (error_code BAD_REQUEST or INVALID_PARAMETER_VALUE)", &mlflow_err),
                        "413", "The body is larger than the limit", &mlflow_err),
                        "415", "Not JSON or CSV, a charset other than UTF-8, or a compressed body (Content-Encoding)", &mlflow_err) }),
        );
        for (path, what) in [
            ("/ping", "Health (MLflow)"),
            ("/health", "Health (MLflow, same as /ping)"),
        ] {
            op(
                "mlflow",
                "GET",
                path,
                what,
                "200 with a body of one newline while the model is loaded.",
                vec![get(path)],
                json!({ "responses": { "200": { "description": "Loaded", "content": { "application/json": {} } } } }),
            );
        }
        op(
            "mlflow",
            "GET",
            "/version",
            "Server version (MLflow)",
            "The lifeboat version, as a bare string.",
            vec![get("/version")],
            json!({ "responses": { "200": { "description": "The version", "content": { "application/json": {} } } } }),
        );

        // Open Inference Protocol.
        let model_path = format!("/v2/models/{name}");
        let versioned = format!("/v2/models/{name}/versions/{version}");
        let path_params = |versioned: bool| {
            let mut p = vec![
                json!({ "name": "name", "in": "path", "required": true, "schema": { "type": "string", "enum": [name] } }),
            ];
            if versioned {
                p.push(json!({ "name": "version", "in": "path", "required": true, "schema": { "type": "string", "enum": [version] } }));
            }
            json!(p)
        };
        let not_found = |v: Value| {
            with(
                with(v, "404", "No such model or version", &oip_err),
                "400",
                "The path does not decode to UTF-8 text (an invalid percent-encoding such as %ff)",
                &oip_err,
            )
        };
        op(
            "oip",
            "GET",
            "/v2",
            "Server metadata",
            "Name, version and extensions (none: the binary tensor extension is not supported; use JSON tensors).",
            vec![get("/v2")],
            json!({ "responses": json_ok("Server metadata", json!({ "$ref": "#/components/schemas/ServerMetadata" })) }),
        );
        op(
            "oip",
            "GET",
            "/v2/health/live",
            "Server live",
            "200 {\"live\": true}.",
            vec![get("/v2/health/live")],
            json!({ "responses": json_ok("Live", json!({ "type": "object", "properties": { "live": { "type": "boolean" } } })) }),
        );
        op(
            "oip",
            "GET",
            "/v2/health/ready",
            "Server ready",
            "200 {\"ready\": true}; 503 {\"ready\": false} while shutting down.",
            vec![get("/v2/health/ready")],
            json!({ "responses": with(json_ok("Ready", json!({ "type": "object", "properties": { "ready": { "type": "boolean" } } })), "503", "Not ready", &json!({})) }),
        );
        for (path, v, curl) in [
            ("/v2/models/{name}", false, model_path.clone()),
            (
                "/v2/models/{name}/versions/{version}",
                true,
                versioned.clone(),
            ),
        ] {
            op(
                "oip",
                "GET",
                path,
                "Model metadata",
                "Inputs (one per column, with the datatype to send) and outputs predict and predict_proba.",
                vec![get(&curl)],
                json!({ "parameters": path_params(v), "responses": not_found(json_ok("Model metadata", json!({ "$ref": "#/components/schemas/ModelMetadata" }))) }),
            );
            op(
                "oip",
                "GET",
                &format!("{path}/ready"),
                "Model ready",
                "200 {\"name\", \"ready\": true}.",
                vec![get(&format!("{curl}/ready"))],
                json!({ "parameters": path_params(v), "responses": not_found(json_ok("Ready", json!({ "type": "object" }))) }),
            );
            op(
                "oip",
                "POST",
                &format!("{path}/infer"),
                "Inference",
                "One tensor per input column (shape [n] or [n, 1]; BYTES for strings; null for a missing value), or one [n, k] tensor with the inputs as columns in order. Outputs predict ([n, 1]) and predict_proba ([n, classes]). The body is read as JSON whatever the Content-Type.",
                vec![json_post(&format!("{curl}/infer"), &oip_request)],
                json!({ "parameters": path_params(v),
                        "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/InferenceRequest" }, "example": oip_request } } },
                        "responses": with(with(with(not_found(json_ok("The outputs", json!({ "$ref": "#/components/schemas/InferenceResponse" }))),
                            "400", "Malformed request, binary tensors, invalid values, or a path that does not decode to UTF-8 text", &oip_err),
                            "413", "The body is larger than the limit", &oip_err),
                            "415", "A compressed body (Content-Encoding)", &oip_err) }),
            );
        }

        // Operations.
        op(
            "ops",
            "GET",
            "/livez",
            "Liveness",
            "200 while the process answers.",
            vec![get("/livez")],
            json!({ "responses": json_ok("Live", json!({ "type": "object" })) }),
        );
        op(
            "ops",
            "GET",
            "/readyz",
            "Readiness",
            "200 while taking traffic. After SIGTERM new connections are refused at once, and a request on a connection still open gets 503 while requests in flight finish.",
            vec![get("/readyz")],
            json!({ "responses": with(json_ok("Ready", json!({ "type": "object" })), "503", "Draining", &json!({})) }),
        );
        op(
            "ops",
            "GET",
            "/healthz",
            "Health",
            "Liveness, readiness and what is served, for people.",
            vec![get("/healthz")],
            json!({ "responses": json_ok("Health", json!({ "type": "object" })) }),
        );
        op(
            "ops",
            "GET",
            "/metrics",
            "Prometheus metrics",
            "Requests by route, method and status; latency histograms; requests in flight; predictions by class; model info.",
            vec![get("/metrics")],
            json!({ "responses": { "200": { "description": "Text exposition format 0.0.4", "content": { "text/plain": {} } } } }),
        );

        let mut paths = Map::new();
        for (o, spec) in &ops {
            let mut spec = spec.clone();
            spec["operationId"] = json!(o.id);
            spec["summary"] = json!(o.summary);
            spec["description"] = json!(o.description);
            spec["tags"] = json!([o.tag]);
            spec["x-codeSamples"] = json!(
                o.curl
                    .iter()
                    .map(|c| json!({ "lang": "Shell", "label": "curl", "source": c }))
                    .collect::<Vec<_>>()
            );
            let entry = paths.entry(o.path.clone()).or_insert_with(|| json!({}));
            entry[o.method.to_lowercase()] = spec;
        }
        let value = json!({
            "openapi": "3.1.0",
            "info": {
                "title": format!("lifeboat: {}", schema.title.en),
                "version": env!("CARGO_PKG_VERSION"),
                "description": format!("{} Model {} version {}.", schema.description.en, name, version),
            },
            "servers": [{ "url": "/" }],
            "tags": [
                { "name": "pages", "description": "HTML pages for people" },
                { "name": "api", "description": "lifeboat's JSON API (errors: application/problem+json)" },
                { "name": "mlflow", "description": "MLflow scoring protocol" },
                { "name": "oip", "description": "Open Inference Protocol v2 (KServe, MLServer, Triton)" },
                { "name": "ops", "description": "Health and metrics" },
            ],
            "paths": paths,
            "components": { "schemas": components(schema, &classes) },
        });
        let json = serde_json::to_vec_pretty(&value).unwrap_or_default().into();
        Document {
            json,
            value,
            operations: ops.into_iter().map(|(o, _)| o).collect(),
        }
    }

    /// The operations with curl examples pointing at `origin`.
    pub fn operations(&self, origin: &str) -> Vec<Operation> {
        self.operations
            .iter()
            .map(|o| Operation {
                curl: o.curl.iter().map(|c| c.replace(BASE, origin)).collect(),
                ..o.clone()
            })
            .collect()
    }

    /// Every `(METHOD, path)` in the document.
    pub fn routes(&self) -> Vec<(&'static str, String)> {
        self.operations
            .iter()
            .map(|o| (o.method, o.path.clone()))
            .collect()
    }
}

fn components(schema: &Schema, classes: &[&str]) -> Value {
    let properties: Map<String, Value> = schema
        .fields
        .iter()
        .map(|f| (f.name.clone(), field_schema(f)))
        .collect();
    let required: Vec<&str> = schema
        .fields
        .iter()
        .filter(|f| !f.optional)
        .map(|f| f.name.as_str())
        .collect();
    let probabilities: Map<String, Value> = classes
        .iter()
        .map(|c| {
            (
                c.to_string(),
                json!({ "type": "number", "minimum": 0, "maximum": 1 }),
            )
        })
        .collect();
    let contributions: Map<String, Value> = schema
        .fields
        .iter()
        .map(|f| (f.name.clone(), json!({ "type": "number" })))
        .collect();
    let tensor = json!({ "type": "object", "required": ["name", "shape", "datatype"], "properties": {
        "name": { "type": "string" }, "shape": { "type": "array", "items": { "type": "integer" } },
        "datatype": { "type": "string" }, "parameters": { "type": "object" }, "data": {} } });
    json!({
        "Input": {
            "type": "object",
            "description": "One row: a value per input field. Optional fields may be null or left out.",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        },
        "Prediction": {
            "type": "object",
            "properties": {
                "class": { "type": "string", "enum": classes, "description": "The predicted class, as in the training data" },
                "label": { "type": "string", "description": "The class in words" },
                "probability": { "type": "number", "description": "The predicted class's probability" },
                "probabilities": { "type": "object", "properties": probabilities, "additionalProperties": false },
                "value": { "type": "number", "description": "Regression models: the predicted value" },
                "explanation": {
                    "type": "object",
                    "description": "With ?explain=true: base + the sum of contributions = score.",
                    "properties": {
                        "class": { "type": "string" },
                        "units": { "type": "string", "enum": ["log-odds", "logit", "probability", "value"] },
                        "base": { "type": "number" },
                        "score": { "type": "number" },
                        "contributions": { "type": "object", "properties": contributions, "additionalProperties": false },
                    },
                    "required": ["units", "base", "score", "contributions"],
                },
            },
        },
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details; `type` links to the error's description on /docs.",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": { "type": "string" },
                "title": { "type": "string" },
                "status": { "type": "integer" },
                "detail": { "type": "string" },
                "errors": { "type": "array", "items": {
                    "type": "object", "required": ["field", "message"],
                    "properties": {
                        "row": { "type": "integer", "description": "For arrays: the index of the row" },
                        "field": { "type": "string" },
                        "pointer": { "type": "string", "description": "JSON pointer into the request body" },
                        "message": { "type": "string" },
                    } } },
            },
        },
        "MlflowRequest": {
            "type": "object",
            "description": "Exactly one of the four formats.",
            "properties": {
                "dataframe_split": { "type": "object", "required": ["data"], "properties": {
                    "columns": { "type": "array", "items": { "type": "string" } },
                    "data": { "type": "array", "items": { "type": "array" } },
                    "index": { "type": ["array", "null"], "description": "Row labels, as pandas writes them: one per row of data (not used; predictions come in row order)." } },
                    "additionalProperties": false },
                "dataframe_records": { "type": "array", "items": { "type": "object" } },
                "instances": { "type": "array" },
                "inputs": { "type": ["object", "array"] },
                "params": { "type": "object" },
            },
            "minProperties": 1,
        },
        "MlflowResponse": { "type": "object", "required": ["predictions"], "properties": { "predictions": { "type": "array" } } },
        "MlflowError": { "type": "object", "required": ["error_code", "message"], "properties": {
            "error_code": { "type": "string", "enum": ["BAD_REQUEST", "INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "INTERNAL_ERROR"] },
            "message": { "type": "string" } } },
        "OipError": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" } } },
        "ServerMetadata": { "type": "object", "required": ["name", "version", "extensions"], "properties": {
            "name": { "type": "string" }, "version": { "type": "string" }, "extensions": { "type": "array", "items": { "type": "string" } } } },
        "MetadataTensor": { "type": "object", "required": ["name", "datatype", "shape"], "properties": {
            "name": { "type": "string" }, "datatype": { "type": "string" }, "shape": { "type": "array", "items": { "type": "integer" } } } },
        "ModelMetadata": { "type": "object", "required": ["name", "platform", "inputs", "outputs"], "properties": {
            "name": { "type": "string" }, "versions": { "type": "array", "items": { "type": "string" } },
            "platform": { "type": "string" },
            "inputs": { "type": "array", "items": { "$ref": "#/components/schemas/MetadataTensor" } },
            "outputs": { "type": "array", "items": { "$ref": "#/components/schemas/MetadataTensor" } } } },
        "InferenceRequest": { "type": "object", "required": ["inputs"], "properties": {
            "id": { "type": "string" }, "parameters": { "type": "object" },
            "inputs": { "type": "array", "items": tensor },
            "outputs": { "type": "array", "items": { "type": "object", "required": ["name"], "properties": { "name": { "type": "string", "enum": ["predict", "predict_proba"] } } } } } },
        "InferenceResponse": { "type": "object", "required": ["model_name", "outputs"], "properties": {
            "model_name": { "type": "string" }, "model_version": { "type": "string" }, "id": { "type": "string" },
            "parameters": { "type": "object" },
            "outputs": { "type": "array", "items": tensor } } },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_a_query_are_quoted_for_zsh() {
        assert_eq!(url("/livez"), "http://localhost:5000/livez");
        assert_eq!(
            url("/api/v1/predict?explain=true"),
            "'http://localhost:5000/api/v1/predict?explain=true'"
        );
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(sh("a'b"), r"'a'\''b'");
    }

    #[test]
    fn every_routed_path_is_documented_and_every_documented_path_routed() {
        let loaded = crate::builtin::titanic().unwrap();
        let doc = Document::new(&loaded);
        let mut documented: Vec<String> = doc.routes().into_iter().map(|(_, p)| p).collect();
        documented.sort();
        documented.dedup();
        let mut routed: Vec<String> = super::super::all_routes()
            .paths
            .iter()
            .map(|p| p.replace("{*path}", "{path}"))
            .collect();
        routed.sort();
        routed.dedup();
        assert_eq!(documented, routed);
    }

    #[test]
    fn the_example_row_is_valid() {
        let loaded = crate::builtin::titanic().unwrap();
        let row = example_row(&loaded.model.schema);
        loaded.model.schema.parse_json_object(&row).unwrap();
    }
}
