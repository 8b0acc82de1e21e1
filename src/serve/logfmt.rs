//! Log lines in logfmt (`ts=… level=info msg="request" status=200 …`), the
//! key=value convention Heroku's own router logs use, so `heroku logs` and
//! log drains can filter on any key. Installed by `lifeboat serve` behind a
//! queue and a writer thread ([`Sink`]), so a slow stdout never holds a
//! request and a request never waits for a write.

use std::fmt;

use time::OffsetDateTime;
use time::macros::format_description;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The event formatter.
pub struct Logfmt;

impl<S, N> FormatEvent<S, N> for Logfmt
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut ts = [0u8; TIMESTAMP_LEN];
        timestamp(&mut ts);
        let ts = std::str::from_utf8(&ts).map_err(|_| fmt::Error)?;
        let level = event.metadata().level().as_str().to_ascii_lowercase();
        write!(writer, "ts={ts} level={level}")?;
        let mut visitor = Visitor {
            writer: &mut writer,
            result: Ok(()),
        };
        event.record(&mut visitor);
        visitor.result?;
        writeln!(writer)
    }
}

struct Visitor<'a, 'w> {
    writer: &'a mut Writer<'w>,
    result: fmt::Result,
}

impl Visitor<'_, '_> {
    fn pair(&mut self, field: &Field, value: &str) {
        if self.result.is_err() {
            return;
        }
        let key = match field.name() {
            "message" => "msg",
            k => k,
        };
        self.result = write!(self.writer, " {key}=");
        if self.result.is_ok() {
            self.result = write_value(self.writer, value);
        }
    }
}

impl Visit for Visitor<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.pair(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.pair(field, &format!("{value:?}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.pair(field, itoa::Buffer::new().format(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.pair(field, itoa::Buffer::new().format(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.pair(field, if value { "true" } else { "false" });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.pair(field, &value.to_string());
    }
}

/// `2026-11-25T19:05:01.123Z`
const TIMESTAMP_LEN: usize = 24;

/// Writes the current UTC time, to the millisecond. The date and time of day
/// are formatted once per second per thread; a request only adds milliseconds.
fn timestamp(out: &mut [u8; TIMESTAMP_LEN]) {
    use std::cell::Cell;
    thread_local! {
        static CACHED: Cell<(u64, [u8; 19])> = const { Cell::new((u64::MAX, [0; 19])) };
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (cached_secs, mut prefix) = CACHED.get();
    if cached_secs != secs {
        let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        let text = OffsetDateTime::from_unix_timestamp(secs as i64)
            .ok()
            .and_then(|t| t.format(&format).ok())
            .unwrap_or_default();
        if text.len() == prefix.len() {
            prefix.copy_from_slice(text.as_bytes());
            CACHED.set((secs, prefix));
        }
    }
    out[..19].copy_from_slice(&prefix);
    let ms = now.subsec_millis();
    out[19] = b'.';
    out[20] = b'0' + (ms / 100) as u8;
    out[21] = b'0' + (ms / 10 % 10) as u8;
    out[22] = b'0' + (ms % 10) as u8;
    out[23] = b'Z';
}

/// The fields of one request's log line.
pub struct RequestLine<'a> {
    pub request_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub route: &'a str,
    pub status: u16,
    pub duration_us: u64,
}

/// Where request lines go when [`install`] ran and its filter lets them
/// through: straight to the queue, formatted here, without `tracing`'s
/// per-field dynamic dispatch and per-event filtering (a few thousand
/// instructions per request on the hot path). The filter cannot change
/// after `install`, so it is asked once, there.
static REQUEST_QUEUE: std::sync::OnceLock<std::sync::mpsc::SyncSender<Vec<u8>>> =
    std::sync::OnceLock::new();

/// Logs one request: one logfmt line, the same as a `tracing` event with these
/// fields would give. Honors the log filter (`--log warn` silences it).
pub fn request(line: &RequestLine<'_>) {
    let Some(queue) = REQUEST_QUEUE.get() else {
        if !tracing::enabled!(tracing::Level::INFO) {
            return;
        }
        tracing::info!(
            request_id = line.request_id,
            method = line.method,
            path = line.path,
            route = line.route,
            status = line.status,
            duration_us = line.duration_us,
            "request"
        );
        return;
    };
    let mut buf = Vec::with_capacity(192);
    let mut ts = [0u8; TIMESTAMP_LEN];
    timestamp(&mut ts);
    buf.extend_from_slice(b"ts=");
    buf.extend_from_slice(&ts);
    buf.extend_from_slice(b" level=info msg=request");
    let mut pair = |key: &str, value: &str| {
        buf.push(b' ');
        buf.extend_from_slice(key.as_bytes());
        buf.push(b'=');
        push_value(&mut buf, value);
    };
    pair("request_id", line.request_id);
    pair("method", line.method);
    pair("path", line.path);
    pair("route", line.route);
    pair("status", itoa::Buffer::new().format(line.status));
    pair("duration_us", itoa::Buffer::new().format(line.duration_us));
    buf.push(b'\n');
    let _ = queue.try_send(buf);
}

/// [`write_value`] into bytes.
fn push_value(buf: &mut Vec<u8>, value: &str) {
    if is_bare(value) {
        buf.extend_from_slice(value.as_bytes());
        return;
    }
    let mut s = String::new();
    let _ = write_quoted(&mut s, value);
    buf.extend_from_slice(s.as_bytes());
}

fn is_bare(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'=' && b != b'\\')
}

