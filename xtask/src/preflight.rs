//! `cargo xtask preflight`: is this machine ready for the workshop?
//!
//! Every check prints OK or a problem with the command that fixes it, so a
//! trainer can run it on each laptop in the room before the first exercise.

use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::process::Command;
use std::time::Duration;

use anyhow::bail;

const MIN_RUST: (u32, u32) = (1, 94);
const MIN_FREE_GIB: u64 = 5;
const PORTS: [(u16, &str); 8] = [
    (8080, "gateway"),
    (8500, "registry"),
    (8001, "identity"),
    (8002, "catalog"),
    (8003, "orders"),
    (8004, "inventory"),
    (8005, "payments"),
    (8006, "notifications"),
];

struct Check {
    name: String,
    problem: Option<String>,
}

pub fn run() -> anyhow::Result<()> {
    let mut checks = vec![
        rust_version(),
        tool(
            "protoc",
            "apt-get install -y protobuf-compiler  |  brew install protobuf",
        ),
    ];
    checks.push(tool(
        "st",
        "pip install schemathesis==4.32.5 (chapter 5's contract test runs it)",
    ));
    checks.push(optional_tool(
        "cargo-nextest",
        "cargo install --locked cargo-nextest (optional: faster test runs)",
    ));
    checks.push(free_disk());
    checks.push(service(
        "RabbitMQ",
        "AMQP_ADDR",
        "127.0.0.1:5672",
        "sudo apt-get install -y rabbitmq-server && sudo rabbitmq-server -detached  |  brew services start rabbitmq  |  docker run -d -p 5672:5672 rabbitmq:4-management",
    ));
    checks.push(service(
        "etcd",
        "ETCD_ENDPOINTS",
        "127.0.0.1:2379",
        "etcd --data-dir \"$(mktemp -d)\" --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 &  |  brew services start etcd",
    ));
    for (port, service) in PORTS {
        checks.push(port_free(port, service));
    }

    let mut failed = 0;
    for check in &checks {
        match &check.problem {
            None => println!("  ok    {}", check.name),
            Some(problem) => {
                failed += 1;
                println!("  FIX   {}\n        {problem}", check.name);
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} checks need a fix (see above)", checks.len());
    }
    println!("preflight: this machine is ready for the workshop");
    Ok(())
}

fn rust_version() -> Check {
    let name = format!("Rust {}.{} or newer", MIN_RUST.0, MIN_RUST.1);
    let output = Command::new("rustc").arg("--version").output();
    let text = output
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let version: Vec<u32> = text
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .split('.')
        .filter_map(|part| part.parse().ok())
        .collect();
    let problem = match version.as_slice() {
        [major, minor, ..] if (*major, *minor) >= MIN_RUST => None,
        [] => Some("rustc not found: install Rust from https://rustup.rs".to_owned()),
        _ => Some(format!(
            "found `{}`: run `rustup update stable`",
            text.trim()
        )),
    };
    Check { name, problem }
}

fn tool(program: &str, fix: &str) -> Check {
    let found = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    Check {
        name: format!("{program} installed"),
        problem: (!found).then(|| format!("install it: {fix}")),
    }
}

fn optional_tool(program: &str, fix: &str) -> Check {
    let found = Command::new("cargo")
        .args([program.trim_start_matches("cargo-"), "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        println!("  note  {program} not found: {fix}");
    }
    Check {
        name: format!("{program} (optional)"),
        problem: None,
    }
}

fn free_disk() -> Check {
    let name = format!("at least {MIN_FREE_GIB} GiB free for target/");
    let output = Command::new("df").args(["-Pk", "."]).output();
    let free_kib = output.ok().and_then(|o| {
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.lines()
            .nth(1)?
            .split_whitespace()
            .nth(3)?
            .parse::<u64>()
            .ok()
    });
    let problem = match free_kib {
        Some(kib) if kib / (1024 * 1024) >= MIN_FREE_GIB => None,
        Some(kib) => Some(format!(
            "only {} GiB free: `cargo clean` in old projects, or free some space",
            kib / (1024 * 1024)
        )),
        None => Some("cannot read free space with `df`; check it by hand".to_owned()),
    };
    Check { name, problem }
}

/// A service answers at `$env`'s host:port, or at `default`.
fn service(what: &str, env: &str, default: &str, fix: &str) -> Check {
    let target = std::env::var(env)
        .ok()
        .and_then(|value| host_port(&value))
        .unwrap_or_else(|| default.to_owned());
    let answers = target
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok());
    Check {
        name: format!("{what} answers on {target}"),
        problem: (!answers).then(|| format!("start it: {fix}  (or set {env})")),
    }
}

/// `amqp://user:pass@host:5672/%2f` or `http://host:2379,…` → `host:port`.
fn host_port(value: &str) -> Option<String> {
    let first = value.split(',').next()?;
    let after_scheme = first.split_once("://").map_or(first, |(_, rest)| rest);
    let after_user = after_scheme
        .rsplit_once('@')
        .map_or(after_scheme, |(_, host)| host);
    Some(after_user.split('/').next()?.to_owned())
}

fn port_free(port: u16, service: &str) -> Check {
    let free = TcpListener::bind(("127.0.0.1", port)).is_ok();
    Check {
        name: format!("port {port} free ({service})"),
        problem: (!free).then(|| {
            format!("something listens on {port}: stop it (`ss -ltnp | grep {port}` shows what), or start the launcher with another port flag")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn host_and_port_come_out_of_urls() {
        assert_eq!(
            host_port("amqp://guest:guest@broker:5672/%2f").as_deref(),
            Some("broker:5672")
        );
        assert_eq!(
            host_port("http://10.0.0.1:2379,http://x:2379").as_deref(),
            Some("10.0.0.1:2379")
        );
        assert_eq!(
            host_port("127.0.0.1:5672").as_deref(),
            Some("127.0.0.1:5672")
        );
    }
}
