//! One error type for every front door, one status table, and one adapter
//! per protocol: problem+json (our API), MLflow's `{error_code, message}`,
//! the Open Inference Protocol's `{error}`, and an HTML page (rendered by the
//! middleware, which holds the templates).
//!
//! Nothing here echoes a whole input back: field names and values are capped
//! where they are put into messages, and internal errors say nothing but that
//! something went wrong (the details are logged with the request id).

use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::AppState;
use super::layers::InternalDetail;
use crate::quote::{name, quoted};
use crate::schema::{Lang, RowErrors};

/// At most this many field problems are reported in one response.
pub const MAX_PROBLEMS: usize = 50;
/// Names and values from the client are cut to this many characters in messages.
pub const MAX_ECHO: usize = 64;

/// Everything that can go wrong with a request.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The body is not valid JSON: the whole message (where, why, what to send).
    MalformedJson(String),
    /// The request is well-formed but not what the endpoint takes.
    BadRequest(String),
    /// The body is larger than the configured limit (bytes).
    TooLarge {
        limit: usize,
    },
    UnsupportedMediaType {
        got: String,
        expected: &'static str,
    },
    /// A request body in a `Content-Encoding` (capped) other than identity.
    UnsupportedEncoding(String),
    /// Values that fail the model's schema: the first [`MAX_PROBLEMS`]
    /// field problems, and how many there were in all.
    Invalid {
        problems: Vec<FieldProblem>,
        total: usize,
    },
    NotFound(String),
    /// The methods the path accepts (its `Allow` header), when known.
    MethodNotAllowed {
        allow: String,
    },
    /// The request took longer than the configured timeout.
    Timeout,
    /// The server is shutting down.
    Unavailable,
    /// A bug or an I/O failure. The detail is logged with the request id and
    /// never sent (except on `--dev` error pages, to this machine only).
    Internal(String),
}

/// One invalid value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldProblem {
    /// The row, for requests that carry several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    pub field: String,
    /// A JSON pointer into the request body, where the body is JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    pub message: String,
}

/// The front doors, each with its own error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Problem,
    Mlflow,
    Oip,
    Html,
    Text,
}

impl Protocol {
    /// Which error shape a path speaks: used where no handler ran (404, 405,
    /// timeouts, oversized bodies caught by layers).
    pub fn for_path(path: &str) -> Protocol {
        if path.starts_with("/api/") || path == "/openapi.json" {
            Protocol::Problem
        } else if path == "/v2" || path.starts_with("/v2/") {
            Protocol::Oip
        } else if matches!(path, "/invocations" | "/ping" | "/health" | "/version") {
            Protocol::Mlflow
        } else if matches!(path, "/livez" | "/readyz" | "/healthz" | "/metrics") {
            Protocol::Text
        } else {
            Protocol::Html
        }
    }
}

/// Cuts a client-supplied string for inclusion in a message.
pub fn cap(s: &str) -> String {
    if s.chars().count() <= MAX_ECHO {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX_ECHO).collect();
        out.push('…');
        out
    }
}

impl ApiError {
    /// The one status table: rows are errors, columns are protocols.
    pub fn status(&self, protocol: Protocol) -> StatusCode {
        use ApiError::*;
        match (self, protocol) {
            (MalformedJson(_) | BadRequest(_), _) => StatusCode::BAD_REQUEST,
            (TooLarge { .. }, _) => StatusCode::PAYLOAD_TOO_LARGE,
            (UnsupportedMediaType { .. } | UnsupportedEncoding(_), _) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            // MLflow and OIP clients expect 400 for values a model rejects
            // (MLflow's INVALID_PARAMETER_VALUE; OIP "typically 400").
            (Invalid { .. }, Protocol::Mlflow | Protocol::Oip) => StatusCode::BAD_REQUEST,
            (Invalid { .. }, _) => StatusCode::UNPROCESSABLE_ENTITY,
            (NotFound(_), _) => StatusCode::NOT_FOUND,
            (MethodNotAllowed { .. }, _) => StatusCode::METHOD_NOT_ALLOWED,
            (Timeout | Unavailable, _) => StatusCode::SERVICE_UNAVAILABLE,
            (Internal(_), _) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short title, the same for every instance of the error.
    pub fn title(&self) -> &'static str {
        use ApiError::*;
        match self {
            MalformedJson(_) => "Malformed JSON",
            BadRequest(_) => "Bad request",
            TooLarge { .. } => "Request body too large",
            UnsupportedMediaType { .. } | UnsupportedEncoding(_) => "Unsupported media type",
            Invalid { .. } => "Invalid input",
            NotFound(_) => "Not found",
            MethodNotAllowed { .. } => "Method not allowed",
            Timeout => "Request timed out",
            Unavailable => "Service unavailable",
            Internal(_) => "Internal server error",
        }
    }

    /// The anchor on /docs that explains the error (the problem `type`).
    pub fn slug(&self) -> &'static str {
        use ApiError::*;
        match self {
            MalformedJson(_) => "malformed-json",
            BadRequest(_) => "bad-request",
            TooLarge { .. } => "too-large",
            UnsupportedMediaType { .. } | UnsupportedEncoding(_) => "unsupported-media-type",
            Invalid { .. } => "invalid-input",
            NotFound(_) => "not-found",
            MethodNotAllowed { .. } => "method-not-allowed",
            Timeout => "timeout",
            Unavailable => "unavailable",
            Internal(_) => "internal",
        }
    }