/// Writes a value quoted with `"` and `\` escaped.
fn write_quoted(w: &mut impl fmt::Write, value: &str) -> fmt::Result {
    w.write_char('"')?;
    for c in value.chars() {
        match c {
            '"' => w.write_str("\\\"")?,
            '\\' => w.write_str("\\\\")?,
            '\n' => w.write_str("\\n")?,
            c if c.is_control() => write!(w, "\\u{{{:x}}}", c as u32)?,
            c => w.write_char(c)?,
        }
    }
    w.write_char('"')
}

/// Writes a value bare when it needs no quotes, else quoted with `"` and `\` escaped.
fn write_value(w: &mut Writer<'_>, value: &str) -> fmt::Result {
    if is_bare(value) {
        w.write_str(value)
    } else {
        write_quoted(w, value)
    }
}

/// Log lines waiting for the writer thread, at most this many (more are dropped).
const QUEUE: usize = 16 * 1024;
/// How often the writer thread writes what is queued while lines keep coming.
const PERIOD: std::time::Duration = std::time::Duration::from_millis(10);

/// Where events go: each event is formatted into its own small buffer on the
/// request's thread and queued. A writer thread writes what is queued and,
/// while lines keep coming, sleeps [`PERIOD`] between writes, so under load a
/// request never pays for waking it and every write takes many lines. Once a
/// period passes without a line, the thread blocks until the next one: an
/// idle server (a dyno waiting for its first visitor) makes no wake-ups at
/// all. A slow stdout drops lines rather than slowing requests.
pub struct Sink {
    tx: std::sync::mpsc::SyncSender<Vec<u8>>,
}

/// One event's bytes, queued when dropped.
pub struct EventBuf<'a> {
    buf: Vec<u8>,
    tx: &'a std::sync::mpsc::SyncSender<Vec<u8>>,
}

