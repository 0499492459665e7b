//! `cargo bench -p ch07-operations --bench overhead`: what chapter 7 costs
//! a service. The same catalog, three ways, in one run:
//!
//! - **chapter 6**: the service as it was, with chapter 1's logging only
//!   (this bench runs it, from the same code, with `--serve-plain`);
//! - **chapter 7, nothing collects**: `ch07-service catalog`, with its
//!   request span, RED metrics, trace context and "served" log line, and
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` unset;
//! - **chapter 7, exporting**: the same, sending every span to an
//!   OpenTelemetry collector inside this bench.
//!
//! `BENCH_WORKERS` (default 16) closed-loop clients read one book straight
//! from the catalog (release build), `BENCH_SECONDS` (default 5) per round,
//! `BENCH_ROUNDS` (default 3) rounds, the three taking turns. Prints
//! figures and ratios; asserts nothing.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ch07_operations::services::Service;
use clap::Parser;
use fake_opentelemetry_collector::FakeCollectorServer;
use testkit::load::{Latencies, closed_loop};
use testkit::{ServiceProcess, TempDb};

/// `overhead --serve-plain <service> [flags]`: a service without chapter 7.
#[derive(Debug, Parser)]
struct Plain {
    #[command(subcommand)]
    service: Service,
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One way of running the catalog, and what it measured.
struct Variant {
    name: &'static str,
    catalog: ServiceProcess,
    rounds: Vec<Latencies>,
}

impl Variant {
    fn median(&mut self) -> &Latencies {
        self.rounds
            .sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
        &self.rounds[self.rounds.len() / 2]
    }
}

async fn start_catalog(
    program: &str,
    first_args: &[&str],
    db: &TempDb,
    registry: &ServiceProcess,
    env: &[(&str, String)],
) -> ServiceProcess {
    let mut builder = ServiceProcess::builder(program)
        .args(first_args.iter().copied())
        .args(["catalog", "--listen", "127.0.0.1:0", "--database-url"])
        .arg(db.url())
        .args(["--registry-url", registry.base_url()])
        .env("REGISTRY_TOKEN", "bench-registry-token")
        .timeout(Duration::from_secs(30));
    for (key, value) in env {
        builder = builder.env(key, value);
    }
    builder.spawn().await.unwrap()
}

/// Takes the spans the collector receives off its (bounded) queue, so
/// exporting never waits for the bench, and counts them.
async fn drain(mut collector: FakeCollectorServer, received: Arc<AtomicUsize>) {
    loop {
        let spans = collector.exported_spans(64, Duration::from_millis(5)).await;
        received.fetch_add(spans.len(), Ordering::Relaxed);
    }
}

async fn round(url: &str, workers: u64, seconds: u64) -> Latencies {
    let http = reqwest::Client::new();
    let url = url.to_owned();
    closed_loop(workers, Duration::from_secs(seconds), move |_, _| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let answer = http.get(&url).send().await;
            answer.is_ok_and(|a| a.status() == 200)
        }
    })
    .await
}

async fn measure() {
    let (workers, seconds, rounds) = (
        setting("BENCH_WORKERS", 16),
        setting("BENCH_SECONDS", 5),
        setting("BENCH_ROUNDS", 3),
    );
    let collector = FakeCollectorServer::start().await.unwrap();
    let endpoint = collector.endpoint();
    let received = Arc::new(AtomicUsize::new(0));
    let draining = tokio::spawn(drain(collector, received.clone()));
    let registry = common::start("registry", vec![], &Vec::new()).await;
    let dbs: Vec<TempDb> = (0..3).map(|_| TempDb::new()).collect();
    let this_bench = std::env::current_exe().unwrap();
    let this_bench = this_bench.to_str().unwrap();
    let exporting = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
    ];
    let mut variants = [
        Variant {
            name: "chapter 6 (no chapter 7)",
            catalog: start_catalog(this_bench, &["--serve-plain"], &dbs[0], &registry, &[]).await,
            rounds: Vec::new(),
        },
        Variant {
            name: "chapter 7, nothing collects",
            catalog: start_catalog(common::SERVICE, &[], &dbs[1], &registry, &[]).await,
            rounds: Vec::new(),
        },
        Variant {
            name: "chapter 7, exporting spans",
            catalog: start_catalog(common::SERVICE, &[], &dbs[2], &registry, &exporting).await,
            rounds: Vec::new(),
        },
    ];
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "GET /v1/books/1 straight from one catalog, {workers} clients, \
         {rounds} x {seconds} s each, taking turns, {cores} cores shared by everything"
    );
    for variant in &variants {
        round(&variant.catalog.url("/v1/books/1"), workers, 1).await; // warm-up
    }
    for _ in 0..rounds {
        for variant in &mut variants {
            let url = variant.catalog.url("/v1/books/1");
            variant.rounds.push(round(&url, workers, seconds).await);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await; // the last batch
    draining.abort();

    println!("catalog                        req/s (median)   vs ch. 6   p50 ms   p99 ms   errors");
    let baseline = variants[0].median().per_second();
    let mut charts = testkit::figures::Figures::new("overhead");
    for variant in &mut variants {
        let name = variant.name;
        let median = variant.median();
        charts.add(
            "GET /v1/books/1, requests per second",
            name,
            median.per_second(),
            "req/s",
        );
        println!(
            "{name:<29}   {:>14.0}   {:>8.2}   {:>6.2}   {:>6.2}   {:>6}",
            median.per_second(),
            median.per_second() / baseline,
            median.millis(0.5),
            median.millis(0.99),
            median.errors,
        );
    }
    println!(
        "spans the collector received: {}",
        received.load(Ordering::Relaxed)
    );
    if let Err(err) = charts.save() {
        eprintln!("cannot save the figures: {err:#}");
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args();
    if args.nth(1).as_deref() == Some("--serve-plain") {
        let plain = Plain::parse_from(std::env::args().skip(1));
        ch01_autonomy::telemetry::init();
        return plain
            .service
            .run(ch01_autonomy::server::shutdown_signal())
            .await;
    }
    measure().await;
    Ok(())
}