    /// The message for this instance.
    pub fn detail(&self) -> String {
        use ApiError::*;
        match self {
            MalformedJson(m) | BadRequest(m) | NotFound(m) => m.clone(),
            TooLarge { limit } => format!("the request body is larger than {limit} bytes"),
            UnsupportedMediaType { got, expected } if got.is_empty() => {
                format!("no Content-Type was given; send {expected}")
            }
            UnsupportedMediaType { got, expected } => {
                format!(
                    "Content-Type {} is not accepted; send {expected}",
                    quoted(&cap(got))
                )
            }
            UnsupportedEncoding(coding) => {
                format!("Content-Encoding {coding} is not supported; send an uncompressed body")
            }
            Invalid { problems, total } => {
                let mut parts: Vec<String> = problems
                    .iter()
                    .take(10)
                    .map(|p| match p.row {
                        Some(r) => format!("row {r}: {}: {}", name(&p.field), p.message),
                        None => format!("{}: {}", name(&p.field), p.message),
                    })
                    .collect();
                // Counted from every problem found, not only those listed.
                let total = (*total).max(problems.len());
                if total > parts.len() {
                    parts.push(format!("and {} more", total - parts.len()));
                }
                parts.join("; ")
            }
            MethodNotAllowed { allow } if allow.is_empty() => {
                "this path does not accept that method".into()
            }
            MethodNotAllowed { allow } => {
                format!("this path does not accept that method; it accepts {allow}")
            }
            Timeout => "the request took too long and was stopped".into(),
            Unavailable => "the server is shutting down; try again".into(),
            Internal(_) => "something went wrong on our side; it has been logged".into(),
        }
    }

    /// [`ApiError::detail`] for people, in their language where it matters.
    pub fn detail_in(&self, lang: Lang) -> String {
        use ApiError::*;
        if lang == Lang::En {
            return self.detail();
        }
        match self {
            NotFound(_) => "No hay ninguna página en esta dirección.".into(),
            MethodNotAllowed { allow } if allow.is_empty() => {
                "Esta dirección no admite ese método.".into()
            }
            MethodNotAllowed { allow } => {
                format!("Esta dirección no admite ese método; admite {allow}.")
            }
            TooLarge { limit } => {
                format!("El archivo o formulario supera el límite de {limit} bytes.")
            }
            Timeout => "La petición tardó demasiado y se detuvo.".into(),
            Unavailable => "El servidor se está deteniendo; inténtelo de nuevo.".into(),
            Internal(_) => "Algo falló de nuestro lado; ha quedado registrado.".into(),
            _ => self.detail(),
        }
    }

    /// Field problems of one row, in `lang`, with JSON pointers under `prefix`
    /// (`""` for a single object, `"/3"` for the fourth element of an array).
    pub fn from_row_errors(
        errors: &RowErrors,
        row: Option<usize>,
        lang: Lang,
    ) -> Vec<FieldProblem> {
        errors
            .0
            .iter()
            .map(|e| {
                let field = cap(&e.field);
                let pointer = match row {
                    Some(r) => format!("/{r}/{}", escape_pointer(&field)),
                    None => format!("/{}", escape_pointer(&field)),
                };
                FieldProblem {
                    row,
                    pointer: Some(pointer),
                    message: e.describe(lang),
                    field,
                }
            })
            .collect()
    }

