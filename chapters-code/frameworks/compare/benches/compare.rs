//! `cargo bench -p frameworks`: the catalog slice in axum, actix-web,
//! poem and salvo, measured in one run on one machine.
//!
//! For each version: a cold release build in a target directory of its
//! own (time, and the stripped binary's size), then the process on a
//! fresh SQLite database: idle memory, `wrk` against `GET /health/live`
//! (the framework alone) and `GET /v1/books/7` (a database read), memory
//! after the load, lines of code, and how much of chapter 1's tower
//! stack it reuses. A measurement, not a test: nothing asserts a figure.
//!
//! Needs `wrk` (Debian: `apt-get install wrk`). Settings: `BENCH_SECONDS`
//! (5) per wrk run, `BENCH_CONNECTIONS` (64), `BENCH_ROUNDS` (3; the
//! median round is shown), `BENCH_COLD_BUILDS=0` to build once into a
//! shared directory instead (faster; no build times then).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use frameworks::measure::code_lines;
use frameworks::stacks::{VERSIONS, Version};
use testkit::figures::Figures;
use testkit::measure::{WrkFigures, parse_wrk, rss_kib};
use testkit::{ServiceProcess, TempDb};

const PATHS: [&str; 2] = ["/health/live", "/v1/books/7"];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn build_root() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from);
    target.join("frameworks-cold")
}

// ANCHOR: cold_build
/// `cargo build --release -p <package>` into `dir`, emptied first when
/// `cold`: every dependency is compiled again, as on a new machine.
fn build(args: &[&str], dir: &Path, cold: bool) -> anyhow::Result<Duration> {
    if cold && dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let started = Instant::now();
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["build", "--release", "--locked", "--quiet", "--target-dir"])
        .arg(dir)
        .args(args)
        .env("CARGO_INCREMENTAL", "0")
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("cargo build {args:?} failed ({status})");
    }
    Ok(started.elapsed())
}
// ANCHOR_END: cold_build

/// The size of `binary` once stripped of symbols (as an image ships it).
fn stripped_size(binary: &Path) -> anyhow::Result<u64> {
    let copy = tempfile::NamedTempFile::new()?;
    std::fs::copy(binary, copy.path())?;
    let status = Command::new("strip")
        .arg(copy.path())
        .status()
        .context("cannot run strip")?;
    if !status.success() {
        bail!("strip failed on {}", binary.display());
    }
    Ok(std::fs::metadata(copy.path())?.len())
}

fn wrk(url: &str, seconds: u64, connections: u64) -> anyhow::Result<WrkFigures> {
    let output = Command::new("wrk")
        .args([
            "--latency",
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            url,
        ])
        .output()
        .context("cannot run wrk: install it (Debian: apt-get install wrk)")?;
    let report = String::from_utf8_lossy(&output.stdout);
    let figures = parse_wrk(&report)?;
    if figures.errors > 0 {
        bail!("wrk saw {} errors on {url}:\n{report}", figures.errors);
    }
    Ok(figures)
}

/// What one version measured.
struct Measured {
    version: Version,
    build: Option<Duration>,
    binary_bytes: u64,
    lines: usize,
    idle_kib: Option<u64>,
    loaded_kib: Option<u64>,
    /// Per path, every round's figures.
    rounds: Vec<Vec<WrkFigures>>,
}

impl Measured {
    /// The round with the median throughput on `path`.
    fn median(&self, path: usize) -> WrkFigures {
        let mut rounds = self.rounds[path].clone();
        rounds.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
        rounds[rounds.len() / 2]
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |kib| format!("{:.1}", kib as f64 / 1024.0))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = env_number("BENCH_SECONDS", 5);
    let connections = env_number("BENCH_CONNECTIONS", 64);
    let rounds = env_number("BENCH_ROUNDS", 3).max(1);
    let cold = env_number("BENCH_COLD_BUILDS", 1) != 0;
    let root = build_root();

