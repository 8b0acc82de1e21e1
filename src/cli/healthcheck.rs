//! `lifeboat healthcheck`: asks a running server on this machine whether it
//! is ready, for a container's HEALTHCHECK (the final image has no curl).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

/// Exit 0 if the server on this machine answers /readyz with 200, else 1.
#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The port the server listens on.
    #[arg(long, env = "PORT", default_value_t = 5000)]
    port: u16,
    /// The path to ask.
    #[arg(long, default_value = "/readyz")]
    path: String,
}

pub fn run(args: HealthcheckArgs) -> anyhow::Result<ExitCode> {
    let ok = check(args.port, &args.path).unwrap_or(false);
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn check(port: u16, path: &str) -> std::io::Result<bool> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(3)))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 16];
    let n = stream.read(&mut head)?;
    Ok(head[..n].starts_with(b"HTTP/1.1 200") || head[..n].starts_with(b"HTTP/1.0 200"))
}