    /// Field problems that are all there are.
    pub fn invalid(problems: Vec<FieldProblem>) -> ApiError {
        let total = problems.len();
        ApiError::Invalid { problems, total }
    }
}

fn escape_pointer(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Collects problems over many rows, keeping the first [`MAX_PROBLEMS`] and
/// counting them all.
#[derive(Debug, Default)]
pub struct Problems {
    kept: Vec<FieldProblem>,
    total: usize,
}

impl Problems {
    pub fn add(&mut self, errors: &RowErrors, row: Option<usize>, lang: Lang) {
        self.total += errors.0.len();
        let room = MAX_PROBLEMS.saturating_sub(self.kept.len());
        if room == 0 {
            return;
        }
        let mut more = ApiError::from_row_errors(errors, row, lang);
        more.truncate(room);
        self.kept.extend(more);
    }

    pub fn into_result(self) -> Result<(), ApiError> {
        if self.total == 0 {
            Ok(())
        } else {
            Err(ApiError::Invalid {
                problems: self.kept,
                total: self.total,
            })
        }
    }
}

fn json_response(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Renders `error` as `protocol` speaks it.
pub fn render(error: &ApiError, protocol: Protocol) -> Response {
    if let (ApiError::Internal(d), false) = (error, protocol == Protocol::Html) {
        let mut r = render_plain(error, protocol);
        r.extensions_mut().insert(InternalDetail(d.clone()));
        return r;
    }
    render_plain(error, protocol)
}

fn render_plain(error: &ApiError, protocol: Protocol) -> Response {
    let status = error.status(protocol);
    match protocol {
        Protocol::Problem => {
            #[derive(Serialize)]
            struct Body<'a> {
                #[serde(rename = "type")]
                kind: String,
                title: &'static str,
                status: u16,
                detail: String,
                #[serde(skip_serializing_if = "Option::is_none")]
                errors: Option<&'a [FieldProblem]>,
            }
            let body = Body {
                kind: format!("/docs#{}", error.slug()),
                title: error.title(),
                status: status.as_u16(),
                detail: error.detail(),
                errors: match error {
                    ApiError::Invalid { problems, .. } => Some(problems),
                    _ => None,
                },
            };
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            json_response(status, "application/problem+json", bytes)
        }
        Protocol::Mlflow => {
            let code = match (error, status.as_u16()) {
                (ApiError::Invalid { .. }, _) => "INVALID_PARAMETER_VALUE",
                (_, 404) => "RESOURCE_DOES_NOT_EXIST",
                (_, 400..=499) => "BAD_REQUEST",
                _ => "INTERNAL_ERROR",
            };
            let body = serde_json::json!({ "error_code": code, "message": error.detail() });
            json_response(status, "application/json", body.to_string().into_bytes())
        }
        Protocol::Oip => {
            let body = serde_json::json!({ "error": error.detail() });
            json_response(status, "application/json", body.to_string().into_bytes())
        }
        Protocol::Text => {
            let mut r =
                (status, format!("{}: {}\n", error.title(), error.detail())).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            r
        }
        Protocol::Html => {
            // The middleware sees this marker and renders error.html in the
            // visitor's language; the plain text is a fallback only.
            let mut r = (status, error.detail()).into_response();
            if let ApiError::Internal(d) = error {
                r.extensions_mut().insert(InternalDetail(d.clone()));
            }
            r.extensions_mut().insert(ErrorPage(error.clone()));
            r
        }
    }
}

/// Marks a response whose body the middleware replaces with the error page.
#[derive(Debug, Clone)]
pub struct ErrorPage(pub ApiError);

macro_rules! adapter {
    ($(#[$doc:meta])* $name:ident, $protocol:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(pub ApiError);

        impl From<ApiError> for $name {
            fn from(e: ApiError) -> Self {
                $name(e)
            }
        }

        impl IntoResponse for $name {
            fn into_response(self) -> Response {
                render(&self.0, $protocol)
            }
        }
    };
}

adapter!(
    /// Our API's errors: `application/problem+json` (RFC 9457).
    Problem,
    Protocol::Problem
);
adapter!(
    /// MLflow scoring-server errors: `{"error_code", "message"}`.
    MlflowError,
    Protocol::Mlflow
);
adapter!(
    /// Open Inference Protocol errors: `{"error": "..."}`.
    OipError,
    Protocol::Oip
);
adapter!(
    /// Errors on pages: the error page, in the visitor's language.
    PageError,
    Protocol::Html
);

/// The raw body, with read failures (too large, cut off) turned into the
/// protocol's error `E`.
pub struct Body<E>(pub Bytes, pub PhantomData<E>);

impl<E> FromRequest<AppState> for Body<E>
where
    E: From<ApiError> + IntoResponse,
{
    type Rejection = E;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, E> {
        let limit = if req.uri().path() == "/batch" {
            state.config.upload_limit
        } else {
            state.config.body_limit
        };
        check_encoding(req.headers()).map_err(E::from)?;
        read_body(req.into_body(), limit)
            .await
            .map(|b| Body(b, PhantomData))
            .map_err(E::from)
    }
}

/// Path parameters as axum's `Path` reads them, with a path it cannot read
/// answered in the protocol's own error `E` instead of axum's plain text:
/// a percent-encoding that does not decode to UTF-8 (`/static/%ff`) is a
/// 400 that names the escape.
pub struct PathParams<T, E>(pub T, pub PhantomData<E>);

impl<T, E, S> FromRequestParts<S> for PathParams<T, E>
where
    T: serde::de::DeserializeOwned + Send,
    E: From<ApiError> + IntoResponse,
    S: Send + Sync,
{
    type Rejection = E;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, E> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(params)) => Ok(PathParams(params, PhantomData)),
            Err(rejection) => Err(E::from(path_error(parts.uri.path(), &rejection))),
        }
    }
}

