//! Choosing an instance by the power of two choices: pick two at random,
//! keep the one with fewer requests in flight.

use ch03_registry::discovery::Instance;

/// Picks an instance; `load` says how many requests one has in flight.
pub fn pick(instances: &[Instance], load: impl Fn(&Instance) -> usize) -> Option<&Instance> {
    match instances.len() {
        0 => None,
        1 => instances.first(),
        n => {
            let first = fastrand::usize(..n);
            // A different second instance: shift the first by 1..n.
            let second = (first + 1 + fastrand::usize(..n - 1)) % n;
            let (a, b) = (&instances[first], &instances[second]);
            Some(if load(b) < load(a) { b } else { a })
        }
    }
}
