//! `cargo xtask performance [--from DIR]`: the appendix "Measured
//! performance", generated. It runs every bench once (release builds,
//! one machine), keeps each one's printed report and the figures it
//! hands over (`BENCH_FIGURES`), and writes `book/appendix/performance.md`
//! with an SVG chart per series under `book/appendix/performance/`.
//! With `--from DIR` it only writes the page, from a run kept in DIR.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use plotters::prelude::*;
use serde_json::Value;

/// One bench, and where the book explains its figures.
struct Bench {
    package: &'static str,
    bench: &'static str,
    title: &'static str,
    /// The page that explains it, from `book/appendix/`.
    page: &'static str,
    /// Its report is Markdown (tables) rather than plain text.
    markdown: bool,
}

// ANCHOR: benches
const BENCHES: [Bench; 8] = [
    Bench {
        package: "ch01-autonomy",
        bench: "catalog",
        title: "One catalog process",
        page: "../ch01-autonomy/run-test-measure.md#measure-it",
        markdown: false,
    },
    Bench {
        package: "ch02-communication",
        bench: "http_vs_grpc",
        title: "HTTP/JSON and gRPC between two services",
        page: "../ch02-communication/run-and-test.md#http-or-grpc-honestly",
        markdown: false,
    },
    Bench {
        package: "ch03-registry",
        bench: "registry_load",
        title: "Our registry and etcd under heartbeats",
        page: "../ch03-registry/run-test-measure.md#measure-it",
        markdown: false,
    },
    Bench {
        package: "ch04-gateway",
        bench: "gateway_vs_proxies",
        title: "The gateway next to nginx, HAProxy and Envoy",
        page: "../ch04-gateway/run-test-measure.md#measure-it",
        markdown: false,
    },
    Bench {
        package: "ch06-messaging",
        bench: "relay",
        title: "The outbox relay and raw publishing",
        page: "../ch06-messaging/test-and-measure.md#measure-it",
        markdown: false,
    },
    Bench {
        package: "ch07-operations",
        bench: "overhead",
        title: "What observing costs a service",
        page: "../ch07-operations.md#measure-it-what-observing-costs",
        markdown: false,
    },
    Bench {
        package: "ch07-operations",
        bench: "scaling",
        title: "Scaling the catalog behind the gateway",
        page: "../ch07-operations/scaling.md#measure-it",
        markdown: false,
    },
    Bench {
        package: "frameworks",
        bench: "compare",
        title: "One slice in four web frameworks",
        page: "../perspective/frameworks.md",
        markdown: true,
    },
];
// ANCHOR_END: benches

pub fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let dir = match args {
        [flag, dir] if flag == "--from" => PathBuf::from(dir),
        [] => {
            let dir = target_dir(root).join("performance");
            run_benches(root, &dir)?;
            dir
        }
        _ => bail!("usage: cargo xtask performance [--from DIR]"),
    };
    write_page(root, &dir)
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

// ANCHOR: run_benches
/// Runs every bench in turn, each report to `<dir>/<bench>.txt`, the
/// figures to `<dir>/<bench>.json`, and what the machine is to `machine.txt`.
fn run_benches(root: &Path, dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("machine.txt"), describe_machine()?)?;
    for bench in &BENCHES {
        println!(
            "==> cargo bench -p {} --bench {}",
            bench.package, bench.bench
        );
        let started = Instant::now();
        let output = Command::new("cargo")
            .args([
                "bench",
                "--quiet",
                "-p",
                bench.package,
                "--bench",
                bench.bench,
            ])
            .current_dir(root)
            .env("BENCH_FIGURES", dir)
            .stderr(Stdio::inherit())
            .output()
            .context("cannot run cargo bench")?;
        if !output.status.success() {
            bail!(
                "cargo bench -p {} --bench {} failed ({})",
                bench.package,
                bench.bench,
                output.status
            );
        }
        std::fs::write(dir.join(format!("{}.txt", bench.bench)), &output.stdout)?;
        println!("==> {}: {:.0?}", bench.bench, started.elapsed());
    }
    Ok(())
}
// ANCHOR_END: run_benches

/// CPU, cores, memory, system and compiler, as the page states them.
fn describe_machine() -> anyhow::Result<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let os = std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map(|name| name.trim_matches('"').to_owned())
        .unwrap_or_else(|| "unknown system".to_owned());
    let rustc = command_output("rustc", &["--version"])?;
    let date = command_output("date", &["-u", "+%Y-%m-%d"])?;
    Ok(format!(
        "{model}, {cores} cores seen by the process, {:.0} GiB of memory, {os}, {rustc}; run on {date}",
        mem_kib as f64 / (1024.0 * 1024.0)
    ))
}