/// What is wrong with a path whose parameters cannot be read.
fn path_error(path: &str, rejection: &PathRejection) -> ApiError {
    if rejection.status().is_server_error() {
        // A route and its handler disagree on the parameters: our bug.
        return ApiError::Internal(rejection.body_text());
    }
    match undecodable(path) {
        Some(escape) => ApiError::BadRequest(format!(
            "the path has {}, which does not decode to UTF-8 text; percent-encode \
             names as UTF-8, byte by byte (é is %C3%A9)",
            cap(escape)
        )),
        None => ApiError::BadRequest(format!(
            "the path {} cannot be read: {}",
            cap(path),
            rejection.body_text()
        )),
    }
}

/// The first run of percent-escapes in `path` that is not UTF-8 once
/// decoded (`%ff`, or `%e2%80` cut short), as written.
fn undecodable(path: &str) -> Option<&str> {
    let raw = path.as_bytes();
    // Decoded bytes, and where in `path` each one starts.
    let mut bytes = Vec::with_capacity(raw.len());
    let mut starts = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        let escaped = match (raw[i], raw.get(i + 1), raw.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| (h * 16 + l) as u8),
            _ => None,
        };
        starts.push(i);
        match escaped {
            Some(b) => {
                bytes.push(b);
                i += 3;
            }
            None => {
                bytes.push(raw[i]);
                i += 1;
            }
        }
    }
    let error = std::str::from_utf8(&bytes).err()?;
    let from = starts[error.valid_up_to()];
    let to = match error.error_len() {
        Some(n) => starts
            .get(error.valid_up_to() + n)
            .copied()
            .unwrap_or(raw.len()),
        None => raw.len(),
    };
    path.get(from..to)
}

/// Refuses a request body in a content coding (`Content-Encoding: gzip`):
/// bodies are read as sent, so a compressed one would be misread as JSON or CSV.
pub fn check_encoding(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(());
    };
    let coding = String::from_utf8_lossy(value.as_bytes());
    let coding = coding.trim();
    if coding.is_empty() || coding.eq_ignore_ascii_case("identity") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedEncoding(cap(coding)))
    }
}

/// Reads a whole body of at most `limit` bytes.
///
/// A body whose `Content-Length` is already over the limit is refused
/// before it is read. hyper sends `100 Continue` to a client that asked
/// (`Expect: 100-continue`) only when the body is first read, so that
/// client gets the 413 and never sends the body (RFC 9110 §10.1.1).
pub async fn read_body(body: axum::body::Body, limit: usize) -> Result<Bytes, ApiError> {
    use axum::body::HttpBody;
    if body.size_hint().lower() > limit as u64 {
        return Err(ApiError::TooLarge { limit });
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = source {
            if s.is::<http_body_util::LengthLimitError>() {
                return ApiError::TooLarge { limit };
            }
            source = s.source();
        }
        ApiError::BadRequest("the request body could not be read".into())
    })
}

