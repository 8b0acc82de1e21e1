//! `lifeboat healthcheck`: asks a running server on this machine whether it
//! is ready, for a container's HEALTHCHECK (the final image has no curl).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use lifeboat::quote::quoted;

/// Exit 0 if the server on this machine answers /readyz with 200, else 1
/// (saying why on standard error).
#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The address the server listens on, as given to `serve` (0.0.0.0 or
    /// :: mean this machine's loopback).
    #[arg(long, env = "LIFEBOAT_HOST", default_value = "127.0.0.1")]
    host: String,
    /// The port the server listens on.
    #[arg(long, env = "PORT", default_value_t = 5000)]
    port: u16,
    /// The path to ask.
    #[arg(long, default_value = "/readyz", value_parser = parse_path)]
    path: String,
}

fn parse_path(path: &str) -> Result<String, String> {
    if path.starts_with('/') && !path.contains(char::is_whitespace) {
        Ok(path.to_string())
    } else {
        Err(format!(
            "{} is not a path; use one that starts with / such as /readyz",
            quoted(path)
        ))
    }
}

pub fn run(args: HealthcheckArgs) -> anyhow::Result<ExitCode> {
    let Some(addr) = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
    else {
        eprintln!(
            "lifeboat healthcheck: {} is not an address of this machine",
            quoted(&args.host)
        );
        return Ok(ExitCode::from(1));
    };
    let addr = SocketAddr::new(connect_to(addr.ip()), addr.port());
    let url = format!("http://{addr}{}", args.path);
    Ok(match check(addr, &args.path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("lifeboat healthcheck: {url}: {why}");
            ExitCode::from(1)
        }
    })
}

/// A server listening on every address is reached on loopback.
fn connect_to(host: IpAddr) -> IpAddr {
    match host {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    }
}

/// `Ok` when the server answers 200; otherwise what happened instead.
fn check(addr: SocketAddr, path: &str) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(io)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(io)?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .map_err(io)?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).map_err(io)?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    let status_line = status_line.lines().next().unwrap_or("").trim();
    if status_line.starts_with("HTTP/1.1 200") || status_line.starts_with("HTTP/1.0 200") {
        Ok(())
    } else if status_line.is_empty() {
        Err("the server closed the connection without answering".into())
    } else {
        Err(format!("answered {}, not 200", quoted(status_line)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_address_means_loopback_of_its_family() {
        assert_eq!(
            connect_to("0.0.0.0".parse().unwrap()),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            connect_to("::".parse().unwrap()),
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        );
        let own: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(connect_to(own), own);
    }

    #[test]
    fn paths_start_with_a_slash() {
        assert_eq!(parse_path("/livez").unwrap(), "/livez");
        assert!(parse_path("readyz").unwrap_err().contains("starts with /"));
        assert!(parse_path("/a b").is_err());
    }

    #[test]
    fn a_closed_port_says_why() {
        // Bind then drop: the port is (almost certainly) closed now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
        let why = check(addr, "/readyz").unwrap_err();
        assert!(why.to_lowercase().contains("refused"), "{why}");
    }
}
