//! A token bucket for the gateway's rate limiter. It lets everything
//! through today.

use std::time::{Duration, Instant};

/// Holds up to `capacity` tokens, refilled at `per_second`; each request
/// takes one. A new bucket starts full.
#[derive(Debug, Clone, Copy)]
pub struct TokenBucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    pub fn new(capacity: u32, per_second: f64, now: Instant) -> Self {
        Self {
            capacity: f64::from(capacity),
            per_second,
            tokens: f64::from(capacity),
            updated: now,
        }
    }

    /// Takes a token at `now`, or returns how long until one is there.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        // TODO: refill for the time since `updated` (never above capacity),
        // then take one token, or say how long the next one takes.
        let _ = (
            now,
            self.capacity,
            self.per_second,
            self.tokens,
            self.updated,
        );
        Ok(())
    }
}
