//! The real binary: `lifeboat serve` binds, logs its address and one logfmt
//! line per request, answers, and exits cleanly on SIGTERM; `lifeboat
//! healthcheck` reports on it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the server if the test fails before stopping it.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_logs_answers_and_stops_on_sigterm() {
    let bin = env!("CARGO_BIN_EXE_lifeboat");
    let child = Command::new(bin)
        .args(["serve", "--host", "127.0.0.1"])
        .env("PORT", "0")
        .env_remove("LIFEBOAT_MODEL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    // The first line is the effective configuration, with the bound address.
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("msg=\"lifeboat 0.1.0 serving\""), "{first}");
    assert!(first.contains("model_name=titanic"), "{first}");
    let addr = first
        .split(' ')
        .find_map(|kv| kv.strip_prefix("addr="))
        .unwrap()
        .to_string();
    let port = addr.rsplit(':').next().unwrap().to_string();
    let url = lines.next().unwrap().unwrap();
    assert!(
        url.contains(&format!("url=http://127.0.0.1:{port}")),
        "{url}"
    );

    let out = Command::new("curl")
        .args([
            "-s",
            "-H",
            "X-Request-ID: test-42",
            &format!("http://{addr}/livez"),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), r#"{"status":"ok"}"#);
    let status = Command::new(bin)
        .args(["healthcheck", "--port", &port])
        .status()
        .unwrap();
    assert!(status.success());

    let log = lines.next().unwrap().unwrap();
    assert!(log.starts_with("ts="), "{log}");
    for kv in [
        "level=info",
        "msg=request",
        "request_id=test-42",
        "method=GET",
        "path=/livez",
        "route=/livez",
        "status=200",
        "duration_us=",
    ] {
        assert!(log.contains(kv), "{kv} not in {log}");
    }

    let start = Instant::now();
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = server.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(start.elapsed() < Duration::from_secs(5));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("shutting down")), "{rest:?}");

    // Nothing listens now.
    let status = Command::new(bin)
        .args(["healthcheck", "--port", &port])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

#[test]
fn serve_reports_a_bad_model_and_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_lifeboat"))
        .args([
            "serve",
            "--host",
            "127.0.0.1",
            "--model",
            "/nonexistent.lifeboat",
        ])
        .env("PORT", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("lifeboat: cannot read /nonexistent.lifeboat: No such file"),
        "{err}"
    );
}

#[test]
fn log_warn_silences_request_lines() {
    let bin = env!("CARGO_BIN_EXE_lifeboat");
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port().to_string()
    };
    let child = Command::new(bin)
        .args(["serve", "--host", "127.0.0.1", "--port", &port])
        .env("LIFEBOAT_LOG", "warn")
        .env_remove("LIFEBOAT_MODEL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    // Ready when the health check passes (bounded: the server starts in milliseconds).
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Command::new(bin)
        .args(["healthcheck", "--port", &port])
        .status()
        .unwrap()
        .success()
    {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::yield_now();
    }
    let out = Command::new("curl")
        .args(["-s", &format!("http://127.0.0.1:{port}/livez")])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), r#"{"status":"ok"}"#);
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(server.0.wait().unwrap().success());
    let stdout = BufReader::new(server.0.stdout.take().unwrap());
    let lines: Vec<String> = stdout.lines().map_while(Result::ok).collect();
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("msg=request") || l.contains("level=info")),
        "{lines:?}"
    );
}

/// `THP_enabled` from `/proc/PID/status` (Linux 5.0 and later): 0 once the
/// process has turned transparent huge pages off for itself.
fn thp_enabled(pid: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("THP_enabled:"))
        .map(|v| v.trim().to_string())
}

/// Starts `lifeboat serve` on a free port with `env`, waits for its first
/// line (it is listening by then), and returns it running.
fn serve_with(env: &[(&str, &str)]) -> Server {
    serve_with_first_line(env).0
}

/// [`serve_with`], and the server's first line (its configuration).
fn serve_with_first_line(env: &[(&str, &str)]) -> (Server, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lifeboat"));
    command
        .args(["serve", "--host", "127.0.0.1"])
        .env("PORT", "0")
        .env_remove("LIFEBOAT_MODEL")
        .env_remove("MIMALLOC_ALLOW_THP")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut server = Server(command.spawn().unwrap());
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("serving"), "{first}");
    (server, first)
}

#[test]
fn lifeboat_dev_takes_the_switches_platforms_write() {
    for (value, dev) in [
        ("1", true),
        ("true", true),
        ("yes", true),
        ("On", true),
        ("0", false),
        ("false", false),
        ("no", false),
        ("off", false),
        ("", false),
    ] {
        let (_server, first) = serve_with_first_line(&[("LIFEBOAT_DEV", value)]);
        assert!(
            first.contains(&format!(" dev={dev} ")),
            "LIFEBOAT_DEV={value:?}: {first}"
        );
    }
}

#[test]
fn serve_turns_transparent_huge_pages_off_unless_asked() {
    let Some(own) = thp_enabled("self") else {
        eprintln!("skipped: /proc/self/status has no THP_enabled line (Linux before 5.0?)");
        return;
    };
    let server = serve_with(&[]);
    assert_eq!(
        thp_enabled(&server.0.id().to_string()).as_deref(),
        Some("0"),
        "lifeboat serve left transparent huge pages on"
    );
    drop(server);
    // With mimalloc's own switch asking for them, they stay as they were
    // (on, unless this test's own process had them off already).
    let server = serve_with(&[("MIMALLOC_ALLOW_THP", "1")]);
    assert_eq!(
        thp_enabled(&server.0.id().to_string()).as_deref(),
        Some(own.as_str())
    );
}
