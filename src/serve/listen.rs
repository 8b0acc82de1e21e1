//! The accept loop: one task per connection, HTTP/1.1 by hyper, a deadline
//! for each request head, and a graceful drain.
//!
//! `axum::serve` does the same except for the deadline: it gives hyper no
//! timer, so hyper's header-read timeout never fires, and a client that sends
//! half a request head and waits holds its connection (and its task) for as
//! long as it likes (the "slowloris" attack). Heroku's router shields a dyno
//! from such clients; a bare container host does not. So we run the loop
//! ourselves, with hyper's HTTP/1 builder and `TokioTimer`.
//!
//! When the deadline passes, hyper closes the connection without a word. A
//! connection that was idle between requests is closed so, as every server
//! does; one that had sent part of a request head gets a `408 Request
//! Timeout` first, saying what was late (hyper keeps the bytes it read, so
//! we can tell the two apart). The drain is ours too, since hyper-util's
//! would keep the connection from us until it ends.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tower::{Service, ServiceExt as _};

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionRules {
    /// How long a client may take to send a request's line and headers, and
    /// how long an idle keep-alive connection waits for its next request.
    /// `None`: no limit.
    pub header_timeout: Option<Duration>,
    /// Give handlers the peer's address (`ConnectInfo<SocketAddr>`). Only
    /// `--dev` needs it, and it costs every request an allocation.
    pub connect_info: bool,
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops
/// accepting (new connections are refused), lets each open connection finish
/// the request it is answering, closes idle ones, and returns when all are
/// closed.
pub async fn serve_connections<S>(
    listener: TcpListener,
    app: S,
    rules: ConnectionRules,
    shutdown: impl Future<Output = ()>,
) where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let mut http = http1::Builder::new();
    if let Some(timeout) = rules.header_timeout {
        http.timer(TokioTimer::new()).header_read_timeout(timeout);
    } else {
        http.header_read_timeout(None);
    }
    // Each connection holds a receiver; stopping sends on it, and waits
    // until every receiver is dropped, that is every connection closed.
    let (stop, stopping) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    handle_accept_error(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // hyper's body becomes axum's, and with `connect_info` the peer's
        // address rides along in each request.
        let with_peer = rules.connect_info.then_some(peer);
        let service =
            TowerToHyperService::new(app.clone().map_request(move |request: Request<Incoming>| {
                let mut request = request.map(Body::new);
                if let Some(peer) = with_peer {
                    request.extensions_mut().insert(ConnectInfo(peer));
                }
                request
            }));
        let mut connection = http.serve_connection(TokioIo::new(stream), service);
        let mut stopping = stopping.clone();
        let timeout = rules.header_timeout;
        tokio::spawn(async move {
            let ended = tokio::select! {
                // The connection first: no random order to draw per request.
                biased;
                ended = &mut connection => ended,
                _ = stopping.changed() => {
                    // Finish the request being answered, then close.
                    std::pin::Pin::new(&mut connection).graceful_shutdown();
                    (&mut connection).await
                }
            };
            match ended {
                Ok(()) => {}
                Err(error) if error.is_timeout() => {
                    let parts = connection.into_parts();
                    if !parts.read_buf.is_empty() {
                        tracing::debug!(%peer, "a request head came too slowly: 408");
                        answer_late_head(parts.io.into_inner(), timeout).await;
                    }
                }
                // A client that goes away or sends garbage ends its own
                // connection; hyper has already answered what deserved an answer.
                Err(error) => tracing::debug!(%peer, %error, "connection ended with an error"),
            }
        });
    }
    // Refuse new connections at once: the platform's router tries another
    // dyno rather than waiting on one that is going away.
    drop(listener);
    drop(stopping);
    stop.send_replace(());
    stop.closed().await;
}

/// Tells a client whose request head did not all arrive within `timeout`
/// why the connection closes (`408 Request Timeout`), if it is still reading
/// within a second.
async fn answer_late_head(mut stream: TcpStream, timeout: Option<Duration>) {
    let seconds = timeout.map_or(0.0, |t| t.as_secs_f64());
    let body = format!(
        "the request line and headers did not arrive within {seconds} s; send a request's head (its line and headers) at once\n"
    );
    let answer = format!(
        "HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let write = async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}

/// Accepting fails for two kinds of reasons. A client that gave up while
/// waiting in the backlog is its own business. Anything else (most often
/// EMFILE: out of file descriptors) is logged, and we wait a second for
/// connections to close before accepting again, rather than spinning.
async fn handle_accept_error(error: io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept a connection; trying again in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
