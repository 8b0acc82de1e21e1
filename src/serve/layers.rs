//! What every request goes through, assembled in one place ([`wrap`]):
//! panics caught, gzip (only for clients that accept it), and one middleware ([`Around`]) that gives the
//! request an id, counts it, times it out, renders error pages in the
//! visitor's language, adds security headers and writes one logfmt line.
//!
//! The stack wraps the whole router once, instead of each route (which is
//! what `Router::layer` does): a request then costs one boxed future here
//! instead of a cloned, boxed service and future per layer and route. The
//! route label for metrics and logs comes from the path, matched against the
//! router's own patterns ([`super::metrics::Metrics::route`]).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service, ServiceExt};
use tower_http::catch_panic::{CatchPanic, CatchPanicLayer, ResponseForPanic};
use tower_http::compression::predicate::{And, NotForContentType, Predicate, SizeAbove};
use tower_http::compression::{Compression, CompressionLayer};

use super::AppState;
use super::error::{self, ApiError, ErrorPage, Protocol};
use super::i18n;
use crate::schema::Lang;

/// A detail of an internal error, logged with the request id, never sent.
#[derive(Debug, Clone)]
pub struct InternalDetail(pub String);

/// Marks a response made by the panic handler.
#[derive(Debug, Clone, Copy)]
struct Panicked;

// Header values are constants: `HeaderValue::from_static` checks every byte
// when it runs, and as a `const` it runs once, in the compiler. At run time
// the checks cost a result page about 1,400 instructions.

/// The policy of an HTML page: our own stylesheet and images, forms posted
/// back here, no scripts, no framing.
const PAGE_CSP: HeaderValue = HeaderValue::from_static(
    "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
);
/// The policy of everything else (JSON, CSV, text, the favicon): nothing may
/// load or run should a browser open it, and nothing may frame it.
const DATA_CSP: HeaderValue =
    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const NO_REFERRER: HeaderValue = HeaderValue::from_static("no-referrer");
const DENY: HeaderValue = HeaderValue::from_static("DENY");
const OPENER_POLICY: HeaderName = HeaderName::from_static("cross-origin-opener-policy");
const SAME_ORIGIN: HeaderValue = HeaderValue::from_static("same-origin");
const ACCEPT_ENCODING: HeaderValue = HeaderValue::from_static("accept-encoding");
const LANGUAGE_AND_ENCODING: HeaderValue =
    HeaderValue::from_static("Accept-Language, accept-encoding");

/// The whole app as one service: the router inside its middleware.
pub type App = Around<CatchPanic<Router, PanicResponse>>;

/// Which answers are gzipped (when the client accepts it).
type Compressible = And<And<SizeAbove, NotForContentType>, NotForContentType>;

fn compressible() -> Compressible {
    // Small answers (a prediction is ~150 bytes) cost more to gzip than to send.
    SizeAbove::new(1024)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
}

/// Adds fallbacks to the routes and wraps them in the middleware.
pub fn wrap(routes: Router<AppState>, state: AppState) -> App {
    let router = routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone());
    let compress = CompressionLayer::new()
        .gzip(true)
        .compress_when(compressible());
    let inner = compress.layer(CatchPanicLayer::custom(PanicResponse).layer(router));
    Around {
        state,
        inner,
        compressible: compressible(),
    }
}

async fn not_found(request: Request) -> Response {
    let path = request.uri().path();
    let what = format!("there is nothing at {}", error::cap(path));
    error::render(&ApiError::NotFound(what), Protocol::for_path(path))
}

/// The router's answer when a path exists but not for this method. The
/// router adds the `Allow` header after this returns, so [`around`] words
/// the detail from it ([`name_allowed_methods`]).
async fn method_not_allowed(request: Request) -> Response {
    error::render(
        &ApiError::MethodNotAllowed {
            allow: String::new(),
        },
        Protocol::for_path(request.uri().path()),
    )
}

/// A 405 rendered again with the methods of its `Allow` header in its detail
/// (`GET,HEAD` → "it accepts GET, HEAD"), keeping the header, which RFC 9110
/// requires on every 405.
fn name_allowed_methods(response: Response, path: &str) -> Response {
    let Some(allow) = response.headers().get(header::ALLOW).cloned() else {
        return response;
    };
    let methods = allow
        .to_str()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let mut renamed = error::render(
        &ApiError::MethodNotAllowed { allow: methods },
        Protocol::for_path(path),
    );
    renamed.headers_mut().insert(header::ALLOW, allow);
    renamed
}

