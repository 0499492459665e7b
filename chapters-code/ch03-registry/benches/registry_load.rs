//! `cargo bench -p ch03-registry`: our registry and etcd under the same
//! load, side by side.
//!
//! N instances (1 000 and 10 000, spread over 10 services) heartbeat once
//! a second while 4 callers look services up without pause. For each
//! backend it prints the heartbeats per second it sustained (the target is
//! N), lookup p50/p99, the server's CPU use and its RSS. Set
//! `BENCH_SECONDS` (default 5) to change each window.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ch03_registry::discovery::etcd::EtcdRegistry;
use ch03_registry::discovery::http::HttpRegistry;
use ch03_registry::discovery::{Lease, Registration, Registry};
use testkit::ServiceProcess;

const REGISTRY: &str = env!("CARGO_BIN_EXE_registry");
const SERVICES: usize = 10;
const HEARTBEAT_WORKERS: usize = 64;
const LOOKUP_WORKERS: usize = 4;

struct Figures {
    heartbeats_per_sec: f64,
    failed_heartbeats: u64,
    lookup_p50: Duration,
    lookup_p99: Duration,
    cpu_percent: Option<f64>,
    rss_mib: Option<f64>,
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

fn rss_mib(pid: u32) -> Option<f64> {
    Some(testkit::measure::rss_kib(pid)? as f64 / 1024.0)
}

fn etcd_pid() -> Option<u32> {
    let output = std::process::Command::new("pgrep")
        .args(["-x", "etcd"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

async fn register_all<R: Registry>(
    registry: &Arc<R>,
    prefix: &str,
    n: usize,
) -> anyhow::Result<Vec<Lease>> {
    let mut leases = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(HEARTBEAT_WORKERS) {
        let batch = chunk.iter().map(|&i| {
            let registry = registry.clone();
            let registration = Registration {
                service: format!("{prefix}-{}", i % SERVICES),
                instance_id: format!("i{i}"),
                address: format!("http://10.0.{}.{}:8080", i / 250, i % 250),
                metadata: Default::default(),
                ttl: Duration::from_secs(10),
            };
            async move { registry.register(&registration).await }
        });
        for lease in futures_util::future::join_all(batch).await {
            leases.push(lease?);
        }
    }
    Ok(leases)
}

async fn load<R: Registry>(
    registry: Arc<R>,
    prefix: &str,
    n: usize,
    seconds: u64,
    pid: Option<u32>,
) -> anyhow::Result<Figures> {
    let leases = Arc::new(register_all(&registry, prefix, n).await?);
    let stop = Arc::new(AtomicBool::new(false));
    let beats = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let cpu_before = pid.and_then(cpu_seconds);
    let started = Instant::now();

    let mut tasks = Vec::new();
    for worker in 0..HEARTBEAT_WORKERS {
        let (registry, leases, stop, beats, failed) = (
            registry.clone(),
            leases.clone(),
            stop.clone(),
            beats.clone(),
            failed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let pass = Instant::now();
                for lease in leases.iter().skip(worker).step_by(HEARTBEAT_WORKERS) {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match registry.heartbeat(lease).await {
                        Ok(()) => beats.fetch_add(1, Ordering::Relaxed),
                        Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
                // Each instance beats once a second, if the registry keeps up.
                if let Some(rest) = Duration::from_secs(1).checked_sub(pass.elapsed()) {
                    tokio::time::sleep(rest).await;
                }
            }
            Vec::new()
        }));
    }
    for worker in 0..LOOKUP_WORKERS {
        let (registry, stop) = (registry.clone(), stop.clone());
        let service = format!("{prefix}-{}", worker % SERVICES);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                if registry.instances(&service).await.is_ok() {
                    latencies.push(sent.elapsed());
                }
            }
            latencies
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let window = started.elapsed().as_secs_f64();
    let cpu_after = pid.and_then(cpu_seconds);
    let rss = pid.and_then(rss_mib);
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await?);
    }
    latencies.sort();
    let at = |p: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * p) as usize)
            .copied()
            .unwrap_or_default()
    };
    Ok(Figures {
        heartbeats_per_sec: beats.load(Ordering::Relaxed) as f64 / window,
        failed_heartbeats: failed.load(Ordering::Relaxed),
        lookup_p50: at(0.50),
        lookup_p99: at(0.99),
        cpu_percent: cpu_before
            .zip(cpu_after)
            .map(|(b, a)| (a - b) / window * 100.0),
        rss_mib: rss,
    })
}

fn print_row(backend: &str, n: usize, f: &Figures) {
    let opt = |v: Option<f64>, unit: &str| v.map_or("n/a".to_owned(), |v| format!("{v:.0}{unit}"));
    println!(
        "{backend:<9} {n:>7} {:>12.0} {:>8} {:>9.2} {:>9.2} {:>6} {:>8}",
        f.heartbeats_per_sec,
        f.failed_heartbeats,
        f.lookup_p50.as_secs_f64() * 1000.0,
        f.lookup_p99.as_secs_f64() * 1000.0,
        opt(f.cpu_percent, "%"),
        opt(f.rss_mib, " MiB"),
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let registry_process = ServiceProcess::builder(REGISTRY)
        .args(["--listen", "127.0.0.1:0"])
        .env("REGISTRY_TOKEN", "bench")
        .env("RUST_LOG", "warn,ch01_autonomy::server=info")
        .spawn()
        .await?;
    let ours = Arc::new(HttpRegistry::new(registry_process.base_url(), "bench")?);
    let endpoints = testkit::etcd::etcd_endpoints().await?;
    let etcd = Arc::new(EtcdRegistry::connect(&endpoints).await?);
    let etcd_pid = etcd_pid();

    println!(
        "registry under load, loopback, {HEARTBEAT_WORKERS} heartbeat workers, {LOOKUP_WORKERS} lookup callers, {seconds} s per row"
    );
    println!(
        "instances heartbeat once a second (target heartbeats/s = instances); lookups list one of {SERVICES} services"
    );
    println!(
        "{:<9} {:>7} {:>12} {:>8} {:>9} {:>9} {:>6} {:>8}",
        "backend", "inst.", "heartbeats/s", "failed", "p50 ms", "p99 ms", "CPU", "RSS"
    );
    for n in [1_000, 10_000] {
        let prefix = testkit::unique_name("bench").replace('.', "-");
        let ours_figures = load(ours.clone(), &prefix, n, seconds, registry_process.pid()).await?;
        print_row("ours", n, &ours_figures);
        let etcd_figures = load(etcd.clone(), &prefix, n, seconds, etcd_pid).await?;
        print_row("etcd", n, &etcd_figures);
    }
    Ok(())
}