fn command_output(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {program}"))?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

// ANCHOR: write_page
/// Writes the appendix from a run kept in `dir`.
fn write_page(root: &Path, dir: &Path) -> anyhow::Result<()> {
    let appendix = root.join("book/appendix");
    let charts = appendix.join("performance");
    if charts.exists() {
        std::fs::remove_dir_all(&charts)?;
    }
    std::fs::create_dir_all(&charts)?;
    let machine = std::fs::read_to_string(dir.join("machine.txt")).with_context(|| {
        format!(
            "no machine.txt in {}: is it a run of `cargo xtask performance`?",
            dir.display()
        )
    })?;
    let mut page = String::from(PAGE_HEAD);
    page.push_str(&format!("The machine: {}.\n", machine.trim()));
    for bench in &BENCHES {
        let report_path = dir.join(format!("{}.txt", bench.bench));
        let report = std::fs::read_to_string(&report_path)
            .with_context(|| format!("no report {}", report_path.display()))?;
        page.push_str(&format!("\n## {}\n\n", bench.title));
        page.push_str(&format!(
            "`cargo bench -p {} --bench {}`, explained in [its chapter]({}).\n\n",
            bench.package, bench.bench, bench.page
        ));
        // The report is kept beside the page, so other pages can include
        // the same figures rather than copy them.
        let kept = format!("{}.txt", bench.bench);
        std::fs::write(charts.join(&kept), format!("{}\n", report.trim_end()))?;
        if bench.markdown {
            page.push_str(&format!("{{{{#include performance/{kept}}}}}\n"));
        } else {
            page.push_str(&format!(
                "```text\n{{{{#include performance/{kept}}}}}\n```\n"
            ));
        }
        let figures_path = dir.join(format!("{}.json", bench.bench));
        if figures_path.exists() {
            for (index, (series, bars)) in read_series(&figures_path)?.iter().enumerate() {
                let file = format!("{}-{}.svg", bench.bench, index + 1);
                draw_bars(&charts.join(&file), series, bars)?;
                page.push_str(&format!("\n![{series}](performance/{file})\n"));
            }
        }
    }
    std::fs::write(appendix.join("performance.md"), page)?;
    println!(
        "wrote book/appendix/performance.md, its reports and charts in book/appendix/performance/"
    );
    Ok(())
}
// ANCHOR_END: write_page

const PAGE_HEAD: &str = "# Measured performance

Every figure on this page comes from one run of `cargo xtask performance` on one machine: it runs each chapter's bench in turn, keeps what each printed, and draws the charts from the figures the benches hand over. Nothing here is typed in by hand, and you regenerate the whole page, charts included, with that one command (about half an hour on two cores, most of it release builds).

Read the figures as ratios within one table, never as absolutes: each bench runs its load generator on the same cores as the services it measures, so a faster machine moves every row, and a busy one moves some rows more than others. The chapters explain what each table shows and why it matters; the links below lead there.

";

/// A series: its title (with its unit) and its bars, in the order the bench gave them.
type Series = (String, Vec<(String, f64)>);

fn read_series(path: &Path) -> anyhow::Result<Vec<Series>> {
    let document: Value = serde_json::from_str(&std::fs::read_to_string(path)?)
        .with_context(|| format!("{} is not JSON", path.display()))?;
    let mut order = Vec::new();
    let mut series: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    for figure in document["figures"].as_array().into_iter().flatten() {
        let (Some(name), Some(label), Some(value), Some(unit)) = (
            figure["series"].as_str(),
            figure["label"].as_str(),
            figure["value"].as_f64(),
            figure["unit"].as_str(),
        ) else {
            bail!(
                "{}: a figure without series, label, value or unit: {figure}",
                path.display()
            );
        };
        let title = format!("{name} ({unit})");
        if !series.contains_key(&title) {
            order.push(title.clone());
        }
        series
            .entry(title)
            .or_default()
            .push((label.to_owned(), value));
    }
    Ok(order
        .into_iter()
        .filter_map(|title| series.remove(&title).map(|bars| (title, bars)))
        .collect())
}

// ANCHOR: draw_bars
/// One horizontal bar per label, its value written at its end.
fn draw_bars(path: &Path, title: &str, bars: &[(String, f64)]) -> anyhow::Result<()> {
    let height = 70 + 34 * u32::try_from(bars.len()).unwrap_or(u32::MAX / 64);
    let root = SVGBackend::new(path, (720, height)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let longest = bars
        .iter()
        .map(|(_, value)| *value)
        .fold(0.0, f64::max)
        .max(f64::EPSILON);
    let last = bars.len().saturating_sub(1).max(1);
    let row = |index: usize| bars.len() - 1 - index;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 17))
        .margin(12)
        .x_label_area_size(24)
        .y_label_area_size(170)
        // Segments 0..=last: one per bar, the first bar at the top.
        .build_cartesian_2d(0.0..longest * 1.2, (0..last).into_segmented())
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(bars.len())
        .x_label_formatter(&|value| short(*value))
        .y_label_formatter(&|position| match position {
            SegmentValue::CenterOf(position) if *position < bars.len() => bars
                .get(row(*position))
                .map(|(label, _)| label.clone())
                .unwrap_or_default(),
            _ => String::new(),
        })
        .draw()
        .map_err(plot_error)?;
    let colour = RGBColor(0x3b, 0x6e, 0xa5);
    chart
        .draw_series(bars.iter().enumerate().map(|(index, (_, value))| {
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(row(index))),
                    (*value, SegmentValue::Exact(row(index) + 1)),
                ],
                colour.filled(),
            );
            bar.set_margin(5, 5, 0, 0);
            bar
        }))
        .map_err(plot_error)?;
    chart
        .draw_series(bars.iter().enumerate().map(|(index, (_, value))| {
            Text::new(
                format!(" {}", short(*value)),
                (*value, SegmentValue::CenterOf(row(index))),
                ("sans-serif", 13),
            )
        }))
        .map_err(plot_error)?;
    root.present().map_err(plot_error)?;
    Ok(())
}
// ANCHOR_END: draw_bars

