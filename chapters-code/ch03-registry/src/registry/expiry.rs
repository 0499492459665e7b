//! The background task that drops instances whose lease ran out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::store::Store;

/// How often the registry looks for expired leases. An instance is gone
/// at most this long after its TTL: the price of not keeping a timer per
/// lease.
pub const SWEEP_EVERY: Duration = Duration::from_millis(250);

// ANCHOR: expiry_task
/// Sweeps until the returned handle is aborted (or the runtime stops).
pub fn spawn(store: Arc<Store>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(SWEEP_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            store.expire(Instant::now());
        }
    })
}
// ANCHOR_END: expiry_task
