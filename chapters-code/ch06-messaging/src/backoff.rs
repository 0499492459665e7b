//! How long to wait before reconnecting to the broker: capped exponential
//! backoff with full jitter, shared by the relay and every consumer.
//!
//! Without the jitter, every process that lost the broker at the same
//! moment (the relay and the consumers of all three services, when
//! RabbitMQ restarts) would retry at 100, 200, 400 ms together, and the
//! broker would meet each wave at once. A random wait below a doubling
//! ceiling spreads them out. For a crate that does this, and retries with
//! it, see `backon` or `tokio-retry`; this one is the algorithm alone.

use std::time::Duration;

// ANCHOR: backoff
/// Waits between attempts at something that keeps failing: a random time
/// between zero and a ceiling that doubles after each failure, up to `max`
/// ("full jitter"). A success starts the ceiling short again.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    ceiling: Duration,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Self {
        let first = first.min(max);
        Self {
            first,
            max,
            ceiling: first,
        }
    }

    /// How long to wait before the next attempt; doubles the ceiling for
    /// the one after.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.ceiling.mul_f64(fastrand::f64());
        self.ceiling = self.ceiling.saturating_mul(2).min(self.max);
        delay
    }

    /// After an attempt that worked: the next outage starts short again.
    pub fn reset(&mut self) {
        self.ceiling = self.first;
    }
}
// ANCHOR_END: backoff

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(5);

    // ANCHOR: test
    #[test]
    fn waits_stay_under_a_ceiling_that_doubles_up_to_the_cap() {
        let mut backoff = Backoff::new(FIRST, MAX);
        let ceilings = [100, 200, 400, 800, 1600, 3200, 5000, 5000];
        for ceiling in ceilings.map(Duration::from_millis) {
            let waits: Vec<Duration> = (0..200)
                .map(|_| {
                    let mut attempt = backoff.clone();
                    attempt.next_delay()
                })
                .collect();
            assert!(waits.iter().all(|wait| *wait <= ceiling), "{waits:?}");
            // Spread out, not bunched at the top: some below half, some above.
            assert!(waits.iter().any(|wait| *wait < ceiling / 2));
            assert!(waits.iter().any(|wait| *wait > ceiling / 2));
            backoff.next_delay();
        }
    }

    #[test]
    fn a_success_starts_the_waits_short_again() {
        let mut backoff = Backoff::new(FIRST, MAX);
        for _ in 0..10 {
            backoff.next_delay();
        }
        backoff.reset();
        assert!(backoff.next_delay() <= FIRST);
    }
    // ANCHOR_END: test
}