/// The media type of a request, lower-cased, without parameters.
pub fn media_type(headers: &axum::http::HeaderMap) -> (String, Vec<(String, String)>) {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return (String::new(), Vec::new());
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let params = parts
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_string(),
            ))
        })
        .collect();
    (essence, params)
}

/// Whether the request says its body is JSON (`application/json` or `+json`).
pub fn is_json(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE);
    // What clients send almost always, checked before any splitting.
    if content_type.is_some_and(|v| v.as_bytes() == b"application/json") {
        return Ok(());
    }
    let value = content_type.and_then(|v| v.to_str().ok());
    let essence = value.map(|v| v.split(';').next().unwrap_or("").trim());
    if let Some(e) = essence {
        let json = e.eq_ignore_ascii_case("application/json")
            || (e.len() > 5 && e[e.len() - 5..].eq_ignore_ascii_case("+json"));
        if json {
            let (essence, params) = media_type(headers);
            return check_charset(&essence, &params);
        }
    }
    Err(ApiError::UnsupportedMediaType {
        got: essence.unwrap_or("").to_ascii_lowercase(),
        expected: "application/json",
    })
}

/// Refuses a `charset` parameter other than UTF-8: bodies are decoded as
/// UTF-8, so any other charset would be misread.
pub fn check_charset(essence: &str, params: &[(String, String)]) -> Result<(), ApiError> {
    match params.iter().find(|(k, _)| k == "charset") {
        Some((_, v)) if !v.eq_ignore_ascii_case("utf-8") && !v.eq_ignore_ascii_case("utf8") => {
            Err(ApiError::UnsupportedMediaType {
                got: format!("{essence}; charset={}", cap(v)),
                expected: "charset=utf-8 or no charset: bodies must be UTF-8",
            })
        }
        _ => Ok(()),
    }
}

/// Turns a serde_json error into a message naming what is wrong, where (line
/// and column), and what would be accepted, without echoing the input.
/// `body` is the text that was parsed: it tells the literals Python and
/// tritonclient write for non-finite floats (`NaN`, `Infinity`) and a
/// byte-order mark apart from other unexpected characters.
pub fn json_error(e: &serde_json::Error, body: &[u8]) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof if body.iter().all(u8::is_ascii_whitespace) => {
            ApiError::MalformedJson("the body is empty; send a JSON document".into())
        }
        Category::Syntax | Category::Eof | Category::Io => ApiError::MalformedJson(format!(
            "the body is not valid JSON at line {} column {}: {}",
            e.line(),
            e.column(),
            syntax_reason(e, body)
        )),
        // Valid JSON of the wrong shape, in JSON's words rather than serde's.
        Category::Data => {
            let message = e.to_string();
            let message = match message.strip_suffix(" at line 1 column 0") {
                Some(m) => m,
                None => &message,
            };
            ApiError::BadRequest(cap_message(
                &message
                    .replace("invalid type: sequence", "invalid type: an array")
                    .replace("invalid type: map", "invalid type: an object")
                    .replace("invalid type: unit value", "invalid type: null"),
            ))
        }
    }
}

