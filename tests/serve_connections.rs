//! How connections are kept and let go: the deadline for request heads
//! (against clients that open a connection and never finish a request), idle
//! keep-alive connections, and the drain when the server is told to stop.
//! Raw sockets, because an HTTP client always sends whole requests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use lifeboat::serve::{self, AppState, ServeConfig};

const PREDICT: &str =
    r#"{"Pclass":1,"Sex":"female","Age":29,"SibSp":0,"Parch":0,"Fare":100,"Embarked":"S"}"#;

/// Long enough that a test machine under load never trips it by accident,
/// short enough to wait for.
const HEADER_TIMEOUT: Duration = Duration::from_millis(800);

/// How long a test waits for the server to close a connection before calling
/// it kept open. Far above `HEADER_TIMEOUT`: the test fails only if the
/// server never lets go.
const PATIENCE: Duration = Duration::from_secs(30);

struct Running {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(header_timeout: Duration) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(ServeConfig {
        header_timeout,
        ..Default::default()
    })
    .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(async move {
        serve::serve_until(listener, &state, async move {
            let _ = stopped.await;
        })
        .await
    });
    Running { addr, stop, done }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// Reads until the server closes the connection; fails if it does not
/// within `PATIENCE`.
fn read_to_close(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    match stream.read_to_end(&mut bytes) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!(
            "the server kept the connection open for {PATIENCE:?} ({e}); read so far: {:?}",
            String::from_utf8_lossy(&bytes)
        ),
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Reads one response (head and a Content-Length body) without waiting for
/// the connection to close.
fn read_response(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).expect("the server answers");
        assert!(
            n > 0,
            "connection closed after {:?}",
            String::from_utf8_lossy(&bytes)
        );
        bytes.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&bytes);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|v| v.trim().parse::<usize>().ok())
                .expect("a Content-Length");
            if bytes.len() >= end + 4 + length {
                return text.into_owned();
            }
        }
    }
}

fn predict_request(connection: &str) -> String {
    format!(
        "POST /api/v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: {connection}\r\nContent-Length: {}\r\n\r\n{PREDICT}",
        PREDICT.len()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_that_never_ends_is_cut_off() {
    let server = start(HEADER_TIMEOUT).await;
    let addr = server.addr;
    let (elapsed, answer) = tokio::task::spawn_blocking(move || {
        let mut stream = connect(addr);
        stream
            .write_all(b"GET /api/v1/model HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        let start = Instant::now();
        let answer = read_to_close(&mut stream);
        (start.elapsed(), answer)
    })
    .await
    .unwrap();
    assert!(
        elapsed >= HEADER_TIMEOUT.mul_f64(0.9),
        "closed after {elapsed:?}, before the deadline; answer {answer:?}"
    );
    // Told why, since part of a request had come: 408 and what was late.
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{answer}"
    );
    assert!(
        answer.ends_with("the request line and headers did not arrive within 0.8 s; send a request's head (its line and headers) at once\n"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_nothing_is_closed_without_an_answer() {
    let server = start(HEADER_TIMEOUT).await;
    let addr = server.addr;
    let answer = tokio::task::spawn_blocking(move || read_to_close(&mut connect(addr)))
        .await
        .unwrap();
    assert_eq!(answer, "", "no request was begun, so none is answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = start(HEADER_TIMEOUT).await;
    let addr = server.addr;
    let rest = tokio::task::spawn_blocking(move || {
        let mut stream = connect(addr);
        stream
            .write_all(predict_request("keep-alive").as_bytes())
            .unwrap();
        let first = read_response(&mut stream);
        assert!(first.starts_with("HTTP/1.1 200"), "{first}");
        // Then nothing: the server closes the idle connection.
        read_to_close(&mut stream)
    })
    .await
    .unwrap();
    assert_eq!(rest, "", "nothing more was asked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_sent_in_pieces_within_the_deadline_is_answered() {
    let server = start(Duration::from_secs(30)).await;
    let addr = server.addr;
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = connect(addr);
        let request = predict_request("close");
        for piece in request.as_bytes().chunks(7) {
            stream.write_all(piece).unwrap();
            stream.flush().unwrap();
        }
        read_to_close(&mut stream)
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("Passenger survives"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_deadline_a_slow_head_is_still_answered() {
    // 0 turns the deadline off: a head that takes longer than
    // HEADER_TIMEOUT is still read.
    let server = start(Duration::ZERO).await;
    let addr = server.addr;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let client = tokio::task::spawn_blocking(move || {
        let mut stream = connect(addr);
        let request = predict_request("close");
        let (head, tail) = request.split_at(20);
        stream.write_all(head.as_bytes()).unwrap();
        // Wait for the test to say the deadline would have passed.
        rx.recv().unwrap();
        stream.write_all(tail.as_bytes()).unwrap();
        read_to_close(&mut stream)
    });
    // A timer in the test, not a sleep to make it pass: it only makes the
    // head slower than a deadline would allow.
    tokio::time::sleep(HEADER_TIMEOUT * 2).await;
    tx.send(()).unwrap();
    let answer = client.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_refuses_new_connections_and_finishes_the_request_in_flight() {
    let server = start(Duration::from_secs(30)).await;
    let addr = server.addr;
    // A request whose body has not all arrived is in flight.
    let request = predict_request("keep-alive");
    let (head_and_some, rest) = request.split_at(request.len() - 10);
    let mut in_flight = connect(addr);
    in_flight.write_all(head_and_some.as_bytes()).unwrap();
    // Another connection asks /metrics until the server counts that request
    // in flight (beside the /metrics request itself); then it is idle, and
    // the drain must close it at once.
    let mut idle = connect(addr);
    let mut idle = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + PATIENCE;
        loop {
            idle.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let metrics = read_response(&mut idle);
            if metrics.contains("lifeboat_http_requests_in_flight 2") {
                return idle;
            }
            assert!(
                Instant::now() < deadline,
                "the request never started: {metrics}"
            );
        }
    })
    .await
    .unwrap();

    server.stop.send(()).unwrap();
    // New connections are refused once the listener is closed.
    let refused = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match TcpStream::connect(addr) {
                Err(e) => return e.kind(),
                Ok(_) if Instant::now() > deadline => panic!("still accepting after {PATIENCE:?}"),
                Ok(_) => std::thread::yield_now(),
            }
        }
    })
    .await
    .unwrap();
    // A connection attempt that races the listener's close may be reset
    // rather than refused: either way it is not accepted.
    assert!(
        matches!(
            refused,
            std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
        ),
        "a new connection after stopping failed with {refused:?}, not refused or reset"
    );
    assert_eq!(
        tokio::task::spawn_blocking(move || read_to_close(&mut idle))
            .await
            .unwrap(),
        "",
        "the idle connection is closed without an answer"
    );
    assert!(!server.done.is_finished(), "a request is still in flight");

    let rest = rest.to_owned();
    let answer = tokio::task::spawn_blocking(move || {
        in_flight.write_all(rest.as_bytes()).unwrap();
        read_to_close(&mut in_flight)
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    tokio::time::timeout(PATIENCE, server.done)
        .await
        .expect("the server stops once its last request is answered")
        .unwrap()
        .unwrap();
}