impl std::io::Write for EventBuf<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventBuf<'_> {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            let _ = self.tx.try_send(std::mem::take(&mut self.buf));
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Sink {
    type Writer = EventBuf<'a>;

    fn make_writer(&'a self) -> EventBuf<'a> {
        EventBuf {
            buf: Vec::with_capacity(256),
            tx: &self.tx,
        }
    }
}

/// What the writer thread is doing, for the tests to watch.
#[derive(Default)]
struct WriterState {
    stop: std::sync::atomic::AtomicBool,
    /// Blocked until a line comes (no timer running).
    blocked: std::sync::atomic::AtomicBool,
    /// Times the thread woke up, from a sleep or from blocking.
    wakes: std::sync::atomic::AtomicU64,
}

/// Writes what is still queued when dropped: keep it until the process ends.
pub struct Guard {
    writer: std::sync::Arc<WriterState>,
    /// Wakes a blocked writer thread to stop: the request queue's sender lives
    /// as long as the process, so the channel never closes on its own.
    wake: std::sync::mpsc::SyncSender<Vec<u8>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.writer
            .stop
            .store(true, std::sync::atomic::Ordering::Relaxed);
        // An empty line writes nothing. If the queue is full, the thread is
        // not blocked: it sees `stop` after its next drain.
        let _ = self.wake.try_send(Vec::new());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A sink writing to `out` from its own thread.
pub fn sink(out: impl std::io::Write + Send + 'static) -> (Sink, Guard) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(QUEUE);
    let writer = std::sync::Arc::new(WriterState::default());
    let state = writer.clone();
    let thread = std::thread::Builder::new()
        .name("lifeboat-log".into())
        .spawn(move || write_lines(rx, out, &state))
        .ok();
    let guard = Guard {
        writer,
        wake: tx.clone(),
        thread,
    };
    (Sink { tx }, guard)
}

/// The writer thread: drains the queue every [`PERIOD`] while lines come,
/// blocks when a period brought none, and ends after a drain that follows
/// [`Guard`]'s stop.
fn write_lines(
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    out: impl std::io::Write,
    state: &WriterState,
) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    let mut out = std::io::BufWriter::with_capacity(64 << 10, out);
    let mut wrote = true;
    loop {
        let last = state.stop.load(Ordering::Relaxed);
        let mut drained = false;
        while let Ok(line) = rx.try_recv() {
            let _ = out.write_all(&line);
            drained = true;
        }
        let _ = out.flush();
        if last {
            return;
        }
        if drained || wrote {
            wrote = false;
            std::thread::sleep(PERIOD);
        } else {
            state.blocked.store(true, Ordering::Relaxed);
            let line = rx.recv();
            state.blocked.store(false, Ordering::Relaxed);
            match line {
                Ok(line) => {
                    let _ = out.write_all(&line);
                    wrote = true;
                }
                // Every sender is gone: nothing more can come.
                Err(_) => {
                    let _ = out.flush();
                    return;
                }
            }
        }
        state.wakes.fetch_add(1, Ordering::Relaxed);
    }
}

/// Checks a log filter (`info`, `warn,lifeboat=debug`) before the server
/// starts, so that a typo is reported rather than quietly logging at `info`.
pub fn check_filter(filter: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::builder()
        .parse(filter)
        .map(|_| filter.to_string())
        .map_err(|e| {
            format!(
                "{} is not a log filter ({e}); use a level (error, warn, info, debug, \
                 trace) or targets with levels such as warn,lifeboat=debug",
                crate::quote::quoted(filter)
            )
        })
}

/// Installs the logfmt subscriber on stdout. Keep the guard alive: lines
/// still queued are written when it is dropped.
pub fn install(filter: &str) -> Guard {
    let (sink, guard) = sink(std::io::stdout());
    let tx = sink.tx.clone();
    // `serve` checked the filter (`check_filter`); tests may pass anything.
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let installed = tracing_subscriber::fmt()
        .event_format(Logfmt)
        .with_env_filter(filter)
        .with_writer(sink)
        .try_init()
        .is_ok();
    // Asked here, in this module, as `request` would ask it: the same answer.
    if installed && tracing::enabled!(tracing::Level::INFO) {
        let _ = REQUEST_QUEUE.set(tx);
    }
    guard
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Shared {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn timestamps_match_the_calendar() {
        let mut ts = [0u8; TIMESTAMP_LEN];
        let before = OffsetDateTime::now_utc();
        timestamp(&mut ts);
        let text = std::str::from_utf8(&ts).unwrap();
        let parsed =
            OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap();
        let after = OffsetDateTime::now_utc();
        assert!(
            parsed >= before - time::Duration::milliseconds(1) && parsed <= after,
            "{text}"
        );
        assert!(text.ends_with('Z') && text.as_bytes()[10] == b'T', "{text}");
    }

    #[test]
    fn values_are_quoted_only_when_needed() {
        let mut buf = Vec::new();
        push_value(&mut buf, "/api/v1/predict");
        buf.push(b' ');
        push_value(&mut buf, "a \"b\"\n");
        buf.push(b' ');
        push_value(&mut buf, "");
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text, "/api/v1/predict \"a \\\"b\\\"\\n\" \"\"");
    }

    /// Waits up to 10 s for `done`, checking every millisecond.
    fn wait_for(what: &str, done: impl Fn() -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !done() {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting: {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn an_idle_writer_blocks_and_the_next_line_wakes_it() {
        use std::sync::atomic::Ordering;
        let out = Shared::default();
        let (sink, guard) = sink(out.clone());
        let state = guard.writer.clone();
        let blocked = || state.blocked.load(Ordering::Relaxed);
        wait_for("the writer to block on an empty queue", blocked);
        // Idle, it does not tick: a writer polling every PERIOD would wake
        // about ten times here.
        let wakes = state.wakes.load(Ordering::Relaxed);
        std::thread::sleep(PERIOD * 10);
        assert_eq!(state.wakes.load(Ordering::Relaxed), wakes);
        assert!(blocked());

        sink.tx.try_send(b"one\n".to_vec()).unwrap();
        wait_for("the line to be written", || {
            out.0.lock().unwrap().as_slice() == b"one\n"
        });
        wait_for("the writer to block again", blocked);
        sink.tx.try_send(b"two\n".to_vec()).unwrap();
        // Dropping the guard stops a blocked writer, after it wrote everything.
        drop(guard);
        assert_eq!(out.0.lock().unwrap().as_slice(), b"one\ntwo\n");
    }

    #[test]
    fn lines_are_logfmt_and_all_written_by_the_time_the_guard_drops() {
        let out = Shared::default();
        let (sink, guard) = sink(out.clone());
        let subscriber = tracing_subscriber::fmt()
            .event_format(Logfmt)
            .with_writer(sink)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            for i in 0..100u64 {
                tracing::info!(n = i, path = "/a b", ok = true, "request");
            }
        });
        drop(guard);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 100);
        assert!(lines[7].starts_with("ts="), "{}", lines[7]);
        assert!(
            lines[7].ends_with(" level=info msg=request n=7 path=\"/a b\" ok=true"),
            "{}",
            lines[7]
        );
    }
}
