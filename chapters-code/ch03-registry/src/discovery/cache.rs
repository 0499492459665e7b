//! Discovery with a local cache: ask the registry once, then keep the
//! answer fresh with blocking queries. Lookups never wait for the network,
//! and when the registry is unreachable the last known instances stay.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::balance::{InFlight, PowerOfTwoChoices, RoundRobin};
use super::{Instance, Registry};

/// How long one blocking query waits for a change.
pub const WATCH_WAIT: Duration = Duration::from_secs(30);
/// How long to wait before asking again after the registry failed.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_millis(500);

/// The instances of one service, kept up to date in the background.
#[derive(Debug)]
pub struct Discovery {
    service: String,
    instances: Arc<RwLock<Vec<Instance>>>,
    answered: Arc<AtomicBool>,
    round_robin: RoundRobin,
    two_choices: PowerOfTwoChoices,
    watcher: tokio::task::JoinHandle<()>,
}

impl Discovery {
    /// Starts watching `service`; the first answer arrives in the background.
    pub fn start<R: Registry>(registry: Arc<R>, service: &str) -> Self {
        let instances = Arc::new(RwLock::new(Vec::new()));
        let cache = instances.clone();
        let answered = Arc::new(AtomicBool::new(false));
        let heard = answered.clone();
        let name = service.to_owned();
        let watcher = tokio::spawn(async move {
            // ANCHOR: watch_loop
            let mut index = 0;
            let mut first = true;
            let mut failing = false;
            loop {
                let answer = if first {
                    registry.instances(&name).await
                } else {
                    registry.watch(&name, index, WATCH_WAIT).await
                };
                match answer {
                    Ok(snapshot) => {
                        if failing {
                            tracing::info!(service = %name, "registry reachable again");
                            failing = false;
                        }
                        // An index that went backwards means the registry
                        // restarted and forgot everyone. An empty list from
                        // it says nothing yet: instances re-register within
                        // a heartbeat, and the next change wakes us up.
                        let forgot = snapshot.index < index && snapshot.instances.is_empty();
                        if forgot {
                            tracing::warn!(service = %name, "the registry restarted; keeping the last known instances until they re-register");
                        } else {
                            *cache.write().unwrap_or_else(|p| p.into_inner()) = snapshot.instances;
                        }
                        index = snapshot.index;
                        first = false;
                        heard.store(true, Ordering::Relaxed);
                    }
                    Err(err) => {
                        // Keep serving what we knew: stale beats empty.
                        if !failing {
                            tracing::warn!(service = %name, %err, "registry unreachable; keeping the last known instances");
                            failing = true;
                        }
                        first = true;
                        tokio::time::sleep(RETRY_AFTER_FAILURE).await;
                    }
                }
            }
            // ANCHOR_END: watch_loop
        });
        Self {
            service: service.to_owned(),
            instances,
            answered,
            round_robin: RoundRobin::default(),
            two_choices: PowerOfTwoChoices::default(),
            watcher,
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// Whether the registry has answered at least once. Until then an
    /// empty cache means "don't know yet", not "no instances".
    pub fn has_answered(&self) -> bool {
        self.answered.load(Ordering::Relaxed)
    }

    /// What the cache holds now.
    pub fn instances(&self) -> Vec<Instance> {
        self.instances.read().map(|i| i.clone()).unwrap_or_default()
    }

    /// The next instance in turn.
    pub fn round_robin(&self) -> Option<Instance> {
        let instances = self.instances();
        self.round_robin.pick(&instances).cloned()
    }

    /// The idler of two random instances; hold the guard while the request runs.
    pub fn two_choices(&self) -> Option<(Instance, InFlight)> {
        self.two_choices.pick(&self.instances())
    }

    /// Waits until the cache holds at least `count` instances, or `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if self.instances().len() >= count {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.instances().len() >= count
    }
}

impl Drop for Discovery {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}