/// The answer to a panic: a bare 500 that [`around`] turns into the
/// endpoint's error format (the panic message is only logged).
#[derive(Debug, Clone, Copy)]
pub struct PanicResponse;

impl ResponseForPanic for PanicResponse {
    type ResponseBody = Body;

    fn response_for_panic(&mut self, payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        let mut r = StatusCode::INTERNAL_SERVER_ERROR.into_response();
        r.extensions_mut().insert(Panicked);
        r.extensions_mut()
            .insert(InternalDetail(format!("panic: {what}")));
        r
    }
}

/// The request id's header, parsed once (a `&str` name is parsed again on
/// every lookup).
pub(super) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request id from `X-Request-ID` (as Heroku's router sends it) when it is
/// a sane token, else a new one.
fn request_id(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(v) = headers.get(&REQUEST_ID).and_then(|v| v.to_str().ok()) {
        let ok = !v.is_empty()
            && v.len() <= 128
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if ok {
            return v.to_string();
        }
    }
    state.next_request_id()
}

/// The middleware around every request, as a service wrapping the app.
#[derive(Clone)]
pub struct Around<S> {
    state: AppState,
    /// The app behind gzip. A request whose client does not take gzip goes
    /// to the app itself (`inner.get_ref()`): the gzip layer would only
    /// pass its answer through, at a cost of about 8 % of a prediction's
    /// instructions (wrapping and re-boxing the body, parsing no header).
    inner: Compression<S, Compressible>,
    /// The gzip layer's rule, to say `Vary: Accept-Encoding` as it would.
    compressible: Compressible,
}

impl<S, B> Service<Request> for Around<S>
where
    S: Service<Request, Response = axum::http::Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError> + Send + Sync,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Readiness is checked on the clone that serves the request (`oneshot`).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let state = self.state.clone();
        // `around` itself is the boxed future, not an async block awaiting
        // it: a block would keep its own copy of the request beside it.
        if may_take_gzip(request.headers()) {
            let inner = self.inner.clone();
            let answer = |r| async move {
                let mut response = answer(inner, r).await;
                merge_vary(response.headers_mut());
                response
            };
            Box::pin(around(state, request, answer))
        } else {
            let inner = self.inner.get_ref().clone();
            let compressible = self.compressible.clone();
            let answer = |r| async move {
                let mut response = answer(inner, r).await;
                if compressible.should_compress(&response) {
                    vary_on_encoding(response.headers_mut());
                }
                response
            };
            Box::pin(around(state, request, answer))
        }
    }
}

/// The app's answer to `request`, its body boxed.
async fn answer<S, B>(app: S, request: Request) -> Response
where
    S: Service<Request, Response = axum::http::Response<B>, Error = Infallible>,
    B: HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    match app.oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    }
}

/// Whether the client may take gzip: its `Accept-Encoding` names `gzip` or
/// `*`. The gzip layer then reads the q-values and decides; any other
/// client gets the answer as it is.
fn may_take_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().any(|v| {
        let v = v.as_bytes();
        v.contains(&b'*') || v.windows(4).any(|w| w.eq_ignore_ascii_case(b"gzip"))
    })
}

/// Says that the answer depends on `Accept-Encoding`, as the gzip layer
/// does for an answer it could have compressed: a shared cache must not
/// give this uncompressed copy to every client, nor a gzipped one to this.
/// In one header with what the answer already varies with.
fn vary_on_encoding(headers: &mut HeaderMap) {
    let mut values = headers.get_all(header::VARY).iter();
    match (values.next(), values.next()) {
        (None, _) => {
            headers.insert(header::VARY, ACCEPT_ENCODING);
            return;
        }
        // A page: a constant rather than a join, on every page.
        (Some(only), None) if only == super::ui::VARY_LANGUAGE => {
            headers.insert(header::VARY, LANGUAGE_AND_ENCODING);
            return;
        }
        _ => {}
    }
    let named = headers.get_all(header::VARY).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|h| h.trim().eq_ignore_ascii_case("accept-encoding"))
        })
    });
    if !named {
        headers.append(header::VARY, ACCEPT_ENCODING);
        merge_vary(headers);
    }
}

