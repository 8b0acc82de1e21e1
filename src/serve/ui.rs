//! The pages people use: the form (`/`), the result (`POST /predict`, also
//! `/result` as the Flask tutorial names it), the model card (`/model`),
//! CSV files (`/batch`), the API documentation (`/docs`) and static files.
//! Every page is in English or Spanish (`?lang=`, else `Accept-Language`) and
//! works with JavaScript off: there is no JavaScript.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Multipart, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use minijinja::Value;
use minijinja::value::Serde;

use super::error::{self, ApiError, Body, PageError, PathParams};
use super::vars::Vars;
use super::{AppState, Routes, i18n, page_writer, view};
use crate::batch::{self, BatchOptions};
use crate::quote::quoted;
use crate::schema::validate::{Decimals, comma_decimal};
use crate::schema::{FieldKind, Lang, Schema};
use crate::spreadsheet::Separator;

pub fn routes() -> Routes {
    Routes::new()
        .route("/", get(form_show))
        .route("/predict", get(form_show).post(predict_form))
        .route("/result", get(form_show).post(predict_form))
        .route("/model", get(model_show))
        // The upload's limit is checked by `batch_score` itself (`--upload-limit`),
        // so axum's default limit on multipart bodies is turned off here.
        .route(
            "/batch",
            get(batch_show).post(batch_score.layer(DefaultBodyLimit::disable())),
        )
        .route("/docs", get(docs_show))
        .route("/static/{*path}", get(static_file))
        .route("/favicon.ico", get(favicon))
}

/// The visitor's language, and whether they chose it with `?lang=`.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub lang: Lang,
    pub explicit: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let (lang, explicit) = i18n::negotiate(parts.uri.query(), &parts.headers);
        Ok(Page { lang, explicit })
    }
}

/// Renders a template; a template error is an internal error (logged; shown
/// in `--dev` to this machine only).
fn render_html(state: &AppState, name: &str, ctx: Value) -> Result<String, ApiError> {
    state
        .templates
        .render(name, ctx)
        .map_err(|e| ApiError::Internal(super::templates::describe(&e)))
}

/// Constants, so `from_static` checks their bytes once, in the compiler.
const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");
pub(super) const VARY_LANGUAGE: HeaderValue = HeaderValue::from_static("Accept-Language");
/// What a `/batch` answer depends on: whether it is the CSV or a page, and
/// the language of its labels and messages.
const VARY_ACCEPT_AND_LANGUAGE: HeaderValue = HeaderValue::from_static("Accept, Accept-Language");

/// Headers a page leaves with: these two, the request id and five security
/// headers (`layers`).
const PAGE_HEADERS: usize = 8;

pub(super) fn html_response(status: StatusCode, html: impl Into<axum::body::Body>) -> Response {
    let mut response = Response::new(html.into());
    *response.status_mut() = status;
    // Room for all of them from the start: a map made for fewer grows and
    // rehashes on the way out, on every page.
    *response.headers_mut() = HeaderMap::with_capacity(PAGE_HEADERS);
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HTML);
    h.insert(header::VARY, VARY_LANGUAGE);
    response
}

fn render(
    state: &AppState,
    name: &str,
    status: StatusCode,
    ctx: Value,
) -> Result<Response, PageError> {
    Ok(html_response(status, render_html(state, name, ctx)?))
}

