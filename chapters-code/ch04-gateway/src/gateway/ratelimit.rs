//! Rate limiting with a token bucket per client, written by hand to show
//! the algorithm. In production reach for `governor` (GCRA, lock-free)
//! and its tower layer `tower_governor`.
//!
//! Two layers use it. [`limit_by_address`] runs before authentication, so
//! a flood of forged tokens is slowed down before it costs a signature
//! check each; [`limit_by_client`] runs after it, with the bucket of the
//! user the token proved (or of the address, on public routes).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ch01_autonomy::problem::Problem;

use super::auth::VerifiedUser;
use super::routes::{RateLimit, Resolved, RouteTable};

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

/// One bucket per key: an address, a user.
#[derive(Debug)]
pub struct RateLimiter<K = String> {
    capacity: u32,
    per_second: f64,
    buckets: Mutex<HashMap<K, TokenBucket>>,
}

/// Above this many clients, full (idle) buckets are forgotten.
const MAX_TRACKED_CLIENTS: usize = 100_000;

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(capacity: u32, per_second: f64) -> Self {
        Self {
            capacity,
            per_second,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn check<Q>(&self, key: &Q, now: Instant) -> Result<(), Duration>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED_CLIENTS {
            let (capacity, per_second) = (f64::from(self.capacity), self.per_second);
            // A bucket that would be full again is the same as a new one.
            buckets.retain(|_, b| {
                now.saturating_duration_since(b.updated).as_secs_f64() * per_second < capacity
            });
        }
        // A known client costs a lookup, not a copy of its key.
        if let Some(bucket) = buckets.get_mut(key) {
            return bucket.try_take(now);
        }
        let mut bucket = TokenBucket::new(self.capacity, self.per_second, now);
        let answer = bucket.try_take(now);
        buckets.insert(key.to_owned(), bucket);
        answer
    }
}

// ANCHOR: limiters
/// Who may send how much.
#[derive(Debug)]
pub struct Limiters {
    /// Every request, by address, before its token is looked at.
    per_address: RateLimiter<IpAddr>,
    /// After authentication: by user on protected routes, else by address.
    per_client: RateLimiter<Client>,
    /// Routes with a limit of their own, by prefix, used instead.
    per_route: HashMap<String, RateLimiter<Client>>,
}

/// Whose bucket a request takes its token from, after authentication.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Client {
    User(Arc<str>),
    Address(IpAddr),
}
// ANCHOR_END: limiters

impl Limiters {
    /// `client` for each client; an address may send `users_per_address`
    /// times as much (several users behind one NAT).
    pub fn new(client: RateLimit, users_per_address: u32, routes: &RouteTable) -> Self {
        let per_route = routes
            .routes
            .iter()
            .filter_map(|route| Some((route.prefix.clone(), route.rate_limit?)))
            .map(|(prefix, limit)| (prefix, RateLimiter::new(limit.burst, limit.per_second)))
            .collect();
        let share = users_per_address.max(1);
        Self {
            per_address: RateLimiter::new(
                client.burst.saturating_mul(share),
                client.per_second * f64::from(share),
            ),
            per_client: RateLimiter::new(client.burst, client.per_second),
            per_route,
        }
    }
}

// ANCHOR: layers
/// Before authentication: one bucket per address.
pub async fn limit_by_address(
    State(limiters): State<Arc<Limiters>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    match limiters.per_address.check(&peer.ip(), Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => too_many_requests("address", wait),
    }
}

/// After authentication: the verified user's bucket, or the address's on
/// a public route; the route's own limit if it has one.
pub async fn limit_by_client(
    State(limiters): State<Arc<Limiters>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Resolved(route): Resolved,
    request: Request,
    next: Next,
) -> Response {
    let client = match request.extensions().get::<VerifiedUser>() {
        Some(VerifiedUser(user)) => Client::User(user.clone()),
        None => Client::Address(peer.ip()),
    };
    let limiter = limiters
        .per_route
        .get(&route.prefix)
        .unwrap_or(&limiters.per_client);
    match limiter.check(&client, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => too_many_requests("client", wait),
    }
}
// ANCHOR_END: layers

/// A 429 with `Retry-After`, counted by the limit that refused it.
fn too_many_requests(limit: &'static str, wait: Duration) -> Response {
    metrics::counter!("gateway_rate_limited_total", "limit" => limit).increment(1);
    let seconds = u32::try_from(wait.as_secs() + 1).unwrap_or(u32::MAX);
    Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "slow down: this client sent too many requests",
    )
    .with_retry_after(seconds)
    .into_response()
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
        let limiter: RateLimiter = RateLimiter::new(1, 1.0);
        let now = Instant::now();
        assert!(limiter.check("ada", now).is_ok());
        assert!(limiter.check("ada", now).is_err());
        assert!(limiter.check("grace", now).is_ok());
    }
}