    // What every version builds besides its framework: chapter 1's store.
    let shared = if cold {
        eprintln!("cold build: chapter 1's catalog (shared by all four)");
        Some(build(
            &["-p", "ch01-autonomy", "--lib"],
            &root.join("shared"),
            true,
        )?)
    } else {
        None
    };
    let mut measured = Vec::new();
    let mut services = Vec::new();
    let databases: Vec<TempDb> = VERSIONS.iter().map(|_| TempDb::new()).collect();
    for (version, db) in VERSIONS.iter().zip(&databases) {
        let dir = root.join(if cold { version.package } else { "warm" });
        eprintln!(
            "{} build: {}",
            if cold { "cold" } else { "warm" },
            version.package
        );
        let took = build(&["-p", version.package], &dir, cold)?;
        let binary = dir.join("release").join(version.binary);
        let service = ServiceProcess::builder(&binary)
            .args(["--listen", "127.0.0.1:0", "--database-url", &db.url()])
            .env("RUST_LOG", "warn,ch01_autonomy::server=info,catalog_actix_web=info,catalog_poem=info,catalog_salvo=info")
            .spawn()
            .await?;
        let source = workspace_root()
            .join("chapters-code/frameworks")
            .join(version.dir)
            .join("src");
        measured.push(Measured {
            version: *version,
            build: cold.then_some(took),
            binary_bytes: stripped_size(&binary)?,
            lines: code_lines(&source)?,
            idle_kib: None,
            loaded_kib: None,
            rounds: vec![Vec::new(); PATHS.len()],
        });
        services.push(service);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (entry, service) in measured.iter_mut().zip(&services) {
        entry.idle_kib = service.pid().and_then(rss_kib);
    }

    // ANCHOR: rounds
    // Round after round, each version in turn, so a slow minute of the
    // machine falls on all of them rather than on one.
    for round in 1..=rounds {
        eprintln!("round {round} of {rounds}");
        for (entry, service) in measured.iter_mut().zip(&services) {
            for (index, path) in PATHS.iter().enumerate() {
                let url = service.url(path);
                let (warm_url, secs) = (url.clone(), seconds);
                tokio::task::spawn_blocking(move || wrk(&warm_url, 1, connections)).await??;
                let figures =
                    tokio::task::spawn_blocking(move || wrk(&url, secs, connections)).await??;
                entry.rounds[index].push(figures);
            }
            let now = service.pid().and_then(rss_kib);
            entry.loaded_kib = entry.loaded_kib.max(now);
        }
    }
    // ANCHOR_END: rounds

    report(&measured, shared, seconds, connections, rounds)
}

fn report(
    measured: &[Measured],
    shared: Option<Duration>,
    seconds: u64,
    connections: u64,
    rounds: u64,
) -> anyhow::Result<()> {
    let mut figures = Figures::new("compare");
    println!(
        "The catalog slice in four frameworks: wrk -t2 -c{connections} -d{seconds}s on loopback, median of {rounds} rounds; wrk and the service share the machine's cores"
    );
    println!();
    println!(
        "| framework | GET /health/live req/s | p99 ms | GET /v1/books/7 req/s | p99 ms | RSS idle MiB | RSS loaded MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for entry in measured {
        let (live, book) = (entry.median(0), entry.median(1));
        let name = entry.version.framework;
        println!(
            "| {name} | {:.0} | {:.2} | {:.0} | {:.2} | {} | {} |",
            live.per_second,
            live.p99_ms,
            book.per_second,
            book.p99_ms,
            mib(entry.idle_kib),
            mib(entry.loaded_kib)
        );
        figures.add(
            "GET /health/live, requests per second",
            name,
            live.per_second,
            "req/s",
        );
        figures.add(
            "GET /v1/books/7, requests per second",
            name,
            book.per_second,
            "req/s",
        );
        figures.add("GET /v1/books/7, p99 latency", name, book.p99_ms, "ms");
        if let Some(kib) = entry.loaded_kib {
            figures.add(
                "Resident memory after the load",
                name,
                kib as f64 / 1024.0,
                "MiB",
            );
        }
    }
    println!();
    match shared {
        Some(took) => println!(
            "Cold release build, each in an empty target directory; chapter 1's catalog alone (what all four share): {:.0} s",
            took.as_secs_f64()
        ),
        None => println!("Warm builds (BENCH_COLD_BUILDS=0): no build times"),
    }
    println!();
    println!(
        "| framework | cold build s | binary MiB (stripped) | lines of code | tower stack reused | request id | trace span | timeout | catch panic |"
    );
    println!("|---|---:|---:|---:|---:|---|---|---|---|");
    for entry in measured {
        let version = entry.version;
        let build = entry
            .build
            .map_or("-".into(), |took| format!("{:.0}", took.as_secs_f64()));
        let how = version
            .concerns()
            .map(|(_, how)| how.describe())
            .join(" | ");
        println!(
            "| {} | {build} | {:.1} | {} | {} of 4 | {how} |",
            version.framework,
            entry.binary_bytes as f64 / (1024.0 * 1024.0),
            entry.lines,
            version.tower_reused()
        );
        if let Some(took) = entry.build {
            figures.add(
                "Cold release build",
                version.framework,
                took.as_secs_f64(),
                "s",
            );
        }
        figures.add(
            "Binary, stripped",
            version.framework,
            entry.binary_bytes as f64 / (1024.0 * 1024.0),
            "MiB",
        );
    }
    if let Some(path) = figures.save()? {
        eprintln!("figures written to {}", path.display());
    }
    Ok(())
}