/// The pages that depend only on the language: rendered once at startup
/// (except in `--dev`), so showing them costs a copy of a pointer.
#[derive(Default)]
pub struct PageCache(Vec<(Fixed, Lang, bool, Bytes)>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixed {
    Form,
    Model,
    Batch,
}

impl PageCache {
    /// Renders every fixed page in both languages; a page that fails to
    /// render is left out and rendered per request (showing the error).
    pub fn build(state: &AppState) -> PageCache {
        let mut pages = Vec::new();
        for which in [Fixed::Form, Fixed::Model, Fixed::Batch] {
            for lang in Lang::ALL {
                for explicit in [false, true] {
                    if let Ok(html) = fixed_html(state, which, Page { lang, explicit }) {
                        pages.push((which, lang, explicit, Bytes::from(html)));
                    }
                }
            }
        }
        PageCache(pages)
    }

    fn get(&self, which: Fixed, page: Page) -> Option<Bytes> {
        self.0
            .iter()
            .find(|(w, l, e, _)| *w == which && *l == page.lang && *e == page.explicit)
            .map(|(.., b)| b.clone())
    }
}

fn fixed_html(state: &AppState, which: Fixed, page: Page) -> Result<String, ApiError> {
    let views = state.lang_views(page.lang);
    let base = views.base(page.explicit);
    match which {
        Fixed::Form => render_html(
            state,
            "index.html",
            base.with("page", "index")
                .with("fields", views.fields.clone())
                .with("values", views.defaults.clone())
                .with("errors", views.no_errors.clone())
                .with("answer", ())
                .into_value(),
        ),
        Fixed::Model => render_html(
            state,
            "model.html",
            base.with("page", "model")
                .with("card", views.card.clone())
                .into_value(),
        ),
        Fixed::Batch => render_html(state, "batch.html", batch_context(state, page, None, None)),
    }
}

fn fixed_page(state: &AppState, which: Fixed, page: Page) -> Result<Response, PageError> {
    if let Some(html) = state.pages.get().and_then(|c| c.get(which, page)) {
        return Ok(html_response(StatusCode::OK, html));
    }
    Ok(html_response(
        StatusCode::OK,
        fixed_html(state, which, page)?,
    ))
}

/// The result page, or the form with errors.
fn form_page(
    state: &AppState,
    page: Page,
    values: &view::KeptValues<'_>,
    outcome: Result<&view::Answer, view::FormErrors>,
) -> Result<Response, PageError> {
    let status = match outcome {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let views = state.lang_views(page.lang);
    if state.write_pages {
        let html = views.writer.write(&page_writer::FormPage {
            explicit: page.explicit,
            values,
            outcome: outcome.as_ref().map(|a| *a),
        });
        return Ok(html_response(status, html));
    }
    let (name, ctx) = form_page_context(views, page, values, outcome);
    render(state, name, status, ctx)
}

/// The template and context of [`form_page`] for minijinja.
pub fn form_page_context(
    views: &view::LangViews,
    page: Page,
    values: &view::KeptValues<'_>,
    outcome: Result<&view::Answer, view::FormErrors>,
) -> (&'static str, Value) {
    let base = views.base(page.explicit);
    let fields = views.fields.clone();
    let values = Vars::from_pairs(values.by_name(views.form_fields())).into_value();
    match outcome {
        Ok(answer) => {
            let ctx = base
                .with("page", "result")
                .with("fields", fields)
                .with("values", values)
                .with("errors", views.no_errors.clone())
                .with("answer", Serde(answer))
                .into_value();
            ("result.html", ctx)
        }
        Err(errors) => {
            let ctx = base
                .with("page", "index")
                .with("fields", fields)
                .with("values", values)
                .with("errors", Vars::from_pairs(errors.by_field).into_value())
                .with("form_error", errors.form_error)
                .with("error_count", errors.count)
                .with("answer", ())
                .into_value();
            ("index.html", ctx)
        }
    }
}

async fn form_show(State(state): State<AppState>, page: Page) -> Result<Response, PageError> {
    fixed_page(&state, Fixed::Form, page)
}

/// Refuses a request that is not a form (by its `Content-Type`) before its
/// body is read, and without a copy of its headers.
struct IsForm;

impl<S: Send + Sync> FromRequestParts<S> for IsForm {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, PageError> {
        require_form(&parts.headers)?;
        Ok(IsForm)
    }
}

async fn predict_form(
    State(state): State<AppState>,
    page: Page,
    _: IsForm,
    Body(body, ..): Body<PageError>,
) -> Result<Response, PageError> {
    let schema = &state.model().schema;
    let mut pairs = form_pairs(&body);
    if Decimals::of(page.lang) == Decimals::PointOrComma {
        with_decimal_points(schema, &mut pairs);
    }
    let pairs = || pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref()));
    let views = state.lang_views(page.lang);
    let values = view::kept_values(views.form_fields(), pairs());
    match schema.parse_form(pairs(), page.lang) {
        Ok(row) => {
            let (prediction, explanation) = state.explain(&row);
            let answer = view::answer(
                &state.loaded,
                &views.bar_labels,
                &row,
                &prediction,
                &explanation,
                page.lang,
            );
            form_page(&state, page, &values, Ok(&answer))
        }
        Err(errors) => {
            let errors = view::field_errors(schema, &errors, page.lang);
            form_page(&state, page, &values, Err(errors))
        }
    }
}

