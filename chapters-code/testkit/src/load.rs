//! A closed-loop load generator for the benches: `workers` callers, each
//! sending its next request as soon as the last one answered, for a fixed
//! time. It records every latency, so percentiles are exact.

use std::future::Future;
use std::time::{Duration, Instant};

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    sorted: Vec<Duration>,
    pub errors: u64,
    pub elapsed: Duration,
}

impl Latencies {
    /// Successful calls.
    pub fn count(&self) -> usize {
        self.sorted.len()
    }

    pub fn per_second(&self) -> f64 {
        self.sorted.len() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The latency below which a share `p` (0.0–1.0) of calls finished.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.sorted.len() - 1) as f64 * p.clamp(0.0, 1.0)).round() as usize;
        self.sorted[index]
    }

    pub fn millis(&self, p: f64) -> f64 {
        self.percentile(p).as_secs_f64() * 1000.0
    }
}

/// Runs `call(worker, n)` from `workers` tasks for `duration`; a call
/// answers whether it succeeded. Only successes count as latencies.
pub async fn closed_loop<F, Fut>(workers: u64, duration: Duration, call: F) -> Latencies
where
    F: Fn(u64, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..workers)
        .map(|worker| {
            let call = call.clone();
            tokio::spawn(async move {
                let (mut latencies, mut errors, mut n) = (Vec::new(), 0u64, 0u64);
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    if call(worker, n).await {
                        latencies.push(sent.elapsed());
                    } else {
                        errors += 1;
                    }
                    n += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut result = Latencies::default();
    for task in tasks {
        if let Ok((latencies, errors)) = task.await {
            result.sorted.extend(latencies);
            result.errors += errors;
        }
    }
    result.elapsed = started.elapsed();
    result.sorted.sort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_successes_and_errors() {
        let run = closed_loop(2, Duration::from_millis(50), |_, n| async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            n % 2 == 0
        })
        .await;
        assert!(run.count() > 0);
        assert!(run.errors > 0);
        assert!(run.percentile(0.99) >= run.percentile(0.5));
    }
}