/// Joins the `Vary` headers of an answer into one, as a page's
/// `Accept-Language` and the gzip rule's `Accept-Encoding` would otherwise
/// go out as two: the same meaning, one line for caches and people to read.
fn merge_vary(headers: &mut HeaderMap) {
    let mut values = headers.get_all(header::VARY).iter();
    let (Some(first), Some(second)) = (values.next(), values.next()) else {
        return;
    };
    // A page's pair when gzip's layer added the second: a constant, not a
    // join (which cost a result page 1,000 instructions).
    if values.next().is_none()
        && first == super::ui::VARY_LANGUAGE
        && second.as_bytes().eq_ignore_ascii_case(b"accept-encoding")
    {
        headers.insert(header::VARY, LANGUAGE_AND_ENCODING);
        return;
    }
    let names: Vec<&[u8]> = (headers.get_all(header::VARY).iter())
        .map(HeaderValue::as_bytes)
        .collect();
    if let Ok(joined) = HeaderValue::from_bytes(&names.join(&b", "[..])) {
        headers.insert(header::VARY, joined);
    }
}

async fn around<F, Fut>(state: AppState, request: Request, next: F) -> Result<Response, Infallible>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let state = &state;
    let start = Instant::now();
    let _in_flight = state.metrics.start();
    let id = request_id(state, request.headers());
    let method = request.method().clone();
    let uri = request.uri().clone();
    let path = uri.path();
    let route = state.metrics.route(path);
    let (lang, explicit) = i18n::negotiate(request.uri().query(), request.headers());
    let local = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|c| c.0.ip().is_loopback());

    let mut response = if state.config.timeout.is_zero() {
        next(request).await
    } else {
        let deadline = tokio::time::Instant::from_std(start) + state.config.timeout;
        // Pinned here, not moved into `within`: the answer's future is over a kilobyte.
        let answer = std::pin::pin!(next(request));
        match within(deadline, answer).await {
            Some(r) => r,
            None => error::render(&ApiError::Timeout, Protocol::for_path(path)),
        }
    };
    if response.extensions().get::<Panicked>().is_some() {
        let detail = response.extensions_mut().remove::<InternalDetail>();
        response = error::render(&ApiError::Internal(String::new()), Protocol::for_path(path));
        if let Some(d) = detail {
            response.extensions_mut().insert(d);
        }
    }
    if let Some(InternalDetail(detail)) = response.extensions().get::<InternalDetail>() {
        tracing::error!(request_id = %id, path = short(path), error = %detail, "internal error");
    }
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        response = name_allowed_methods(response, path);
    }
    if let Some(ErrorPage(err)) = response.extensions_mut().remove::<ErrorPage>() {
        let show = state.templates.is_dev() && local;
        let allow = response.headers_mut().remove(header::ALLOW);
        // What the route said its answer varies with (`/batch`: also Accept).
        let vary = response.headers_mut().remove(header::VARY);
        response = error_page(state, &err, lang, explicit, show);
        if let Some(allow) = allow {
            response.headers_mut().insert(header::ALLOW, allow);
        }
        if let Some(vary) = vary {
            response.headers_mut().insert(header::VARY, vary);
        }
    }

    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        headers.insert(REQUEST_ID, v);
    }
    set_security_headers(headers);
    let status = response.status().as_u16();
    let elapsed = start.elapsed();
    state.metrics.record(route, &method, status, elapsed);
    super::logfmt::request(&super::logfmt::RequestLine {
        request_id: &id,
        method: method.as_str(),
        path: short(path),
        route: state.metrics.route_name(route),
        status,
        duration_us: elapsed.as_micros() as u64,
    });
    Ok(response)
}