/// A number typed with a decimal comma (`22,5`, in a Spanish form) written
/// with a point: the form shown again keeps the value, and a number input
/// only takes a point (a browser would show `22,5` there as empty).
fn with_decimal_points(schema: &Schema, pairs: &mut [(Cow<'_, str>, Cow<'_, str>)]) {
    for (name, value) in pairs {
        if !value.contains(',') {
            continue;
        }
        let number = schema.field_index(name).is_some_and(|i| {
            matches!(
                schema.fields[i].kind,
                FieldKind::Number(_) | FieldKind::Integer(_)
            )
        });
        if let Some(point) = comma_decimal(value).filter(|_| number) {
            *value = Cow::Owned(point);
        }
    }
}

/// The form's name–value pairs, exactly as `form_urlencoded::parse` gives
/// them. A body with nothing to decode (UTF-8 without `+` or `%`: what a
/// browser sends for plain numbers and words) is only split; the parser would
/// look for `+`, percent-decode and check the UTF-8 of every name and value,
/// about 7 % of a result page's instructions.
fn form_pairs(body: &[u8]) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    match std::str::from_utf8(body) {
        Ok(text) if !text.bytes().any(|b| b == b'+' || b == b'%') => {
            // Split on bytes: `&` and `=` are ASCII, so every cut is at a
            // character boundary (and a byte loop beats `str`'s searchers
            // on pieces this short).
            let mut pairs = Vec::with_capacity(16);
            let mut start = 0;
            for end in text
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'&')
                .map(|(i, _)| i)
                .chain([text.len()])
            {
                let pair = &text[start..end];
                start = end + 1;
                if pair.is_empty() {
                    continue;
                }
                let (name, value) = match pair.bytes().position(|b| b == b'=') {
                    Some(i) => (&pair[..i], &pair[i + 1..]),
                    None => (pair, ""),
                };
                pairs.push((Cow::Borrowed(name), Cow::Borrowed(value)));
            }
            pairs
        }
        _ => form_urlencoded::parse(body).collect(),
    }
}

fn require_form(headers: &HeaderMap) -> Result<(), ApiError> {
    // What browsers send, checked before any parsing.
    const FORM: &[u8] = b"application/x-www-form-urlencoded";
    if headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == FORM)
    {
        return Ok(());
    }
    let (essence, _) = error::media_type(headers);
    if essence == "application/x-www-form-urlencoded" {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType {
            got: essence,
            expected: "application/x-www-form-urlencoded (an HTML form)",
        })
    }
}

async fn model_show(State(state): State<AppState>, page: Page) -> Result<Response, PageError> {
    fixed_page(&state, Fixed::Model, page)
}

async fn batch_show(State(state): State<AppState>, page: Page) -> Result<Response, PageError> {
    fixed_page(&state, Fixed::Batch, page)
}

/// What a batch run gives the page.
#[derive(serde::Serialize)]
struct BatchView {
    rows: u64,
    predicted: u64,
    failed: u64,
    errors: Vec<view::Choice>,
    more_errors: bool,
    unused: Vec<String>,
    /// The file was separated by semicolons, and so is the output.
    semicolons: bool,
    /// Bytes of the file were read as Windows-1252.
    windows1252: bool,
    header: Vec<String>,
    preview: Vec<Vec<String>>,
    download: String,
    filename: String,
}

fn batch_context(
    state: &AppState,
    page: Page,
    result: Option<&BatchView>,
    problem: Option<&str>,
) -> Value {
    let views = state.lang_views(page.lang);
    let columns: Vec<String> = state
        .model()
        .schema
        .field_names()
        .map(String::from)
        .collect();
    views
        .base(page.explicit)
        .with("page", "batch")
        .with("fields", views.fields.clone())
        .with("columns", columns)
        .with("result", result.map(Serde))
        .with("problem", problem.map(String::from))
        .with("max_errors", batch::KEEP_ERRORS)
        .into_value()
}

