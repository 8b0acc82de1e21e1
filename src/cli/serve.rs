//! `lifeboat serve`: the web app (form, result and model pages; JSON APIs in
//! lifeboat's own, MLflow's and the Open Inference Protocol's shapes; health
//! and metrics), on $PORT as Heroku sets it, else 5000 as Flask does.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use lifeboat::quote::quoted;
use lifeboat::serve::{self, ServeConfig, logfmt};

/// Serve a model on the web: an HTML form for people, JSON APIs for programs.
///
/// Binds at once and serves the built-in Titanic model unless --model names
/// another. Stops on SIGTERM or Ctrl-C after finishing requests in flight.
/// Logs one logfmt line per request on standard output.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  lifeboat serve                                  the built-in model on http://localhost:5000
  PORT=8080 lifeboat serve --model my.lifeboat    your model, on port 8080
  lifeboat serve --templates my-templates --dev   your own templates, reloaded on every request

Routes: / (form), /predict, /model, /batch, /docs, /api/v1/predict, /api/v1/model,
/openapi.json, /invocations (MLflow), /v2/... (Open Inference Protocol),
/livez, /readyz, /healthz, /metrics.")]
pub struct ServeArgs {
    /// The model: a .lifeboat file, a scikit-learn .pkl/.joblib file (read
    /// without executing it), an .onnx file (builds with the `onnx` feature),
    /// or builtin:NAME (default: the built-in Titanic model).
    #[arg(long, env = "LIFEBOAT_MODEL", value_name = "MODEL")]
    model: Option<String>,
    /// For an imported model: a schema (TOML) giving its inputs names, labels,
    /// ranges and translations, e.g. for a model trained on a bare numpy array.
    #[arg(long, env = "LIFEBOAT_SCHEMA", value_name = "TOML")]
    schema: Option<PathBuf>,
    /// The address to listen on (0.0.0.0: every interface, as Heroku and containers need).
    #[arg(long, env = "LIFEBOAT_HOST", default_value = "0.0.0.0")]
    host: String,
    /// The port (Heroku sets PORT; without it, 5000 as Flask).
    #[arg(long, env = "PORT", default_value_t = 5000)]
    port: u16,
    /// A directory of templates; a file named like a built-in one (base.html,
    /// index.html, result.html, ...) replaces it.
    #[arg(long, env = "LIFEBOAT_TEMPLATES", value_name = "DIR")]
    templates: Option<PathBuf>,
    /// A directory of static files, served under /static/; a file with a built-in
    /// one's path (css/style.css) replaces it.
    #[arg(long = "static", env = "LIFEBOAT_STATIC", value_name = "DIR")]
    statics: Option<PathBuf>,
    /// Development mode: read templates and static files from disk on every
    /// request (from --templates/--static, else ./templates and ./static) and
    /// show template errors in the page to requests from this machine.
    /// LIFEBOAT_DEV takes 1, true, yes or on (0, false, no, off: not).
    #[arg(long, env = "LIFEBOAT_DEV", value_parser = parse_switch)]
    dev: bool,
    /// The largest request body accepted by the form and the JSON APIs.
    #[arg(long, env = "LIFEBOAT_BODY_LIMIT", default_value = "1MB", value_parser = parse_size)]
    body_limit: usize,
    /// The largest upload accepted on /batch (the whole request body, form
    /// fields included).
    #[arg(long, env = "LIFEBOAT_UPLOAD_LIMIT", default_value = "32MB", value_parser = parse_size)]
    upload_limit: usize,
    /// Seconds before a request is answered with 503 (keep it under Heroku's 30; 0: no limit).
    #[arg(
        long,
        env = "LIFEBOAT_TIMEOUT",
        default_value = "20",
        value_name = "SECONDS",
        allow_negative_numbers = true,
        value_parser = parse_seconds
    )]
    timeout: Duration,
    /// Seconds in-flight requests get to finish after SIGTERM (Heroku kills at 30).
    #[arg(
        long,
        env = "LIFEBOAT_GRACE",
        default_value = "20",
        value_name = "SECONDS",
        allow_negative_numbers = true,
        value_parser = parse_seconds
    )]
    grace: Duration,
    /// Seconds a client has to send a request's line and headers, and an idle
    /// keep-alive connection waits for its next request (0: no limit). Guards
    /// against clients that open connections and never finish a request.
    #[arg(
        long,
        env = "LIFEBOAT_HEADER_TIMEOUT",
        default_value = "30",
        value_name = "SECONDS",
        allow_negative_numbers = true,
        value_parser = parse_seconds
    )]
    header_timeout: Duration,
    /// Which log lines to write (RUST_LOG syntax: info, warn, lifeboat=debug, ...).
    #[arg(long, env = "LIFEBOAT_LOG", default_value = "info", value_parser = logfmt::check_filter)]
    log: String,
}

/// An on/off switch from the environment, as platforms' config vars write
/// them: `LIFEBOAT_DEV=1` as well as `true`.
fn parse_switch(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => {
            Err("use 1, true, yes or on to turn it on; 0, false, no or off to leave it off".into())
        }
    }
}

/// Parses `1048576`, `512KB`, `1MB`, `2MiB`: a whole number of at least 1.
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: usize = n
        .parse()
        .map_err(|_| format!("{} is not a size such as 1MB", quoted(s)))?;
    if unit.starts_with(['.', ',']) {
        return Err(format!(
            "{}: a size is a whole number; write 1536KB rather than 1.5MB",
            quoted(s)
        ));
    }
    if n == 0 {
        return Err("a limit of 0 bytes would refuse every request; use a size such as 1MB".into());
    }
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {}; use KB, MB or GB",
                quoted(other)
            ));
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{} is too large", quoted(s)))
}

/// Parses a number of seconds from 0 to 3600, such as `20` or `0.5`.
fn parse_seconds(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=3600.0).contains(&v) => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!(
            "{} is not a number of seconds from 0 to 3600",
            quoted(s)
        )),
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = ServeConfig {
        // An empty LIFEBOAT_MODEL (as a platform may set it) means the built-in model.
        model: args.model.filter(|m| !m.trim().is_empty()),
        schema: args.schema.filter(|s| !s.as_os_str().is_empty()),
        host: args.host,
        port: args.port,
        templates: args.templates,
        statics: args.statics,
        dev: args.dev,
        body_limit: args.body_limit,
        upload_limit: args.upload_limit,
        timeout: args.timeout,
        grace: args.grace,
        header_timeout: args.header_timeout,
    };
    if config.dev {
        // In development, edit the repository's own templates in place.
        for (slot, dir) in [
            (&mut config.templates, "templates"),
            (&mut config.statics, "static"),
        ] {
            if slot.is_none() && std::path::Path::new(dir).is_dir() {
                *slot = Some(PathBuf::from(dir));
            }
        }
    }
    let _guard = logfmt::install(&args.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve::run(config))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1MB"), Ok(1 << 20));
        assert_eq!(parse_size("512kb"), Ok(512 << 10));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("1XB").is_err());
        assert!(parse_size("MB").is_err());
        assert!(parse_size("0").unwrap_err().contains("every request"));
        assert!(parse_size("1.5MB").unwrap_err().contains("1536KB"));
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("20"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_seconds("0"), Ok(Duration::ZERO));
        for bad in ["-1", "3601", "NaN", "inf", "abc", ""] {
            assert!(
                parse_seconds(bad).unwrap_err().contains("from 0 to 3600"),
                "{bad}"
            );
        }
    }
}
