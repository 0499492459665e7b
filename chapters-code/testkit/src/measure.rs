//! What the benches read off the machine: `wrk --latency`'s report and a
//! process's resident memory. Shared by every chapter's bench and the
//! framework comparison.

use anyhow::Context;

/// What one wrk run reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WrkFigures {
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Non-2xx answers and socket errors together.
    pub errors: u64,
}

// ANCHOR: wrk
/// Reads `wrk --latency`'s report: `Requests/sec`, the 50 % and 99 %
/// lines of its latency distribution, and any errors it counted.
pub fn parse_wrk(report: &str) -> anyhow::Result<WrkFigures> {
    let value_after = |label: &str| {
        report
            .lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(label))
            .map(str::trim)
    };
    let per_second = value_after("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no Requests/sec in wrk's report:\n{report}"))?;
    let percentile = |label| {
        value_after(label)
            .and_then(millis)
            .with_context(|| format!("no {label} line in:\n{report}"))
    };
    let non_2xx = value_after("Non-2xx or 3xx responses:").and_then(|v| v.parse::<u64>().ok());
    let socket = value_after("Socket errors:").map(|rest| {
        rest.split(',')
            .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
            .sum()
    });
    Ok(WrkFigures {
        per_second,
        p50_ms: percentile("50%")?,
        p99_ms: percentile("99%")?,
        errors: non_2xx.unwrap_or(0) + socket.unwrap_or(0),
    })
}
// ANCHOR_END: wrk

/// wrk's durations: `812.00us`, `1.53ms`, `2.01s`.
fn millis(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    match unit {
        "us" => Some(number / 1000.0),
        "ms" => Some(number),
        "s" => Some(number * 1000.0),
        "m" => Some(number * 60_000.0),
        _ => None,
    }
}

/// The resident memory of process `pid`, from `/proc`, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 5s test @ http://127.0.0.1:4100/health/live
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.00us  300.00us   9.00ms   90.00%
  Latency Distribution
     50%  750.00us
     75%    0.90ms
     90%    1.10ms
     99%    2.01ms
  301200 requests in 5.00s, 40.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  60240.12
Transfer/sec:      8.00MB
";

    #[test]
    fn reads_throughput_percentiles_and_errors() {
        let figures = parse_wrk(REPORT).unwrap();
        assert_eq!(figures.per_second, 60240.12);
        assert_eq!(figures.p50_ms, 0.75);
        assert_eq!(figures.p99_ms, 2.01);
        assert_eq!(figures.errors, 7);
    }

    #[test]
    fn a_report_without_figures_is_an_error() {
        assert!(parse_wrk("unable to connect").is_err());
    }
}
