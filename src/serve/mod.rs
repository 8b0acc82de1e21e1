//! The web app: pages for people, JSON APIs for programs, operations
//! endpoints for the platform, all around one `Model`.
//!
//! - [`router`] builds the whole app from an [`AppState`], with no socket, so
//!   tests can call it with `tower::ServiceExt::oneshot`;
//! - [`run`] binds, serves, and drains on SIGTERM/SIGINT.
//!
//! Front doors, one file each, each exposing `routes()`: [`ui`] (pages),
//! [`api`] (our JSON API), [`mlflow`], [`oip`] (Open Inference Protocol v2),
//! [`ops`] (health and metrics). Cross-cutting work is in [`layers`]; errors
//! and their per-protocol shapes in [`error`].
//!
//! Every prediction goes through [`AppState::predict`] / [`AppState::explain`],
//! thin wrappers over `Model::predict` / `Model::explain` that count the
//! predicted class for `/metrics`.

pub mod accept;
pub mod api;
pub mod decimal;
pub mod error;
pub mod i18n;
pub mod layers;
pub mod listen;
pub mod logfmt;
pub mod metrics;
pub mod mlflow;
pub mod oip;
pub mod openapi;
pub mod ops;
pub mod page_writer;
pub mod templates;
pub mod ui;
pub mod vars;
pub mod view;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::routing::MethodRouter;

use crate::model::file::Loaded;
use crate::model::{Explanation, Prediction};
use crate::schema::{Lang, Row};
use crate::source;

