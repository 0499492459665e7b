//! `cargo bench -p ch02-communication`: orders → catalog lookups over
//! HTTP/JSON and over gRPC, in the same run, on the same machine.
//!
//! For each protocol it prints calls per second, p50/p99 latency, and the
//! bytes each call puts on the wire (both directions, measured by a
//! counting TCP proxy between client and catalog). One row asks for one
//! book per call; the other for five (HTTP sends five requests, gRPC one).
//! Set `BENCH_SECONDS` (default 5) and `BENCH_CONCURRENCY` (default 16).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ch01_autonomy::{catalog, server};
use ch02_communication::catalog_client::{CatalogClient, ClientConfig, Protocol};
use ch02_communication::catalog_grpc;
use testkit::{TempDb, TestServer};
use tokio::net::{TcpListener, TcpStream};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A TCP proxy that counts every byte in both directions.
#[derive(Default)]
struct Counter {
    bytes: AtomicU64,
    open: AtomicU64,
}

async fn counting_proxy(
    upstream: std::net::SocketAddr,
    counter: Arc<Counter>,
) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let counter = counter.clone();
            counter.open.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut server) = TcpStream::connect(upstream).await {
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    if let Ok((up, down)) =
                        tokio::io::copy_bidirectional(&mut client, &mut server).await
                    {
                        counter.bytes.fetch_add(up + down, Ordering::SeqCst);
                    }
                }
                counter.open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    Ok(format!("http://{addr}"))
}

struct Row {
    protocol: Protocol,
    books_per_call: usize,
    calls: usize,
    errors: u64,
    seconds: f64,
    p50: Duration,
    p99: Duration,
    bytes_per_call: f64,
}

async fn measure(
    catalog_addr: std::net::SocketAddr,
    protocol: Protocol,
    books_per_call: usize,
    seconds: u64,
    concurrency: u64,
) -> anyhow::Result<Row> {
    let counter = Arc::new(Counter::default());
    let url = counting_proxy(catalog_addr, counter.clone()).await?;
    let client = CatalogClient::new(&ClientConfig {
        base_url: url,
        protocol,
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_secs(2),
    })?;
    let caller = client.clone();
    let run = testkit::load::closed_loop(concurrency, Duration::from_secs(seconds), move |worker, n| {
        let client = caller.clone();
        let first = i64::try_from((worker + n) % 20 + 1).unwrap_or(1);
        async move {
            let ids: Vec<i64> = (0..books_per_call as i64).map(|i| first + i).collect();
            matches!(client.lookup(&ids).await, Ok(prices) if prices.found.len() == books_per_call)
        }
    })
    .await;
    // Close the pooled connections so the proxy can count them.
    drop(client);
    let wait_until = Instant::now() + Duration::from_secs(5);
    while counter.open.load(Ordering::SeqCst) > 0 && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(Row {
        protocol,
        books_per_call,
        calls: run.count(),
        errors: run.errors,
        seconds: run.elapsed.as_secs_f64(),
        p50: run.percentile(0.50),
        p99: run.percentile(0.99),
        bytes_per_call: counter.bytes.load(Ordering::SeqCst) as f64 / run.count().max(1) as f64,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = env_number("BENCH_SECONDS", 5);
    let concurrency = env_number("BENCH_CONCURRENCY", 16);
    let db = TempDb::new();
    let app = catalog::App::open(&db.url()).await?;
    let router = app
        .clone()
        .into_router_with(catalog_grpc::routes(app.store().clone()));
    let catalog =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;

    println!(
        "orders -> catalog lookups, loopback, {concurrency} concurrent callers, {seconds} s per row"
    );
    println!(
        "{:<9} {:>10} {:>10} {:>9} {:>9} {:>13} {:>7}",
        "protocol", "books/call", "calls/s", "p50 ms", "p99 ms", "bytes/call", "errors"
    );
    let mut charts = testkit::figures::Figures::new("http_vs_grpc");
    for books_per_call in [1, 5] {
        for protocol in [Protocol::Http, Protocol::Grpc] {
            let row = measure(
                catalog.addr(),
                protocol,
                books_per_call,
                seconds,
                concurrency,
            )
            .await?;
            println!(
                "{:<9} {:>10} {:>10.0} {:>9.2} {:>9.2} {:>13.0} {:>7}",
                format!("{:?}", row.protocol).to_lowercase(),
                row.books_per_call,
                row.calls as f64 / row.seconds,
                row.p50.as_secs_f64() * 1000.0,
                row.p99.as_secs_f64() * 1000.0,
                row.bytes_per_call,
                row.errors,
            );
            let name = if protocol == Protocol::Http {
                "HTTP/JSON"
            } else {
                "gRPC"
            };
            let label = format!(
                "{name}, {books_per_call} book{}",
                if books_per_call == 1 { "" } else { "s" }
            );
            charts.add(
                "Lookups, calls per second",
                &label,
                row.calls as f64 / row.seconds,
                "calls/s",
            );
            charts.add(
                "Bytes on the wire per call",
                &label,
                row.bytes_per_call,
                "bytes",
            );
        }
    }
    charts.save()?;
    catalog.stop().await?;
    Ok(())
}
