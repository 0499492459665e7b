//! The discovery cache's update step. When the registry cannot be
//! reached, the cache empties itself, and every caller finds nothing to
//! call, although the instances themselves are fine.

use ch03_registry::discovery::{Instance, RegistryError, Snapshot};

/// Applies the registry's latest answer to the cache.
pub fn update(cache: &mut Vec<Instance>, answer: Result<Snapshot, RegistryError>) {
    match answer {
        Ok(snapshot) => *cache = snapshot.instances,
        // TODO: is "nothing" really the best thing to know?
        Err(_) => cache.clear(),
    }
}
