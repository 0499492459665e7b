//! `bookshop-probe <url>`: exits 0 when `GET <url>` answers 2xx within
//! two seconds, 1 otherwise. The image's healthcheck, for runtimes that
//! run a command (compose, podman), in an image with no shell and no curl.
//! Plain HTTP/1.1 on loopback: no TLS, no redirects, no dependencies.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: bookshop-probe http://host:port/path");
        return ExitCode::from(2);
    };
    match status(&url) {
        Ok(status) if (200..300).contains(&status) => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("{url} answered {status}");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("{url}: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The status code of `GET url`.
fn status(url: &str) -> std::io::Result<u16> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what.to_owned());
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| invalid("only http:// URLs"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let address = authority
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| invalid("no address"))?;
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
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
