//! The discovery cache's update step: stale beats empty.

use ch03_registry::discovery::{Instance, RegistryError, Snapshot};

/// Applies the registry's latest answer to the cache. A failed answer
/// says nothing about the instances, so the cache keeps what it knew.
pub fn update(cache: &mut Vec<Instance>, answer: Result<Snapshot, RegistryError>) {
    if let Ok(snapshot) = answer {
        *cache = snapshot.instances;
    }
}
