//! `bookshop-probe <url>`: exits 0 when `GET <url>` answers 2xx within
//! two seconds, 1 otherwise. The image's healthcheck, for runtimes that
//! run a command (compose, podman), in an image with no shell and no curl.
//! Plain HTTP/1.1 on loopback: no TLS, no redirects, no dependencies.
//!
//! `tcp://host:port` asks only that something accepts a connection (a
//! broker, etcd). `--watch <seconds>` keeps probing and exits at the first
//! failure: a stand-in container that is healthy while a dependency
//! outside it answers.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(2);
const USAGE: &str =
    "usage: bookshop-probe [--watch SECONDS] (http://host:port/path | tcp://host:port)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (every, url) = match args.as_slice() {
        [url] => (None, url),
        [flag, seconds, url] if flag == "--watch" => match seconds.parse() {
            Ok(seconds) => (Some(Duration::from_secs(seconds)), url),
            Err(_) => {
                eprintln!("--watch takes whole seconds, not {seconds:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    loop {
        let healthy = probe(url);
        match every {
            Some(every) if healthy => std::thread::sleep(every),
            _ if healthy => return ExitCode::SUCCESS,
            _ => return ExitCode::FAILURE,
        }
    }
}

/// One probe; says why on stderr when it fails.
fn probe(url: &str) -> bool {
    let outcome = match url.strip_prefix("tcp://") {
        Some(authority) => connect(authority).map(|_| 200),
        None => status(url),
    };
    match outcome {
        Ok(status) if (200..300).contains(&status) => true,
        Ok(status) => {
            eprintln!("{url} answered {status}");
            false
        }
        Err(err) => {
            eprintln!("{url}: {err}");
            false
        }
    }
}

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, what.to_owned())
}

fn connect(authority: &str) -> std::io::Result<TcpStream> {
    let address = authority
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| invalid("no address"))?;
    let stream = TcpStream::connect_timeout(&address, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    Ok(stream)
}

/// The status code of `GET url`.
fn status(url: &str) -> std::io::Result<u16> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| invalid("only http:// and tcp:// URLs"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = connect(authority)?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12]; // "HTTP/1.1 200"
    stream.read_exact(&mut head)?;
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("not an HTTP answer"))
}