/// Everything `lifeboat serve` can be told, already validated.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// `None`: the built-in Titanic model; else a path or `builtin:NAME`.
    pub model: Option<String>,
    /// For an imported model (pickle, joblib): a TOML schema naming its inputs.
    pub schema: Option<PathBuf>,
    pub host: String,
    pub port: u16,
    pub templates: Option<PathBuf>,
    pub statics: Option<PathBuf>,
    pub dev: bool,
    /// Largest request body for the APIs and the form, in bytes.
    pub body_limit: usize,
    /// Largest CSV upload on /batch, in bytes.
    pub upload_limit: usize,
    /// Requests taking longer are answered with 503 (Heroku's router gives up at 30 s).
    pub timeout: Duration,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub grace: Duration,
    /// How long a client may take to send a request's head, and an idle
    /// keep-alive connection may wait for its next request (0: no limit).
    pub header_timeout: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            model: None,
            schema: None,
            host: "0.0.0.0".into(),
            port: 5000,
            templates: None,
            statics: None,
            dev: false,
            body_limit: 1 << 20,
            upload_limit: 32 << 20,
            timeout: Duration::from_secs(20),
            grace: Duration::from_secs(20),
            header_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Model(#[from] source::SourceError),
    #[error(transparent)]
    Templates(#[from] templates::TemplateError),
    #[error("cannot listen on {addr}: {error}")]
    Bind { addr: String, error: std::io::Error },
    #[error("the server stopped: {0}")]
    Io(std::io::Error),
}

// By hand rather than `#[from]`, which would also make it the error's source:
// the message already includes it, and `{:#}` would print it twice.
impl From<std::io::Error> for ServeError {
    fn from(e: std::io::Error) -> Self {
        ServeError::Io(e)
    }
}

/// The shared, read-only state of the app (plus atomics for readiness and metrics).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub loaded: Loaded,
    pub config: ServeConfig,
    pub templates: templates::Templates,
    pub metrics: metrics::Metrics,
    /// Page data that depends only on the language, built once.
    pub views: view::Views,
    /// The model card (`/api/v1/model`), serialized once.
    pub card_json: Bytes,
    /// The fixed parts of `/api/v1/predict` answers, serialized once.
    pub answer_json: api::AnswerJson,
    pub openapi: openapi::Document,
    /// Pages that depend only on the language, rendered once (not in `--dev`).
    pub pages: std::sync::OnceLock<ui::PageCache>,
    /// Whether result and error pages are written by [`page_writer`] (the
    /// built-in templates are in use) rather than rendered by minijinja.
    pub write_pages: bool,
    ready: AtomicBool,
    started: Instant,
    boot: u32,
    requests: AtomicU64,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Loads the model and templates and prepares everything requests read.
    pub fn new(config: ServeConfig) -> Result<AppState, ServeError> {
        let loaded = source::load(config.model.as_deref(), config.schema.as_deref())?;
        AppState::with_model(config, loaded)
    }

    /// As [`AppState::new`], with a model already loaded.
    pub fn with_model(config: ServeConfig, loaded: Loaded) -> Result<AppState, ServeError> {
        let templates = templates::Templates::load(templates::Sources {
            templates: config.templates.clone(),
            statics: config.statics.clone(),
            dev: config.dev,
        })?;
        let schema = &loaded.model.schema;
        let classes = schema.classes().iter().map(|c| c.value.clone()).collect();
        let info = vec![
            ("name", schema.name.clone()),
            ("version", loaded.version().to_string()),
            ("learner", loaded.model.report.learner.clone()),
            ("lifeboat_version", env!("CARGO_PKG_VERSION").to_string()),
        ];
        let metrics = metrics::Metrics::new(&all_routes().paths, classes, info);
        let card_json = serde_json::to_vec(&crate::card::card(&loaded))
            .unwrap_or_default()
            .into();
        let answer_json = api::AnswerJson::new(&loaded.model.schema);
        let views = view::Views::new(&loaded, config.dev);
        let write_pages = templates.all_builtin(&page_writer::PAGE_TEMPLATES);
        let openapi = openapi::Document::new(&loaded);
        let boot = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
            .unwrap_or(0)
            ^ std::process::id();
        let state = AppState(Arc::new(Inner {
            loaded,
            config,
            templates,
            metrics,
            views,
            card_json,
            answer_json,
            openapi,
            pages: std::sync::OnceLock::new(),
            write_pages,
            ready: AtomicBool::new(true),
            started: Instant::now(),
            boot,
            requests: AtomicU64::new(0),
        }));
        if !state.config.dev {
            let _ = state.pages.set(ui::PageCache::build(&state));
        }
        Ok(state)
    }

    pub fn model(&self) -> &crate::model::Model {
        &self.loaded.model
    }

    /// The one prediction path of the web app.
    pub fn predict(&self, row: &Row) -> Prediction {
        let p = self.loaded.model.predict(row);
        self.count(&p);
        p
    }

    /// [`AppState::predict`] with per-field contributions.
    pub fn explain(&self, row: &Row) -> (Prediction, Explanation) {
        let (p, e) = self.loaded.model.explain(row);
        self.count(&p);
        (p, e)
    }

    /// Counts the rows of a scored CSV file ([`crate::batch::BatchSummary::per_class`]).
    pub fn count_batch(&self, per_class: &[u64]) {
        for (index, &n) in per_class.iter().enumerate() {
            self.metrics.predicted_many(index, n);
        }
    }

    fn count(&self, p: &Prediction) {
        match p {
            Prediction::Class { index, .. } => self.metrics.predicted(*index),
            Prediction::Value(_) => self.metrics.predicted(0),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Marks the app as draining: readiness probes fail from now on.
    pub fn set_draining(&self) {
        self.ready.store(false, Ordering::Relaxed);
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// A new request id: this process's boot tag and a counter. Cheap and unique
    /// enough to find one request in the logs.
    pub fn next_request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let mut id = String::with_capacity(24);
        for shift in (0..8).rev() {
            let digit = (self.boot >> (shift * 4)) & 0xf;
            id.push(char::from_digit(digit, 16).unwrap_or('0'));
        }
        id.push('-');
        id.push_str(itoa::Buffer::new().format(n));
        id
    }

    pub fn lang_views(&self, lang: Lang) -> &view::LangViews {
        self.views.get(lang)
    }
}

/// A router being assembled, with the paths it serves (for metrics and tests).
pub struct Routes {
    pub router: Router<AppState>,
    pub paths: Vec<&'static str>,
}

impl Routes {
    pub fn new() -> Routes {
        Routes {
            router: Router::new(),
            paths: Vec::new(),
        }
    }

    pub fn route(mut self, path: &'static str, method_router: MethodRouter<AppState>) -> Routes {
        self.paths.push(path);
        self.router = self.router.route(path, method_router);
        self
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.paths.extend(other.paths);
        self.router = self.router.merge(other.router);
        self
    }
}

impl Default for Routes {
    fn default() -> Self {
        Routes::new()
    }
}

/// Every route of every front door.
pub fn all_routes() -> Routes {
    Routes::new()
        .merge(ui::routes())
        .merge(api::routes())
        .merge(mlflow::routes())
        .merge(oip::routes())
        .merge(ops::routes())
}

/// The whole app, ready to serve: routes, fallbacks and layers. Needs no
/// socket:
///
/// ```
/// use tower::ServiceExt;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let state = lifeboat::serve::AppState::new(Default::default()).unwrap();
/// let request = axum::http::Request::get("/v2/health/ready")
///     .body(axum::body::Body::empty())
///     .unwrap();
/// let response = lifeboat::serve::app(state).oneshot(request).await.unwrap();
/// assert_eq!(response.status(), 200);
/// # }
/// ```
pub fn app(state: AppState) -> layers::App {
    layers::wrap(all_routes().router, state)
}

/// Binds `host:port`, serves until SIGTERM or SIGINT, then drains.
pub async fn run(config: ServeConfig) -> Result<(), ServeError> {
    let addr = format!("{}:{}", config.host, config.port);
    // Bind first: the platform sees the port open at once, and requests that
    // arrive while the model loads wait in the backlog.
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|error| ServeError::Bind {
            addr: addr.clone(),
            error,
        })?;
    let local = listener.local_addr()?;
    let state = AppState::new(config)?;
    log_startup(&state, local);
    serve(listener, state).await
}

/// Serves on a bound listener until SIGTERM/SIGINT, then finishes in-flight
/// requests for at most `config.grace`.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> Result<(), ServeError> {
    let grace = state.config.grace;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let signal_state = state.clone();
    let shutdown = async move {
        shutdown_signal().await;
        signal_state.set_draining();
        tracing::info!(
            grace_s = grace.as_secs(),
            "shutting down: finishing in-flight requests"
        );
        let _ = tx.send(());
    };
    let server = serve_until(listener, &state, shutdown);
    let deadline = async move {
        if rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result?,
        () = deadline => tracing::warn!("in-flight requests did not finish in time; exiting"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Serves the app on `listener` until `shutdown` resolves, then waits for
/// in-flight requests. [`serve`] adds signals and the grace period; tests
/// call this directly.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    state: &AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let rules = listen::ConnectionRules {
        header_timeout: (!state.config.header_timeout.is_zero())
            .then_some(state.config.header_timeout),
        // Only `--dev` needs the peer's address (internal details are shown
        // to visitors on this machine only).
        connect_info: state.templates.is_dev(),
    };
    listen::serve_connections(listener, app(state.clone()), rules, shutdown).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The effective configuration, once, at startup (nothing secret is in it).
fn log_startup(state: &AppState, local: SocketAddr) {
    let c = &state.config;
    let url_host = match local.ip() {
        ip if ip.is_unspecified() => "localhost".to_string(),
        // A URL writes an IPv6 address in brackets: http://[::1]:5000.
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    let path = |p: &Option<PathBuf>| {
        p.as_ref()
            .map_or("built-in".to_string(), |p| p.display().to_string())
    };
    tracing::info!(
        addr = %local,
        model = %source::describe(c.model.as_deref()),
        model_name = %state.model().schema.name,
        model_version = %state.loaded.version(),
        learner = %state.model().report.learner,
        templates = %path(&c.templates),
        statics = %path(&c.statics),
        dev = c.dev,
        body_limit = c.body_limit,
        upload_limit = c.upload_limit,
        timeout_s = c.timeout.as_secs_f64(),
        grace_s = c.grace.as_secs_f64(),
        header_timeout_s = c.header_timeout.as_secs_f64(),
        "lifeboat {} serving",
        env!("CARGO_PKG_VERSION")
    );
    tracing::info!(url = %format!("http://{url_host}:{}", local.port()), "open this address in a browser");
}