fn batch_page(
    state: &AppState,
    page: Page,
    status: StatusCode,
    result: Option<&BatchView>,
    problem: Option<&str>,
) -> Result<Response, PageError> {
    render(
        state,
        "batch.html",
        status,
        batch_context(state, page, result, problem),
    )
}

/// The uploaded CSV: from a form (`multipart/form-data`, field `file`) or a
/// raw `text/csv` body; `explain` adds contributions.
struct Upload {
    csv: Bytes,
    filename: String,
    explain: bool,
}

async fn read_upload(state: &AppState, request: Request) -> Result<Upload, ApiError> {
    error::check_encoding(request.headers())?;
    let (essence, _) = error::media_type(request.headers());
    // Read as /api/v1/predict reads it, with the same errors.
    let explain_query = super::api::query_flag(request.uri().query(), "explain")?;
    match essence.as_str() {
        "text/csv" | "application/csv" => {
            let limit = state.config.upload_limit;
            let csv = error::read_body(request.into_body(), limit).await?;
            Ok(Upload {
                csv,
                filename: "data.csv".into(),
                explain: explain_query,
            })
        }
        "multipart/form-data" => {
            let (parts, body) = request.into_parts();
            let bytes = error::read_body(body, state.config.upload_limit).await?;
            let request = Request::from_parts(parts, axum::body::Body::from(bytes));
            let mut form = Multipart::from_request(request, state)
                .await
                .map_err(|e| ApiError::BadRequest(e.body_text()))?;
            let mut upload = Upload {
                csv: Bytes::new(),
                filename: "data.csv".into(),
                explain: explain_query,
            };
            while let Some(field) = form
                .next_field()
                .await
                .map_err(|e| ApiError::BadRequest(e.body_text()))?
            {
                match field.name() {
                    Some("file") => {
                        if let Some(name) = field.file_name() {
                            upload.filename = name.to_string();
                        }
                        upload.csv = field
                            .bytes()
                            .await
                            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
                    }
                    // The form's checkbox sends "true" (a browser's default is "on").
                    Some("explain") => {
                        let value = field
                            .text()
                            .await
                            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
                        upload.explain =
                            value == "on" || super::api::flag_value("explain", &value)?;
                    }
                    _ => {}
                }
            }
            Ok(upload)
        }
        _ => Err(ApiError::UnsupportedMediaType {
            got: essence,
            expected: "multipart/form-data (a form with a file) or text/csv",
        }),
    }
}

/// Whether the client wants the scored CSV itself rather than a page:
/// `?format=csv` or `?format=html` if given (anything else is refused, naming
/// both), else what `Accept` prefers, with its q-values (a page when it
/// prefers neither, or takes both alike).
fn wants_csv(headers: &HeaderMap, query: Option<&str>) -> Result<bool, ApiError> {
    let format = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "format")
            .map(|(_, v)| v)
    });
    match format.as_deref() {
        Some("csv") => return Ok(true),
        Some("html") => return Ok(false),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "the query parameter format is {}; use csv (the scored file) or html (a page)",
                quoted(&error::cap(other))
            )));
        }
        None => {}
    }
    // Several Accept headers are one list (RFC 9110 §5.3).
    let accept: Vec<&str> = (headers.get_all(header::ACCEPT).iter())
        .filter_map(|v| v.to_str().ok())
        .collect();
    let accept = accept.join(",");
    let chosen = super::accept::media_type(Some(&accept), &["text/html", "text/csv"]);
    Ok(chosen == Some("text/csv"))
}

async fn batch_score(State(state): State<AppState>, page: Page, request: Request) -> Response {
    let mut response = batch_answer(state, page, request).await.into_response();
    response
        .headers_mut()
        .insert(header::VARY, VARY_ACCEPT_AND_LANGUAGE);
    response
}

