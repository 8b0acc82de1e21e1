//! Prometheus metrics with plain atomics: no locks, no global recorder, one
//! instance per app (so tests can run many apps in one process).
//!
//! The routes are known when the router is built, so every counter exists
//! from the start and recording a request is a few atomic additions. The text
//! exposition format is written by hand in [`Metrics::render`].

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU16, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use axum::http::Method;

/// Latency buckets in seconds: predictions take microseconds, batches seconds.
const BUCKETS: [f64; 18] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0, 25.0,
];
/// Distinct status codes counted per route and method (more go to "other").
const STATUS_SLOTS: usize = 16;
const METHODS: [&str; 3] = ["GET", "POST", "other"];
/// The label of requests that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// A route of this app's router, from [`Metrics::route`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteId(usize);

pub struct Metrics {
    routes: Vec<String>,
    /// The router's own path patterns (`/v2/models/{name}/infer`), each to
    /// its index in `routes`: a request's route label comes from its path.
    matcher: matchit::Router<usize>,
    /// `[route][method]`
    series: Vec<[Series; 3]>,
    in_flight: AtomicI64,
    /// Class values (or `value` for regression), one counter each.
    classes: Vec<String>,
    predictions: Vec<AtomicU64>,
    info: Vec<(&'static str, String)>,
}

#[derive(Default)]
struct Series {
    codes: [AtomicU16; STATUS_SLOTS],
    counts: [AtomicU64; STATUS_SLOTS],
    other: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Series {
    fn record(&self, status: u16, elapsed: Duration) {
        self.count_status(status);
        let secs = elapsed.as_secs_f64();
        // Buckets are stored non-cumulative and summed when rendered.
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_nanos
            .fetch_add(elapsed.as_nanos().min(u64::MAX as u128) as u64, Relaxed);
    }

    fn count_status(&self, status: u16) {
        for (code, count) in self.codes.iter().zip(&self.counts) {
            let current = code.load(Relaxed);
            if current == status {
                count.fetch_add(1, Relaxed);
                return;
            }
            if current == 0 {
                match code.compare_exchange(0, status, Relaxed, Relaxed) {
                    Ok(_) => {
                        count.fetch_add(1, Relaxed);
                        return;
                    }
                    Err(now) if now == status => {
                        count.fetch_add(1, Relaxed);
                        return;
                    }
                    Err(_) => continue,
                }
            }
        }
        self.other.fetch_add(1, Relaxed);
    }
}

/// Keeps the in-flight gauge right even if a request future is dropped.
pub struct InFlight<'a>(&'a AtomicI64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

impl Metrics {
    /// `routes`: every matched path the router has; `classes`: the model's
    /// class values (empty for regression); `info`: labels of the model info gauge.
    pub fn new(routes: &[&str], classes: Vec<String>, info: Vec<(&'static str, String)>) -> Self {
        let mut names: Vec<String> = routes.iter().map(|r| r.to_string()).collect();
        names.sort();
        names.dedup();
        names.push(UNMATCHED.to_string());
        let mut matcher = matchit::Router::new();
        for (i, name) in names.iter().enumerate().take(names.len() - 1) {
            // The same patterns were accepted by axum's router (also matchit),
            // so an insert cannot conflict; a failed one would only leave that
            // route's requests labelled "unmatched".
            let _ = matcher.insert(name.clone(), i);
        }
        let series = names.iter().map(|_| Default::default()).collect();
        let classes = if classes.is_empty() {
            vec!["value".to_string()]
        } else {
            classes
        };
        let predictions = classes.iter().map(|_| AtomicU64::new(0)).collect();
        Metrics {
            routes: names,
            matcher,
            series,
            in_flight: AtomicI64::new(0),
            classes,
            predictions,
            info,
        }
    }

    pub fn start(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(&self.in_flight)
    }

    /// The route a request path belongs to ("unmatched" when none).
    pub fn route(&self, path: &str) -> RouteId {
        RouteId(
            self.matcher
                .at(path)
                .map_or(self.routes.len() - 1, |m| *m.value),
        )
    }

    /// The route's label: its path pattern, or "unmatched".
    pub fn route_name(&self, route: RouteId) -> &str {
        &self.routes[route.0]
    }

    /// Records one finished request.
    pub fn record(&self, route: RouteId, method: &Method, status: u16, elapsed: Duration) {
        let r = route.0;
        let m = match *method {
            Method::GET | Method::HEAD => 0,
            Method::POST => 1,
            _ => 2,
        };
        self.series[r][m].record(status, elapsed);
    }

    /// Counts one prediction of class `index` (0 for regression).
    pub fn predicted(&self, index: usize) {
        self.predicted_many(index, 1);
    }

    /// `count` predictions of class `index` at once (a CSV file's rows).
    pub fn predicted_many(&self, index: usize, count: u64) {
        if let Some(c) = self.predictions.get(index) {
            c.fetch_add(count, Relaxed);
        }
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8192);
        let _ = self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "# HELP lifeboat_http_requests_total HTTP requests by route, method and status."
        )?;
        writeln!(out, "# TYPE lifeboat_http_requests_total counter")?;
        for (route, per_method) in self.routes.iter().zip(&self.series) {
            for (method, s) in METHODS.iter().zip(per_method) {
                let route = label(route);
                for (code, count) in s.codes.iter().zip(&s.counts) {
                    let code = code.load(Relaxed);
                    if code != 0 {
                        writeln!(
                            out,
                            "lifeboat_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{code}\"}} {}",
                            count.load(Relaxed)
                        )?;
                    }
                }
                let other = s.other.load(Relaxed);
                if other > 0 {
                    writeln!(
                        out,
                        "lifeboat_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"other\"}} {other}"
                    )?;
                }
            }
        }
        writeln!(
            out,
            "# HELP lifeboat_http_request_duration_seconds Time from request to response head."
        )?;
        writeln!(
            out,
            "# TYPE lifeboat_http_request_duration_seconds histogram"
        )?;
        for (route, per_method) in self.routes.iter().zip(&self.series) {
            for (method, s) in METHODS.iter().zip(per_method) {
                let count = s.count.load(Relaxed);
                if count == 0 {
                    continue;
                }
                let labels = format!("route=\"{}\",method=\"{method}\"", label(route));
                let mut cumulative = 0;
                for (b, n) in BUCKETS.iter().zip(&s.buckets) {
                    cumulative += n.load(Relaxed);
                    writeln!(
                        out,
                        "lifeboat_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {cumulative}"
                    )?;
                }
                writeln!(
                    out,
                    "lifeboat_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
                )?;
                let sum = s.sum_nanos.load(Relaxed) as f64 / 1e9;
                writeln!(
                    out,
                    "lifeboat_http_request_duration_seconds_sum{{{labels}}} {sum}"
                )?;
                writeln!(
                    out,
                    "lifeboat_http_request_duration_seconds_count{{{labels}}} {count}"
                )?;
            }
        }
        writeln!(
            out,
            "# HELP lifeboat_http_requests_in_flight Requests being served now."
        )?;
        writeln!(out, "# TYPE lifeboat_http_requests_in_flight gauge")?;
        writeln!(
            out,
            "lifeboat_http_requests_in_flight {}",
            self.in_flight.load(Relaxed)
        )?;
        writeln!(
            out,
            "# HELP lifeboat_predictions_total Predictions made, by predicted class."
        )?;
        writeln!(out, "# TYPE lifeboat_predictions_total counter")?;
        for (class, n) in self.classes.iter().zip(&self.predictions) {
            writeln!(
                out,
                "lifeboat_predictions_total{{class=\"{}\"}} {}",
                label(class),
                n.load(Relaxed)
            )?;
        }
        writeln!(
            out,
            "# HELP lifeboat_model_info The model being served (always 1)."
        )?;
        writeln!(out, "# TYPE lifeboat_model_info gauge")?;
        let labels: Vec<String> = self
            .info
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
            .collect();
        writeln!(out, "lifeboat_model_info{{{}}} 1", labels.join(","))?;
        Ok(())
    }
}

/// Escapes a label value as the exposition format requires.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_renders() {
        let m = Metrics::new(
            &["/", "/api/v1/predict", "/v2/models/{name}/infer"],
            vec!["0".into(), "1".into()],
            vec![("name", "titanic".into()), ("version", "abc".into())],
        );
        {
            let _guard = m.start();
            m.record(
                m.route("/api/v1/predict"),
                &Method::POST,
                200,
                Duration::from_micros(30),
            );
        }
        m.record(
            m.route("/api/v1/predict"),
            &Method::POST,
            422,
            Duration::from_millis(2),
        );
        m.record(
            m.route("/nothing/here"),
            &Method::GET,
            404,
            Duration::from_micros(5),
        );
        m.record(
            m.route("/v2/models/titanic/infer"),
            &Method::POST,
            200,
            Duration::from_micros(5),
        );
        m.predicted(1);
        let text = m.render();
        assert!(text.contains(
            "lifeboat_http_requests_total{route=\"/api/v1/predict\",method=\"POST\",status=\"200\"} 1"
        ));
        assert!(text.contains(
            "lifeboat_http_requests_total{route=\"/api/v1/predict\",method=\"POST\",status=\"422\"} 1"
        ));
        assert!(text.contains(
            "lifeboat_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1"
        ));
        assert!(text.contains("lifeboat_http_request_duration_seconds_bucket{route=\"/api/v1/predict\",method=\"POST\",le=\"0.00005\"} 1"));
        assert!(text.contains("lifeboat_http_request_duration_seconds_count{route=\"/api/v1/predict\",method=\"POST\"} 2"));
        assert!(text.contains(
            "lifeboat_http_requests_total{route=\"/v2/models/{name}/infer\",method=\"POST\",status=\"200\"} 1"
        ));
        assert_eq!(m.route_name(m.route("/api/v1/predict/")), UNMATCHED);
        assert!(text.contains("lifeboat_http_requests_in_flight 0"));
        assert!(text.contains("lifeboat_predictions_total{class=\"1\"} 1"));
        assert!(text.contains("lifeboat_model_info{name=\"titanic\",version=\"abc\"} 1"));
    }

    #[test]
    fn many_status_codes_overflow_to_other() {
        let m = Metrics::new(&["/"], vec![], vec![]);
        for code in 200..240 {
            m.record(m.route("/"), &Method::GET, code, Duration::ZERO);
        }
        assert!(m.render().contains("status=\"other\"} 24"));
    }
}
