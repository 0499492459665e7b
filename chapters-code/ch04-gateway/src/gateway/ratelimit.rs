//! Rate limiting with a token bucket per client, written by hand to show
//! the algorithm. In production reach for `governor` (GCRA, lock-free)
//! and its tower layer `tower_governor`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

// ANCHOR: token_bucket
/// A bucket holds up to `capacity` tokens and refills at `per_second`.
/// Each request takes one; an empty bucket says how long until the next.
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
            tokens: f64::from(capacity), // a new client may burst at once
            updated: now,
        }
    }

    /// Takes a token, or says how long to wait for one.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - self.tokens;
            Err(Duration::from_secs_f64(missing / self.per_second))
        }
    }
}
// ANCHOR_END: token_bucket

/// One bucket per client key.
#[derive(Debug)]
pub struct RateLimiter {
    capacity: u32,
    per_second: f64,
    buckets: Mutex<HashMap<String, TokenBucket>>,
}

/// Above this many clients, full (idle) buckets are forgotten.
const MAX_TRACKED_CLIENTS: usize = 100_000;

impl RateLimiter {
    pub fn new(capacity: u32, per_second: f64) -> Self {
        Self {
            capacity,
            per_second,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED_CLIENTS {
            let (capacity, per_second) = (f64::from(self.capacity), self.per_second);
            // A bucket that would be full again is the same as a new one.
            buckets.retain(|_, b| {
                now.saturating_duration_since(b.updated).as_secs_f64() * per_second < capacity
            });
        }
        buckets
            .entry(key.to_owned())
            .or_insert_with(|| TokenBucket::new(self.capacity, self.per_second, now))
            .try_take(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ANCHOR: token_bucket_test
    #[test]
    fn a_bucket_allows_a_burst_then_the_refill_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(3, 2.0, start);
        for _ in 0..3 {
            assert!(bucket.try_take(start).is_ok(), "the burst");
        }
        let wait = bucket.try_take(start).unwrap_err();
        assert_eq!(
            wait,
            Duration::from_millis(500),
            "2 tokens a second: one every 500 ms"
        );
        assert!(bucket.try_take(start + Duration::from_millis(500)).is_ok());
        assert!(bucket.try_take(start + Duration::from_millis(600)).is_err());
        // A long pause refills up to the capacity, never beyond.
        let later = start + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(bucket.try_take(later).is_ok());
        }
        assert!(bucket.try_take(later).is_err());
    }
    // ANCHOR_END: token_bucket_test

    #[test]
    fn clients_have_separate_buckets() {
        let limiter = RateLimiter::new(1, 1.0);
        let now = Instant::now();
        assert!(limiter.check("ada", now).is_ok());
        assert!(limiter.check("ada", now).is_err());
        assert!(limiter.check("grace", now).is_ok());
    }
}