async fn batch_answer(
    state: AppState,
    page: Page,
    request: Request,
) -> Result<Response, PageError> {
    let csv_out = match wants_csv(request.headers(), request.uri().query()) {
        Ok(csv_out) => csv_out,
        Err(e) => {
            let detail = e.detail();
            return batch_page(&state, page, StatusCode::BAD_REQUEST, None, Some(&detail));
        }
    };
    // A program that asked for the scored CSV gets its errors as problem
    // details (`application/problem+json`), as the API documentation says.
    let problem = |e: ApiError| Ok(error::render(&e, error::Protocol::Problem));
    let upload = match read_upload(&state, request).await {
        Ok(u) => u,
        Err(e) if csv_out => return problem(e),
        Err(e @ ApiError::BadRequest(_)) => {
            return batch_page(
                &state,
                page,
                StatusCode::BAD_REQUEST,
                None,
                Some(&e.detail()),
            );
        }
        Err(e) => return Err(e.into()),
    };
    if upload.csv.is_empty() {
        if csv_out {
            return problem(ApiError::BadRequest(
                "the body is empty; send the CSV file to score, its first line naming the columns"
                    .into(),
            ));
        }
        let msg = i18n::get("batch_no_file", page.lang);
        return batch_page(&state, page, StatusCode::BAD_REQUEST, None, Some(msg));
    }
    let options = BatchOptions {
        explain: upload.explain,
        strict: false,
        lang: page.lang,
    };
    let model_state = state.clone();
    let csv = upload.csv.clone();
    let scored = tokio::task::spawn_blocking(move || {
        let mut out = Vec::with_capacity(csv.len() + csv.len() / 2);
        batch::score_csv(
            model_state.model(),
            &csv[..],
            &mut out,
            &options,
            &mut |_| {},
            &mut |_| {},
        )
        .map(|summary| (summary, out))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("batch task failed: {e}")))?;
    let (summary, out) = match scored {
        Ok((summary, out)) => {
            state.count_batch(&summary.per_class);
            (summary, out)
        }
        Err(e) if csv_out => {
            return problem(ApiError::invalid(vec![error::FieldProblem {
                row: None,
                field: "file".into(),
                pointer: None,
                message: e.to_string(),
            }]));
        }
        Err(e) => {
            let msg = e.to_string();
            return batch_page(
                &state,
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(&msg),
            );
        }
    };
    let filename = scored_name(&upload.filename);
    if csv_out {
        return Ok(csv_response(out, &filename, summary.failed));
    }
    let view = batch_view(&summary, &out, &filename);
    batch_page(&state, page, StatusCode::OK, Some(&view), None)
}

fn scored_name(uploaded: &str) -> String {
    let stem = uploaded.rsplit(['/', '\\']).next().unwrap_or("data");
    let stem = stem.strip_suffix(".csv").unwrap_or(stem);
    // Letters and digits of any script (not controls, bidirectional or
    // invisible characters, which are not alphanumeric), and `-_.`; accents
    // written as marks after their letter (macOS names files so: `n` and a
    // combining tilde for `ñ`) stay with it, two at most.
    let mut clean = String::new();
    let mut marks = 0;
    let mut after_letter = false;
    for c in stem.chars().take(120) {
        if is_combining_mark(c) {
            if after_letter && marks < 2 {
                clean.push(c);
                marks += 1;
            }
            continue;
        }
        after_letter = c.is_alphanumeric();
        marks = 0;
        if after_letter || "-_.".contains(c) {
            clean.push(c);
        }
    }
    let clean: String = clean.chars().take(60).collect();
    let clean = if clean.is_empty() {
        "data".into()
    } else {
        clean
    };
    format!("{clean}-scored.csv")
}

/// A combining accent (U+0300–U+036F and the other blocks of combining
/// diacritical marks): a letter's accent in decomposed text.
fn is_combining_mark(c: char) -> bool {
    matches!(
        u32::from(c),
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F
    )
}

fn csv_response(out: Vec<u8>, filename: &str, failed: u64) -> Response {
    let mut r = (StatusCode::OK, out).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&attachment(filename)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&failed.to_string()) {
        h.insert("x-rejected-rows", v);
    }
    r
}

