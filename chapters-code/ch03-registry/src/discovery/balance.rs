//! Choosing an instance: round-robin, and the power of two choices.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::Instance;

/// Each instance in turn. Fair when every request costs the same.
#[derive(Debug, Default)]
pub struct RoundRobin {
    next: AtomicUsize,
}

impl RoundRobin {
    pub fn pick<'a>(&self, instances: &'a [Instance]) -> Option<&'a Instance> {
        if instances.is_empty() {
            return None;
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        instances.get(turn % instances.len())
    }
}

/// The power of two choices: pick two instances at random and send the
/// request to the one with fewer requests in flight. Nearly as good as
/// asking every instance, at the cost of looking at two.
#[derive(Debug, Default, Clone)]
pub struct PowerOfTwoChoices {
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
}

/// Counts a request as in flight on its instance until dropped.
#[derive(Debug)]
pub struct InFlight {
    instance_id: String,
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
}

impl PowerOfTwoChoices {
    // ANCHOR: p2c
    pub fn pick(&self, instances: &[Instance]) -> Option<(Instance, InFlight)> {
        let chosen = match instances.len() {
            0 => return None,
            1 => &instances[0],
            n => {
                let first = fastrand::usize(..n);
                // A second, different instance: shift by 1..n.
                let second = (first + 1 + fastrand::usize(..n - 1)) % n;
                let load = |i: usize| self.load(&instances[i].instance_id);
                if load(second) < load(first) {
                    &instances[second]
                } else {
                    &instances[first]
                }
            }
        };
        let mut counts = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        *counts.entry(chosen.instance_id.clone()).or_default() += 1;
        Some((
            chosen.clone(),
            InFlight {
                instance_id: chosen.instance_id.clone(),
                in_flight: self.in_flight.clone(),
            },
        ))
    }
    // ANCHOR_END: p2c

    /// Requests in flight on an instance right now.
    pub fn load(&self, instance_id: &str) -> usize {
        let counts = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        counts.get(instance_id).copied().unwrap_or(0)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut counts = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.instance_id) {
            *count = count.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instances(ids: &[&str]) -> Vec<Instance> {
        ids.iter()
            .map(|id| Instance {
                instance_id: (*id).to_owned(),
                address: format!("http://{id}:80"),
                metadata: Default::default(),
            })
            .collect()
    }

    #[test]
    fn round_robin_takes_turns() {
        let all = instances(&["a", "b", "c"]);
        let rr = RoundRobin::default();
        let picks: Vec<_> = (0..6)
            .map(|_| rr.pick(&all).unwrap().instance_id.clone())
            .collect();
        assert_eq!(picks, ["a", "b", "c", "a", "b", "c"]);
        assert!(rr.pick(&[]).is_none());
    }

    // ANCHOR: p2c_test
    #[test]
    fn two_choices_never_pick_the_busiest_instance() {
        let all = instances(&["busy", "idle-1", "idle-2"]);
        let p2c = PowerOfTwoChoices::default();
        // Pin five requests on "busy" (from a list holding only it).
        let held: Vec<_> = (0..5).filter_map(|_| p2c.pick(&all[..1])).collect();
        assert_eq!(p2c.load("busy"), 5);
        // Of any two distinct instances, one is idler than "busy".
        for _ in 0..1000 {
            let (instance, _guard) = p2c.pick(&all).unwrap();
            assert_ne!(instance.instance_id, "busy");
        }
        drop(held);
        assert_eq!(p2c.load("busy"), 0, "guards give their slot back");
    }
    // ANCHOR_END: p2c_test
}