/// `answer`, or `None` once `deadline` passes first. The timer is only
/// started when the answer is not ready at the first poll: most requests
/// (a prediction whose body has arrived) finish there, and then never pay
/// for putting a timer in tokio's wheel and taking it out again.
async fn within<F: Future>(
    deadline: tokio::time::Instant,
    mut answer: Pin<&mut F>,
) -> Option<F::Output> {
    let mut timer: Option<Pin<Box<tokio::time::Sleep>>> = None;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = answer.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// A path cut to 200 bytes (at a character boundary) for the log, without copying.
fn short(path: &str) -> &str {
    if path.len() <= 200 {
        return path;
    }
    let mut end = 200;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    &path[..end]
}

/// Headers that keep a browser from misusing a response. An HTML page gets
/// the whole set; other responses only the two that matter when a browser
/// opens them (OWASP's REST advice): the referrer, framing and opener
/// headers only act on documents, and a JSON client would parse them for
/// nothing on every answer.
pub(super) fn set_security_headers(headers: &mut HeaderMap) {
    let html = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    // Room for all of them at once: growing the map one insert at a time rehashes it.
    headers.reserve(if html { 5 } else { 2 });
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        if html { PAGE_CSP } else { DATA_CSP },
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    if !html {
        return;
    }
    headers.insert(header::REFERRER_POLICY, NO_REFERRER);
    headers.insert(header::X_FRAME_OPTIONS, DENY);
    headers.insert(OPENER_POLICY, SAME_ORIGIN);
}

/// The HTML error page, in the visitor's language. In `--dev`, a request from
/// this machine also sees the internal detail (a template error, say).
fn error_page(
    state: &AppState,
    err: &ApiError,
    lang: Lang,
    explicit: bool,
    show: bool,
) -> Response {
    let status = err.status(Protocol::Html);
    let detail = match (err, show) {
        (ApiError::Internal(d), true) if !d.is_empty() => d.clone(),
        _ => err.detail_in(lang),
    };
    let ctx = state
        .lang_views(lang)
        .base(explicit)
        .with("page", "error")
        .with("status", status.as_u16())
        .with("title", i18n::get(&format!("err_{}", err.slug()), lang))
        .with("detail", detail)
        .into_value();
    match state.templates.render("error.html", ctx) {
        // In the visitor's language, so with `Vary: Accept-Language`, as every page.
        Ok(html) => super::ui::html_response(status, html),
        Err(e) => {
            tracing::error!(error = %super::templates::describe(&e), "cannot render error.html");
            let mut r = (status, format!("{}: {}\n", err.title(), err.detail())).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::time::Duration;
    use tokio::time::{Instant, sleep};

    // Real time (tokio's paused clock would need its `test-util` feature,
    // which cargo would then also build into the benchmarked binaries).

    /// The `Vary` values after `f` on an answer with `values`.
    fn vary_after(f: fn(&mut HeaderMap), values: &[&'static str]) -> Vec<HeaderValue> {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::VARY, HeaderValue::from_static(v));
        }
        f(&mut h);
        h.get_all(header::VARY).iter().cloned().collect()
    }

    #[test]
    fn an_answer_that_could_be_gzipped_varies_on_encoding_in_one_header() {
        let vary = |values: &[&'static str]| vary_after(vary_on_encoding, values);
        assert_eq!(vary(&[]), ["accept-encoding"]);
        assert_eq!(
            vary(&["Accept-Language"]),
            ["Accept-Language, accept-encoding"]
        );
        assert_eq!(vary(&["Origin"]), ["Origin, accept-encoding"]);
        assert_eq!(
            vary(&["Origin, Accept-Encoding"]),
            ["Origin, Accept-Encoding"]
        );
    }

    #[test]
    fn several_vary_headers_become_one() {
        let vary = |values: &[&'static str]| vary_after(merge_vary, values);
        assert_eq!(vary(&[]), Vec::<HeaderValue>::new());
        assert_eq!(vary(&["Origin"]), ["Origin"]);
        assert_eq!(
            vary(&["Accept-Language", "accept-encoding"]),
            ["Accept-Language, accept-encoding"]
        );
        assert_eq!(
            vary(&["Origin", "Accept-Language", "accept-encoding"]),
            ["Origin, Accept-Language, accept-encoding"]
        );
    }

    #[tokio::test]
    async fn an_answer_ready_at_once_is_kept_even_past_the_deadline() {
        let past = Instant::now() - Duration::from_secs(1);
        assert_eq!(within(past, pin!(async { 7 })).await, Some(7));
    }

    #[tokio::test]
    async fn an_answer_that_never_comes_times_out_at_the_deadline() {
        let deadline = Instant::now() + Duration::from_millis(30);
        let out = within(deadline, pin!(std::future::pending::<u8>())).await;
        assert_eq!(out, None);
        assert!(Instant::now() >= deadline);
    }

    #[tokio::test]
    async fn a_slow_answer_before_the_deadline_is_kept() {
        let deadline = Instant::now() + Duration::from_secs(30);
        let slow = async {
            sleep(Duration::from_millis(10)).await;
            "done"
        };
        assert_eq!(within(deadline, pin!(slow)).await, Some("done"));
    }

    #[tokio::test]
    async fn a_slow_answer_after_the_deadline_is_dropped() {
        let deadline = Instant::now() + Duration::from_millis(20);
        let slow = async {
            sleep(Duration::from_secs(30)).await;
            "late"
        };
        assert_eq!(within(deadline, pin!(slow)).await, None);
    }
}