/// `Content-Disposition` for a download named `filename` (letters, digits
/// and `-_.`, as [`scored_name`] leaves it): `filename=` in ASCII, every
/// other letter as `_`, for clients that know no more; and when the name is
/// not ASCII, `filename*=` with the whole name in UTF-8 (RFC 6266 and RFC
/// 8187), which browsers and curl prefer.
fn attachment(filename: &str) -> String {
    // A decomposed accent is left out rather than made a `_` of its own.
    let ascii: String = filename
        .chars()
        .filter(|&c| !is_combining_mark(c))
        .map(|c| if c.is_ascii() { c } else { '_' })
        .collect();
    let mut value = format!("attachment; filename=\"{ascii}\"");
    if !filename.is_ascii() {
        value.push_str("; filename*=UTF-8''");
        for &b in filename.as_bytes() {
            // RFC 8187's attr-char, as is; every other byte percent-encoded.
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                value.push(b as char);
            } else {
                value.push_str(&format!("%{b:02X}"));
            }
        }
    }
    value
}

fn batch_view(summary: &batch::BatchSummary, out: &[u8], filename: &str) -> BatchView {
    let semicolons = summary.separator == Separator::Semicolon;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .delimiter(if semicolons { b';' } else { b',' })
        .from_reader(out);
    let header = reader
        .headers()
        .map(|h| h.iter().map(|s| s.chars().take(40).collect()).collect())
        .unwrap_or_default();
    let preview = reader
        .records()
        .take(10)
        .filter_map(Result::ok)
        .map(|r| r.iter().map(|s| s.chars().take(40).collect()).collect())
        .collect();
    BatchView {
        rows: summary.rows,
        predicted: summary.predicted,
        failed: summary.failed,
        errors: summary
            .errors
            .iter()
            .map(|f| view::Choice {
                label: f.line.to_string(),
                value: f.message.clone(),
            })
            .collect(),
        more_errors: summary.failed > summary.errors.len() as u64,
        unused: summary.unused_columns.clone(),
        semicolons,
        windows1252: summary.windows1252,
        header,
        preview,
        download: format!("data:text/csv;charset=utf-8;base64,{}", base64(out)),
        filename: filename.to_string(),
    }
}

/// Standard base64, for the download link (no dependency for 20 lines).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

async fn docs_show(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let views = state.lang_views(page.lang);
    let origin = origin(&headers);
    let ctx = views
        .base(page.explicit)
        .with("page", "docs")
        .with("operations", Serde(state.openapi.operations(&origin)))
        .with("problems", Serde(super::openapi::problem_types()))
        .into_value();
    render(&state, "docs.html", StatusCode::OK, ctx)
}

/// The address the visitor used, so the curl examples work as printed.
fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("localhost:5000");
    let proto = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{proto}://{host}")
}

async fn static_file(
    State(state): State<AppState>,
    PathParams(path, ..): PathParams<String, PageError>,
) -> Response {
    static_response(&state, &path)
}

fn static_response(state: &AppState, path: &str) -> Response {
    match state.templates.static_file(path) {
        Some(file) => {
            let cache = if state.templates.is_dev() {
                "no-cache"
            } else {
                "public, max-age=3600"
            };
            (
                [
                    (header::CONTENT_TYPE, file.content_type),
                    (header::CACHE_CONTROL, cache),
                ],
                file.bytes,
            )
                .into_response()
        }
        None => error::render(
            &ApiError::NotFound(format!(
                "there is no static file {}",
                crate::quote::name(&error::cap(path))
            )),
            error::Protocol::Html,
        ),
    }
}

