//! `cargo bench -p ch01-autonomy`: how fast is one catalog process?
//!
//! Prints start-to-ready time, idle RSS, and `GET /v1/books/{id}`
//! throughput with p50/p99 latency over loopback. A measurement, not a
//! test: nothing here asserts a timing. Set `BENCH_SECONDS` (default 5)
//! and `BENCH_CONCURRENCY` (default 32) to change the load.

use std::time::{Duration, Instant};

use testkit::measure::rss_kib;
use testkit::{ServiceProcess, TempDb};

const CATALOG: &str = env!("CARGO_BIN_EXE_catalog");

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = env_number("BENCH_SECONDS", 5);
    let concurrency = env_number("BENCH_CONCURRENCY", 32);
    let db = TempDb::new();

    let started = Instant::now();
    let catalog = ServiceProcess::builder(CATALOG)
        .args(["--listen", "127.0.0.1:0", "--database-url", &db.url()])
        // Quiet, but keep the `listening` line testkit reads the address from.
        .env("RUST_LOG", "warn,ch01_autonomy::server=info")
        .spawn()
        .await?;
    let start_to_ready = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss = catalog.pid().and_then(rss_kib);

    let client = reqwest::Client::new();
    let base = catalog.base_url().to_owned();
    let run = testkit::load::closed_loop(
        concurrency,
        Duration::from_secs(seconds),
        move |worker, n| {
            let (client, base) = (client.clone(), base.clone());
            let id = (worker + n) % 24 + 1;
            async move {
                match client.get(format!("{base}/v1/books/{id}")).send().await {
                    Ok(response) if response.status().is_success() => {
                        response.bytes().await.is_ok()
                    }
                    _ => false,
                }
            }
        },
    )
    .await;
    let loaded_rss = catalog.pid().and_then(rss_kib);

    println!(
        "catalog (ch01), one process, SQLite, loopback, {concurrency} connections, {seconds} s"
    );
    println!(
        "  start to ready:        {:.1} ms",
        start_to_ready.as_secs_f64() * 1000.0
    );
    println!(
        "  idle RSS:              {} KiB",
        idle_rss.map_or("n/a".into(), |v| v.to_string())
    );
    println!(
        "  RSS after load:        {} KiB",
        loaded_rss.map_or("n/a".into(), |v| v.to_string())
    );
    println!("  GET /v1/books/{{id}}:    {:.0} req/s", run.per_second());
    println!("  latency p50:           {:.2} ms", run.millis(0.50));
    println!("  latency p99:           {:.2} ms", run.millis(0.99));
    println!("  requests: {} ok, {} failed", run.count(), run.errors);
    Ok(())
}
