//! Slowing down password guessing: after a few failed logins for one
//! username, that username is refused for a while, right password or not.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

// ANCHOR: throttle
/// Failed logins per username in a fixed window.
#[derive(Debug)]
pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(wait)` while `username` is locked out.
    pub fn locked(&self, username: &str, now: Instant) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let (count, since) = failures.get(username)?;
        let ends = *since + self.window;
        (*count >= self.max_failures && ends > now).then(|| ends - now)
    }

    pub fn failed(&self, username: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Forget old windows, so the map cannot grow without bound.
        failures.retain(|_, (_, since)| *since + self.window > now);
        let entry = failures.entry(username.to_owned()).or_insert((0, now));
        entry.0 += 1;
    }

    pub fn succeeded(&self, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(username);
    }
}
// ANCHOR_END: throttle

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_limit_and_unlocks_after_the_window() {
        let throttle = LoginThrottle::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            assert!(throttle.locked("ada", start).is_none());
            throttle.failed("ada", start);
        }
        assert_eq!(throttle.locked("ada", start), Some(Duration::from_secs(60)));
        assert!(throttle.locked("grace", start).is_none(), "per username");
        assert!(
            throttle
                .locked("ada", start + Duration::from_secs(61))
                .is_none()
        );
    }
}