async fn favicon(State(state): State<AppState>) -> Response {
    static_response(&state, "favicon.svg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_has_room_for_every_header_it_leaves_with() {
        let mut response = html_response(StatusCode::OK, "<p>hi</p>");
        let room = response.headers().capacity();
        let h = response.headers_mut();
        h.insert(
            super::super::layers::REQUEST_ID,
            HeaderValue::from_static("a1"),
        );
        super::super::layers::set_security_headers(h);
        assert_eq!(h.len(), PAGE_HEADERS);
        assert_eq!(h.capacity(), room, "the header map grew on the way out");
    }

    #[test]
    fn forms_are_taken_with_any_spelling_of_their_media_type() {
        let with = |content_type: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(content_type).unwrap(),
            );
            require_form(&headers)
        };
        for ok in [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=UTF-8",
            "Application/X-WWW-Form-Urlencoded",
        ] {
            assert!(with(ok).is_ok(), "{ok}");
        }
        for wrong in ["application/json", "multipart/form-data; boundary=x", ""] {
            let err = with(wrong).unwrap_err();
            assert!(
                err.detail().contains("an HTML form"),
                "{wrong}: {}",
                err.detail()
            );
        }
        assert!(require_form(&HeaderMap::new()).is_err());
    }

    #[test]
    fn form_pairs_are_what_form_urlencoded_gives() {
        let bodies: [&[u8]; 16] = [
            b"Pclass=3&Sex=female&Age=22.0&SibSp=1&Parch=0&Fare=7.25&Embarked=S",
            b"",
            b"&",
            b"&&a=1&&",
            b"a",
            b"=b",
            b"a=",
            b"a=b=c",
            b"a=1&a=2",
            b"name=Mr+Smith",
            b"Fare=7%2C25&x=%zz&y=%",
            b"q=caf%C3%A9",
            b"q=caf\xc3\xa9",
            b"bad=\xff\xfe&ok=1",
            b"bad=%FF",
            b"sp ace=t\tab",
        ];
        for body in bodies {
            let expected: Vec<_> = form_urlencoded::parse(body).collect();
            assert_eq!(
                form_pairs(body),
                expected,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // The plain body is only split: nothing is copied.
        let plain = form_pairs(b"Age=22&Sex=male");
        assert!(
            plain
                .iter()
                .all(|(k, v)| matches!((k, v), (Cow::Borrowed(_), Cow::Borrowed(_))))
        );
    }

    /// The models the page test runs over: the built-in ones, and a small one
    /// with markup in every text the pages show.
    fn page_test_models() -> Vec<crate::model::file::Loaded> {
        use crate::schema::{FieldKind, Text};
        let mut models: Vec<_> = crate::builtin::names()
            .into_iter()
            .map(|name| crate::builtin::load(name).unwrap())
            .collect();
        let mut model = crate::model::tests::tiny_model();
        let mark = |t: &str| Text::bilingual(format!("{t} <b>&\"'/"), format!("{t} ¿<i>'/&\"?"));
        let schema = &mut model.schema;
        schema.title = mark("Title");
        schema.description = mark("Description");
        schema.target.label = mark("Target");
        for f in &mut schema.fields {
            f.label = mark(&f.name);
            match &mut f.kind {
                FieldKind::Number(n) | FieldKind::Integer(n) => n.unit = Some(mark("unit")),
                FieldKind::Category(c) => {
                    for v in &mut c.values {
                        v.label = mark(&v.value);
                    }
                }
                FieldKind::Boolean => {}
            }
            if f.name != "Age" {
                f.help = mark("help");
            }
        }
        schema.fields[0].default = Some("2".into());
        models.push(crate::model::file::Loaded {
            model,
            sha256: "<&>\"'/<&>\"'/-and-more".into(),
        });
        models
    }

    /// Submitted pairs that the model takes: each select's last option and
    /// each number's minimum.
    fn valid_pairs(views: &view::LangViews) -> Vec<(String, String)> {
        views
            .form_fields()
            .iter()
            .map(|f| {
                let value = match f.options.last() {
                    Some(o) => o.value.clone(),
                    None => f.min.clone().unwrap_or_else(|| "3".into()),
                };
                (f.name.clone(), value)
            })
            .collect()
    }

    #[test]
    fn written_pages_match_the_templates() {
        let templates =
            crate::serve::templates::Templates::load(crate::serve::templates::Sources::default())
                .unwrap();
        let mut pages = 0;
        for loaded in page_test_models() {
            let views = view::Views::new(&loaded, false);
            let schema = &loaded.model.schema;
            for lang in Lang::ALL {
                let v = views.get(lang);
                let valid = valid_pairs(v);
                let marked: Vec<(String, String)> = v
                    .form_fields()
                    .iter()
                    .map(|f| (f.name.clone(), "<x>&\"'/".to_string()))
                    .chain([("Nope".to_string(), "1".to_string())])
                    .collect();
                let mut submissions = vec![valid, marked, Vec::new()];
                // One field left out of an otherwise valid form.
                let mut one_missing = submissions[0].clone();
                one_missing.remove(0);
                submissions.push(one_missing);
                for explicit in [false, true] {
                    let page = Page { lang, explicit };
                    for pairs in &submissions {
                        let pairs = || pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
                        let values = view::kept_values(v.form_fields(), pairs());
                        let outcome = || match schema.parse_strings(pairs()) {
                            Ok(row) => {
                                let (p, e) = loaded.model.explain(&row);
                                Ok(view::answer(&loaded, &v.bar_labels, &row, &p, &e, lang))
                            }
                            Err(errors) => Err(view::field_errors(schema, &errors, lang)),
                        };
                        let mut answers = vec![outcome()];
                        // An answer without probabilities, as for a regression,
                        // with markup in what a request brings.
                        if let Ok(a) = outcome() {
                            answers.push(Ok(view::Answer {
                                label: "<3.5 & 'so' on/off\"".into(),
                                probability: String::new(),
                                index: 12,
                                explained: "<e>",
                                units: "'u'",
                                ..a.clone()
                            }));
                            // Placeholders in what fills the placeholders: the
                            // template fills `{target}`, then `{units}` in the result.
                            answers.push(Ok(view::Answer {
                                explained: "{units} {target} {<",
                                units: "{target}{",
                                ..a
                            }));
                        }
                        for answer in answers {
                            let written = v.writer.write(&page_writer::FormPage {
                                explicit,
                                values: &values,
                                outcome: answer.as_ref(),
                            });
                            // FormErrors are taken by value: make them again.
                            let again = match &answer {
                                Ok(a) => Ok(a),
                                Err(_) => Err(outcome().err().unwrap()),
                            };
                            let (name, ctx) = form_page_context(v, page, &values, again);
                            let rendered = templates.render(name, ctx).unwrap();
                            assert_same_page(
                                &written,
                                &rendered,
                                &format!(
                                    "{} {lang:?} {explicit} {pairs:?}",
                                    schema.name,
                                    pairs = pairs().collect::<Vec<_>>()
                                ),
                            );
                            pages += 1;
                        }
                    }
                }
            }
        }
        assert!(pages >= 60, "only {pages} pages compared");
    }

    fn assert_same_page(written: &str, rendered: &str, case: &str) {
        if written == rendered {
            return;
        }
        let at = written
            .bytes()
            .zip(rendered.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(written.len().min(rendered.len()));
        let from = at.saturating_sub(120);
        let near = |s: &str| {
            s.get(from..(at + 120).min(s.len()))
                .unwrap_or("")
                .to_string()
        };
        panic!(
            "written and rendered pages differ at byte {at} ({case}):\n--- written\n{}\n--- rendered\n{}",
            near(written),
            near(rendered)
        );
    }

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn scored_names_are_safe() {
        assert_eq!(scored_name("passengers.csv"), "passengers-scored.csv");
        assert_eq!(scored_name("../../etc/pass\"wd"), "passwd-scored.csv");
        assert_eq!(scored_name(""), "data-scored.csv");
        assert_eq!(scored_name("año ñandú.csv"), "añoñandú-scored.csv");
        assert_eq!(scored_name("x\u{202e}vsc.exe"), "xvsc.exe-scored.csv");
        // Decomposed accents (as macOS writes names) stay on their letter,
        // two at most; a mark after no letter goes.
        assert_eq!(scored_name("an\u{303}o.csv"), "an\u{303}o-scored.csv");
        assert_eq!(
            scored_name("e\u{301}\u{302}\u{303}\u{304}-\u{301}x"),
            "e\u{301}\u{302}-x-scored.csv"
        );
        assert_eq!(
            attachment("an\u{303}o-scored.csv"),
            "attachment; filename=\"ano-scored.csv\"; filename*=UTF-8''an%CC%83o-scored.csv"
        );
    }

    #[test]
    fn downloads_are_named_in_ascii_and_in_utf8() {
        assert_eq!(
            attachment("data-scored.csv"),
            "attachment; filename=\"data-scored.csv\""
        );
        assert_eq!(
            attachment("año_日本-scored.csv"),
            "attachment; filename=\"a_o___-scored.csv\"; filename*=UTF-8''a%C3%B1o_%E6%97%A5%E6%9C%AC-scored.csv"
        );
    }
}