/// Why a body is not JSON, in words that say what to send instead.
fn syntax_reason(e: &serde_json::Error, body: &[u8]) -> String {
    use serde_json::error::Category;
    if e.classify() == Category::Eof {
        return "unexpected end of input (the JSON is cut off: a bracket, brace or quote is not closed)"
            .into();
    }
    if body.starts_with(b"\xEF\xBB\xBF") && e.line() == 1 && e.column() == 1 {
        return "the body starts with a UTF-8 byte-order mark (EF BB BF), which JSON does not \
                allow; send the JSON without it"
            .into();
    }
    // The error's own words, without serde's position (given separately).
    let full = e.to_string();
    let reason = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(reason, _)| reason);
    let rest = offset(body, e.line(), e.column()).map_or(&[][..], |i| &body[i..]);
    let rest = rest.strip_prefix(b"-").unwrap_or(rest);
    let rest = rest.strip_prefix(b"+").unwrap_or(rest);
    match reason {
        "expected value" | "invalid number" if rest.starts_with(b"NaN") => {
            "NaN is not valid JSON; send null or leave the field out for a missing value".into()
        }
        "expected value" | "invalid number" if rest.starts_with(b"Infinity") => {
            "Infinity is not valid JSON (numbers must be finite); send a finite number, \
             or null or leave the field out for a missing value"
                .into()
        }
        "number out of range" => "a number is out of range: JSON numbers here must be finite \
             and within ±1.8e308 (a 64-bit float)"
            .into(),
        "recursion limit exceeded" => "the JSON is nested too deeply (more than 127 levels of \
             arrays and objects); requests need only a few levels"
            .into(),
        "invalid unicode code point" if std::str::from_utf8(body).is_err() => {
            let valid = std::str::from_utf8(body)
                .err()
                .map_or(0, |u| u.valid_up_to());
            format!(
                "the body is not valid UTF-8 (byte {valid} starts an invalid sequence); \
                 send JSON encoded as UTF-8"
            )
        }
        "lone leading surrogate in hex escape" => LONE_SURROGATE.into(),
        "unexpected end of hex escape" if lone_surrogate(body, e.line(), e.column()) => {
            LONE_SURROGATE.into()
        }
        "expected value" => "expected a value (a number, a string in double quotes, true, \
             false, null, an array or an object)"
            .into(),
        "key must be a string" => "an object key must be a string in double quotes".into(),
        "trailing comma" => "a comma is followed by a closing bracket or brace; remove the \
             trailing comma"
            .into(),
        "trailing characters" => {
            "there is more after the JSON value; send exactly one JSON value".into()
        }
        r if r.starts_with("control character") => {
            format!("{r}; escape control characters in strings (\\n, \\t, \\u0001)")
        }
        r => r.to_string(),
    }
}

const LONE_SURROGATE: &str = "a \\u escape is a lone surrogate (\\uD800 to \\uDFFF), which \
     is not a character; write a character beyond \\uFFFF as a surrogate pair \
     (e.g. \\uD83D\\uDE00) or as plain UTF-8";

/// The byte offset of a 1-based line and column (serde_json's position of an
/// error), if it is inside `body`.
fn offset(body: &[u8], line: usize, column: usize) -> Option<usize> {
    let start = if line <= 1 {
        0
    } else {
        body.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(line - 2)?
            .0
            + 1
    };
    let i = start + column.checked_sub(1)?;
    (i < body.len()).then_some(i)
}

/// Whether the last `\u` escape before an error's position is a surrogate.
fn lone_surrogate(body: &[u8], line: usize, column: usize) -> bool {
    let end = offset(body, line, column).map_or(body.len(), |i| i + 1);
    let before = &body[..end];
    let Some(u) = before.windows(2).rposition(|w| w == b"\\u") else {
        return false;
    };
    let hex = before
        .get(u + 2..u + 6)
        .and_then(|h| std::str::from_utf8(h).ok());
    hex.and_then(|h| u16::from_str_radix(h, 16).ok())
        .is_some_and(|c| (0xD800..=0xDFFF).contains(&c))
}