fn plot_error(err: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("cannot draw a chart: {err}")
}

/// Three significant digits are all a chart can show.
fn short(value: f64) -> String {
    match value.abs() {
        0.0 => "0".to_owned(),
        v if v >= 100.0 => format!("{value:.0}"),
        v if v >= 10.0 => format!("{value:.1}"),
        _ => format!("{value:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run's directory and a book root, both fresh, under the system's temp dir.
    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("xtask-performance-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_page_includes_every_report_and_draws_every_series() {
        let run = scratch("run");
        let root = scratch("root");
        std::fs::write(run.join("machine.txt"), "2 cores, a test").unwrap();
        for bench in &BENCHES {
            std::fs::write(run.join(format!("{}.txt", bench.bench)), "| a | b |\n").unwrap();
        }
        let figures = r#"{"bench": "scaling", "figures": [
            {"series": "Throughput", "label": "1 instance", "value": 1000.0, "unit": "req/s"},
            {"series": "Throughput", "label": "2 instances", "value": 1800.0, "unit": "req/s"},
            {"series": "p99", "label": "1 instance", "value": 3.5, "unit": "ms"}
        ]}"#;
        std::fs::write(run.join("scaling.json"), figures).unwrap();

        write_page(&root, &run).unwrap();

        let page = std::fs::read_to_string(root.join("book/appendix/performance.md")).unwrap();
        assert!(page.contains("The machine: 2 cores, a test."));
        for bench in &BENCHES {
            let include = format!("{{{{#include performance/{}.txt}}}}", bench.bench);
            assert!(page.contains(&include), "{include} missing");
            assert!(
                root.join(format!("book/appendix/performance/{}.txt", bench.bench))
                    .exists()
            );
        }
        assert!(page.contains("![Throughput (req/s)](performance/scaling-1.svg)"));
        assert!(page.contains("![p99 (ms)](performance/scaling-2.svg)"));
        let chart =
            std::fs::read_to_string(root.join("book/appendix/performance/scaling-1.svg")).unwrap();
        assert!(
            chart.contains("2 instances") && chart.contains("1800"),
            "{chart}"
        );
        let _ = std::fs::remove_dir_all(&run);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_run_without_its_machine_is_refused() {
        let run = scratch("empty");
        let root = scratch("empty-root");
        let err = write_page(&root, &run).unwrap_err().to_string();
        assert!(err.contains("no machine.txt"), "{err}");
    }
}
