//! `cargo bench -p ch07-operations --bench scaling`: throughput and
//! latency through the gateway with 1, 2 and 3 catalog instances, in one
//! run, on whatever machine runs it. Prints figures; asserts nothing.
//!
//! The whole of Bookshop runs as processes (release build); the load comes
//! from this process: `BENCH_WORKERS` (default 32) closed-loop clients
//! reading one book as a signed-in user (so the gateway's cache, which
//! serves only anonymous GETs, stays out of it), `BENCH_SECONDS` (default
//! 5) per round, `BENCH_ROUNDS` (default 3) rounds per instance count.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use testkit::TempDb;
use testkit::load::{Latencies, closed_loop};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Waits until the gateway has answered from `count` different catalogs.
async fn spread_over(url: &str, token: &str, count: usize) {
    let http = reqwest::Client::new();
    let mut seen = BTreeSet::new();
    for _ in 0..2000 {
        let answer = http.get(url).bearer_auth(token).send().await;
        if let Ok(answer) = answer
            && let Some(instance) = answer.headers().get("x-bookshop-upstream")
        {
            seen.insert(instance.to_str().unwrap_or("?").to_owned());
        }
        if seen.len() >= count {
            return;
        }
    }
    panic!(
        "the gateway answered from {} catalogs, not {count}",
        seen.len()
    );
}

async fn round(url: &str, token: &str, workers: u64, seconds: u64) -> Latencies {
    let http = reqwest::Client::new();
    let (url, token) = (url.to_owned(), token.to_owned());
    closed_loop(workers, Duration::from_secs(seconds), move |_, _| {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        async move {
            let answer = http.get(&url).bearer_auth(&token).send().await;
            answer.is_ok_and(|a| a.status() == 200)
        }
    })
    .await
}

#[tokio::main]
async fn main() {
    let (workers, seconds, rounds) = (
        setting("BENCH_WORKERS", 32),
        setting("BENCH_SECONDS", 5),
        setting("BENCH_ROUNDS", 3),
    );
    let unlimited = [
        ("GATEWAY_RATE_BURST", "1000000"),
        ("GATEWAY_RATE_PER_SECOND", "1000000"),
    ];
    let shop = common::shop(&unlimited).await;
    let token = shop.demo_token().await;
    let url = shop.gateway.url("/api/catalog/books/1");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "GET /api/catalog/books/1 through the gateway, {workers} clients, \
         {rounds} x {seconds} s per row, {cores} cores shared by everything"
    );
    println!("catalogs   req/s (median)   vs 1   p50 ms   p99 ms   errors");

    let dbs: Vec<TempDb> = (0..2).map(|_| TempDb::new()).collect();
    let mut extra = Vec::new();
    let mut first_rate = 0.0;
    let mut charts = testkit::figures::Figures::new("scaling");
    for instances in 1..=3 {
        if instances > 1 {
            extra.push(shop.start_catalog(&dbs[instances - 2]).await);
            spread_over(&url, &token, instances).await;
        }
        round(&url, &token, workers, 1).await; // warm-up
        let mut results = Vec::new();
        for _ in 0..rounds {
            results.push(round(&url, &token, workers, seconds).await);
        }
        results.sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
        let median = &results[results.len() / 2];
        if instances == 1 {
            first_rate = median.per_second();
        }
        println!(
            "{instances:>8}   {:>14.0}   {:>4.2}   {:>6.2}   {:>6.2}   {:>6}",
            median.per_second(),
            median.per_second() / first_rate,
            median.millis(0.5),
            median.millis(0.99),
            median.errors,
        );
        let label = format!(
            "{instances} catalog{}",
            if instances == 1 { "" } else { "s" }
        );
        charts.add(
            "Through the gateway, requests per second",
            &label,
            median.per_second(),
            "req/s",
        );
        charts.add(
            "Through the gateway, p99 latency",
            &label,
            median.millis(0.99),
            "ms",
        );
    }
    if let Err(err) = charts.save() {
        eprintln!("cannot save the figures: {err:#}");
    }
    drop(extra);
    shop.clean_up().await;
}
