//! `cargo bench -p ch04-gateway`: what does the gateway cost?
//!
//! One catalog, measured with `wrk` three ways in the same run: directly,
//! through nginx (proxy_pass with upstream keep-alive), and through our
//! gateway, (a) plain routing and (b) with JWT verification and rate
//! limiting on the route. Prints req/s, p50 and p99, the ratio
//! gateway/nginx, and the p99 each hop adds over going direct.
//! Needs `wrk` and `nginx` (Debian: `apt-get install wrk nginx-light`).
//! `BENCH_SECONDS` (default 5) and `BENCH_CONNECTIONS` (default 32).

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ch01_autonomy::{catalog, server};
use ch03_registry::discovery::http::HttpRegistry;
use ch03_registry::discovery::{Registration, Registry};
use ch04_gateway::gateway::routes::RouteTable;
use ch04_gateway::gateway::{Gateway, Limits};
use ch04_gateway::identity;
use testkit::{TempDb, TestServer};

const TOKEN: &str = "bench";

struct Figures {
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `2.35ms` / `512.00us` / `1.02s` → milliseconds.
fn millis(text: &str) -> Option<f64> {
    let (number, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic())?);
    let value: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        _ => return None,
    })
}

fn wrk(url: &str, header: Option<&str>, seconds: u64, connections: u64) -> anyhow::Result<Figures> {
    let mut command = Command::new("wrk");
    command.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if let Some(header) = header {
        command.args(["-H", header]);
    }
    let output = command.arg(url).output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    if text.contains("Non-2xx") {
        anyhow::bail!("wrk saw errors for {url}:\n{text}");
    }
    let field = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
    };
    Ok(Figures {
        requests_per_sec: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: field("50%").and_then(|v| millis(&v)).unwrap_or(0.0),
        p99_ms: field("99%").and_then(|v| millis(&v)).unwrap_or(0.0),
    })
}

/// nginx in front of `upstream`, as a child process with its own prefix.
fn nginx(
    upstream: std::net::SocketAddr,
    port: u16,
    dir: &std::path::Path,
) -> anyhow::Result<Child> {
    let config = format!(
        "daemon off; worker_processes 1; pid {dir}/nginx.pid; error_log {dir}/error.log;
         events {{ worker_connections 1024; }}
         http {{
           access_log off;
           client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy;
           fastcgi_temp_path {dir}/fastcgi; uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
           upstream catalog {{ server {upstream}; keepalive 64; }}
           server {{
             listen 127.0.0.1:{port};
             location /api/catalog/ {{
               proxy_pass http://catalog/v1/;
               proxy_http_version 1.1;
               proxy_set_header Connection \"\";
             }}
           }}
         }}",
        dir = dir.display()
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, config)?;
    let child = Command::new("nginx")
        .args([
            "-c",
            &path.display().to_string(),
            "-p",
            &dir.display().to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    std::thread::sleep(Duration::from_millis(500));
    Ok(child)
}

async fn serve(router: axum::Router) -> TestServer {
    TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = env_number("BENCH_SECONDS", 5);
    let connections = env_number("BENCH_CONNECTIONS", 32);

    let registry_app = ch03_registry::registry::App::new(TOKEN);
    let registry_server = serve(registry_app.router()).await;
    let registry = Arc::new(HttpRegistry::new(registry_server.base_url(), TOKEN)?);

    let catalog_db = TempDb::new();
    let catalog_server = serve(catalog::App::open(&catalog_db.url()).await?.into_router()).await;
    let identity_db = TempDb::new();
    let identity_app = identity::App::open(&identity::Config {
        listen: "127.0.0.1:0".parse()?,
        database_url: identity_db.url(),
        token_ttl_minutes: 60,
        demo_password: "bench-password".to_owned(),
    })
    .await?;
    let token = identity_app.signer().issue("bench")?;
    let identity_server = serve(identity_app.into_router()).await;
    for (service, server) in [("catalog", &catalog_server), ("identity", &identity_server)] {
        registry
            .register(&Registration {
                service: service.to_owned(),
                instance_id: format!("{service}-1"),
                address: server.base_url().to_owned(),
                metadata: BTreeMap::new(),
                ttl: Duration::from_secs(300),
            })
            .await?;
    }
    // No caching here: every request must reach the catalog.
    let routes = RouteTable::parse(
        "[[route]]\nprefix = \"/api/catalog\"\nservice = \"catalog\"\nrewrite = \"/v1\"\n\n\
         [[route]]\nprefix = \"/api/secure-catalog\"\nservice = \"catalog\"\nrewrite = \"/v1\"\nauth = true\n",
    )?;
    let limits = Limits {
        rate_burst: u32::MAX,
        rate_per_second: 1e9,
        ..Limits::default()
    };
    let gateway = serve(Gateway::new(routes, registry, limits).router()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let nginx_dir = tempfile::tempdir()?;
    let nginx_port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut nginx_process = nginx(catalog_server.addr(), nginx_port, nginx_dir.path())?;

    let bearer = format!("Authorization: Bearer {token}");
    let runs = [
        ("direct", catalog_server.url("/v1/books/1"), None),
        (
            "nginx",
            format!("http://127.0.0.1:{nginx_port}/api/catalog/books/1"),
            None,
        ),
        ("gateway (a)", gateway.url("/api/catalog/books/1"), None),
        (
            "gateway (b)",
            gateway.url("/api/secure-catalog/books/1"),
            Some(bearer.clone()),
        ),
    ];
    println!(
        "GET one book, wrk -t2 -c{connections} -d{seconds}s on loopback; wrk, proxies and catalog share 2 cores"
    );
    println!("(a) routing only  (b) JWT verification + rate limiting + routing");
    println!(
        "{:<12} {:>10} {:>9} {:>9}",
        "path", "req/s", "p50 ms", "p99 ms"
    );
    let mut results = Vec::new();
    for (name, url, header) in runs {
        let figures =
            tokio::task::spawn_blocking(move || wrk(&url, header.as_deref(), seconds, connections))
                .await??;
        println!(
            "{name:<12} {:>10.0} {:>9.2} {:>9.2}",
            figures.requests_per_sec, figures.p50_ms, figures.p99_ms
        );
        results.push(figures);
    }
    let _ = nginx_process.kill();
    let _ = nginx_process.wait();
    let (direct, nginx, plain, secure) = (&results[0], &results[1], &results[2], &results[3]);
    println!(
        "gateway/nginx req/s: (a) {:.2}  (b) {:.2}",
        plain.requests_per_sec / nginx.requests_per_sec,
        secure.requests_per_sec / nginx.requests_per_sec
    );
    println!(
        "added p99 over direct: nginx {:+.2} ms, gateway (a) {:+.2} ms, (b) {:+.2} ms",
        nginx.p99_ms - direct.p99_ms,
        plain.p99_ms - direct.p99_ms,
        secure.p99_ms - direct.p99_ms
    );
    Ok(())
}
