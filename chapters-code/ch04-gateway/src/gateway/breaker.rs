//! Failing well, part one: a circuit breaker per upstream instance, so the
//! gateway stops sending requests to an instance that keeps failing and
//! lets one probe through after a cooldown. Written by hand to show the
//! state machine; crates such as `tower-resilience` offer a breaker layer.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

// ANCHOR: breaker
/// Closed: requests flow, failures are counted. Open: requests are
/// refused until the cooldown ends. Half-open: one probe goes through;
/// its success closes the breaker, its failure opens it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum BreakerState {
    Closed {
        failures: u32,
    },
    Open {
        #[serde(skip)]
        until: Instant,
    },
    /// A probe is out since `since`. If it never reports back (its client
    /// hung up), another probe may go after one more cooldown.
    HalfOpen {
        #[serde(skip)]
        since: Instant,
    },
}
// ANCHOR_END: breaker

#[derive(Debug)]
pub struct Breakers {
    threshold: u32,
    cooldown: Duration,
    states: Mutex<HashMap<String, BreakerState>>,
}

impl Breakers {
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold,
            cooldown,
            states: Mutex::new(HashMap::new()),
        }
    }

    fn states(&self) -> std::sync::MutexGuard<'_, HashMap<String, BreakerState>> {
        self.states.lock().unwrap_or_else(|p| p.into_inner())
    }

    // ANCHOR: breaker_acquire
    /// Whether `instance` could take a request now, without changing
    /// anything: for choosing among instances.
    pub fn available(&self, instance: &str, now: Instant) -> bool {
        match self.states().get(instance) {
            None | Some(BreakerState::Closed { .. }) => true,
            Some(BreakerState::Open { until }) => now >= *until,
            Some(BreakerState::HalfOpen { since }) => now >= *since + self.cooldown,
        }
    }

    /// Whether a request may go to `instance` now. An open breaker whose
    /// cooldown is over lets exactly one probe through (half-open).
    pub fn try_acquire(&self, instance: &str, now: Instant) -> bool {
        let mut states = self.states();
        let state = states
            .entry(instance.to_owned())
            .or_insert(BreakerState::Closed { failures: 0 });
        match *state {
            BreakerState::Closed { .. } => true,
            BreakerState::Open { until } if now >= until => {
                *state = BreakerState::HalfOpen { since: now };
                true
            }
            BreakerState::HalfOpen { since } if now >= since + self.cooldown => {
                *state = BreakerState::HalfOpen { since: now };
                true
            }
            BreakerState::Open { .. } | BreakerState::HalfOpen { .. } => false,
        }
    }
    // ANCHOR_END: breaker_acquire

    // ANCHOR: breaker_report
    pub fn success(&self, instance: &str) {
        self.states()
            .insert(instance.to_owned(), BreakerState::Closed { failures: 0 });
    }

    pub fn failure(&self, instance: &str, now: Instant) {
        let mut states = self.states();
        let state = states
            .entry(instance.to_owned())
            .or_insert(BreakerState::Closed { failures: 0 });
        *state = match *state {
            BreakerState::Closed { failures } if failures + 1 < self.threshold => {
                BreakerState::Closed {
                    failures: failures + 1,
                }
            }
            // The threshold reached, or the half-open probe failed.
            _ => BreakerState::Open {
                until: now + self.cooldown,
            },
        };
    }
    // ANCHOR_END: breaker_report

    /// Every instance's state, for operators.
    pub fn snapshot(&self) -> HashMap<String, BreakerState> {
        self.states().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ANCHOR: breaker_test
    #[test]
    fn a_breaker_opens_after_failures_and_closes_after_a_good_probe() {
        let breakers = Breakers::new(3, Duration::from_secs(10));
        let start = Instant::now();
        for _ in 0..3 {
            assert!(breakers.try_acquire("a", start));
            breakers.failure("a", start);
        }
        assert!(!breakers.try_acquire("a", start), "open: refused at once");
        let later = start + Duration::from_secs(10);
        assert!(breakers.try_acquire("a", later), "cooldown over: one probe");
        assert!(
            !breakers.try_acquire("a", later),
            "only one probe at a time"
        );
        breakers.success("a");
        assert!(breakers.try_acquire("a", later), "the probe worked: closed");
    }

    #[test]
    fn a_failed_probe_opens_the_breaker_again() {
        let breakers = Breakers::new(1, Duration::from_secs(10));
        let start = Instant::now();
        breakers.failure("a", start);
        let later = start + Duration::from_secs(10);
        assert!(breakers.try_acquire("a", later));
        breakers.failure("a", later);
        assert!(!breakers.try_acquire("a", later + Duration::from_secs(9)));
    }
    // ANCHOR_END: breaker_test

    #[test]
    fn a_probe_that_never_reports_back_is_replaced_after_a_cooldown() {
        let breakers = Breakers::new(1, Duration::from_secs(10));
        let start = Instant::now();
        breakers.failure("a", start);
        let probe = start + Duration::from_secs(10);
        assert!(
            breakers.try_acquire("a", probe),
            "a probe goes, then its client hangs up"
        );
        assert!(!breakers.try_acquire("a", probe + Duration::from_secs(9)));
        assert!(
            breakers.try_acquire("a", probe + Duration::from_secs(10)),
            "a new probe"
        );
    }
}
