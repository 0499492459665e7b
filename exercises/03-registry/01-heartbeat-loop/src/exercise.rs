//! Keeping an instance registered. The loop below registers once and then
//! "heartbeats", yet the instance vanishes from the registry after its TTL.

use std::sync::Arc;

use ch03_registry::discovery::{Registration, Registry};

/// Registers `registration` and keeps it alive until the task is aborted.
pub async fn keep_registered<R: Registry>(registry: Arc<R>, registration: Registration) {
    let mut lease = registry.register(&registration).await.ok();
    loop {
        // Heartbeats cost the registry work: no need to hurry.
        tokio::time::sleep(registration.ttl * 2).await;
        let Some(current) = &lease else { continue };
        if registry.heartbeat(current).await.is_err() {
            // The registry forgot us. Nothing to do?
            lease = None;
        }
    }
}