/// serde's data errors may quote input; keep them short.
fn cap_message(s: &str) -> String {
    if s.chars().count() <= 200 {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(200).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types_are_recognised() {
        let with = |ct: Option<&str>| {
            let mut h = axum::http::HeaderMap::new();
            if let Some(ct) = ct {
                h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
            }
            is_json(&h)
        };
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            " application/json ;charset=UTF-8",
            "application/vnd.api+json",
        ] {
            assert!(with(Some(ok)).is_ok(), "{ok}");
        }
        for (bad, got) in [
            (Some("text/plain"), "text/plain"),
            (
                Some("Application/X-WWW-Form-Urlencoded"),
                "application/x-www-form-urlencoded",
            ),
            (Some("json"), "json"),
            (None, ""),
        ] {
            match with(bad) {
                Err(ApiError::UnsupportedMediaType { got: g, expected }) => {
                    assert_eq!((g.as_str(), expected), (got, "application/json"));
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn paths_pick_their_protocol() {
        assert_eq!(Protocol::for_path("/api/v1/predict"), Protocol::Problem);
        assert_eq!(Protocol::for_path("/v2/models/x/infer"), Protocol::Oip);
        assert_eq!(Protocol::for_path("/v2"), Protocol::Oip);
        assert_eq!(Protocol::for_path("/v2x"), Protocol::Html);
        assert_eq!(Protocol::for_path("/invocations"), Protocol::Mlflow);
        assert_eq!(Protocol::for_path("/metrics"), Protocol::Text);
        assert_eq!(Protocol::for_path("/nope"), Protocol::Html);
    }

    #[test]
    fn the_status_table() {
        let invalid = ApiError::invalid(vec![]);
        assert_eq!(invalid.status(Protocol::Problem), 422);
        assert_eq!(invalid.status(Protocol::Mlflow), 400);
        assert_eq!(invalid.status(Protocol::Oip), 400);
        assert_eq!(ApiError::TooLarge { limit: 1 }.status(Protocol::Oip), 413);
    }

    #[test]
    fn problems_are_counted_past_those_kept() {
        use crate::schema::validate::{Expected, FieldError, Problem};
        let error = |field: &str| FieldError {
            field: field.into(),
            problem: Problem::Duplicate,
            expected: Expected::Boolean,
        };
        let row = RowErrors(vec![error("Age"), error("Sex")]);
        let mut problems = Problems::default();
        for i in 0..100 {
            problems.add(&row, Some(i), Lang::En);
        }
        let err = problems.into_result().unwrap_err();
        match &err {
            ApiError::Invalid { problems, total } => {
                assert_eq!((problems.len(), *total), (MAX_PROBLEMS, 200));
            }
            other => panic!("{other:?}"),
        }
        assert!(err.detail().ends_with("; and 190 more"), "{}", err.detail());
        assert!(Problems::default().into_result().is_ok());
    }

    #[test]
    fn positions_point_into_the_body() {
        let body = b"{\n\"a\":\n  NaN}";
        assert_eq!(offset(body, 3, 3), Some(9));
        assert_eq!(&body[9..12], b"NaN");
        assert_eq!(offset(body, 1, 0), None);
        assert_eq!(offset(body, 9, 1), None);
        assert_eq!(offset(body, 1, 99), None);
        let e = serde_json::from_slice::<serde_json::Value>(body).unwrap_err();
        assert_eq!(
            json_error(&e, body).detail(),
            "the body is not valid JSON at line 3 column 3: NaN is not valid JSON; send null or leave the field out for a missing value"
        );
        assert!(lone_surrogate(br#""\ud800""#, 1, 8));
        assert!(!lone_surrogate(br#""\u0041""#, 1, 8));
        assert!(!lone_surrogate(br#""\u12""#, 1, 6));
    }

    #[test]
    fn charsets_and_encodings() {
        let utf8 = |v: &str| check_charset("application/json", &[("charset".into(), v.into())]);
        assert!(utf8("utf-8").is_ok() && utf8("UTF-8").is_ok());
        assert!(check_charset("text/csv", &[]).is_ok());
        assert_eq!(
            utf8("latin-1").unwrap_err().detail(),
            "Content-Type \"application/json; charset=latin-1\" is not accepted; send charset=utf-8 or no charset: bodies must be UTF-8"
        );
        let coded = |v: Option<&str>| {
            let mut h = axum::http::HeaderMap::new();
            if let Some(v) = v {
                h.insert(header::CONTENT_ENCODING, v.parse().unwrap());
            }
            check_encoding(&h)
        };
        assert!(coded(None).is_ok() && coded(Some("identity")).is_ok());
        let err = coded(Some("gzip")).unwrap_err();
        assert_eq!(err.status(Protocol::Problem), 415);
        assert_eq!(
            err.detail(),
            "Content-Encoding gzip is not supported; send an uncompressed body"
        );
    }

    #[test]
    fn the_escape_that_does_not_decode_is_found() {
        assert_eq!(undecodable("/static/%ff"), Some("%ff"));
        assert_eq!(undecodable("/static/%FFabc"), Some("%FF"));
        assert_eq!(undecodable("/a%C3%A9/%e2%80"), Some("%e2%80"));
        assert_eq!(undecodable("/%41%c3%28"), Some("%c3"));
        assert_eq!(undecodable("/caf%C3%A9/%zz/%"), None);
        assert_eq!(undecodable("/plain"), None);
    }

    #[test]
    fn long_names_are_capped() {
        let long = "x".repeat(10_000);
        assert!(cap(&long).chars().count() == MAX_ECHO + 1);
    }
}
