//! Keeping an instance registered: heartbeat well inside the TTL, and
//! register again whenever the registry has forgotten the lease.

use std::sync::Arc;

use ch03_registry::discovery::{Registration, Registry, RegistryError};

/// Registers `registration` and keeps it alive until the task is aborted.
pub async fn keep_registered<R: Registry>(registry: Arc<R>, registration: Registration) {
    let mut lease = registry.register(&registration).await.ok();
    loop {
        // A third of the TTL: one late or lost heartbeat is survivable.
        tokio::time::sleep(registration.ttl / 3).await;
        lease = match lease {
            None => registry.register(&registration).await.ok(),
            Some(current) => match registry.heartbeat(&current).await {
                Ok(()) => Some(current),
                Err(RegistryError::UnknownLease) => registry.register(&registration).await.ok(),
                Err(_) => Some(current),
            },
        };
    }
}
