//! The registry's state: in memory, behind one lock. Every change bumps an
//! index, and watchers are told through a `tokio::sync::watch` channel.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::model::{Instance, Lease, Registration};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("no lease {0}: it expired, was deregistered, or never existed")]
    UnknownLease(String),
}

#[derive(Debug)]
struct Entry {
    instance: Instance,
    lease_id: String,
    ttl: Duration,
    expires_at: Instant,
}

#[derive(Debug, Default)]
struct ServiceEntry {
    /// The index of the last change to this service's instances.
    modify_index: u64,
    instances: HashMap<String, Entry>,
}

#[derive(Debug, Default)]
struct Inner {
    index: u64,
    services: HashMap<String, ServiceEntry>,
    /// lease id → (service, instance id)
    leases: HashMap<String, (String, String)>,
}

impl Inner {
    fn bump(&mut self, service: &str) -> u64 {
        self.index += 1;
        let index = self.index;
        self.services
            .entry(service.to_owned())
            .or_default()
            .modify_index = index;
        index
    }
}

/// One service's instances at one index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub index: u64,
    pub instances: Vec<Instance>,
}

#[derive(Debug)]
pub struct Store {
    inner: Mutex<Inner>,
    changed: watch::Sender<u64>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    pub fn new() -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            changed: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; carry on.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tells watchers that something changed (at `index`).
    fn notify(&self, index: u64) {
        self.changed.send_replace(index);
    }

    // ANCHOR: register
    /// Adds (or replaces) an instance and grants it a fresh lease.
    pub fn register(&self, registration: &Registration, now: Instant) -> Lease {
        let ttl = Duration::from_secs(registration.ttl_secs);
        let lease_id = uuid::Uuid::new_v4().simple().to_string();
        let mut inner = self.lock();
        let service = inner
            .services
            .entry(registration.service.clone())
            .or_default();
        let replaced = service.instances.insert(
            registration.instance_id.clone(),
            Entry {
                instance: registration.instance(),
                lease_id: lease_id.clone(),
                ttl,
                expires_at: now + ttl,
            },
        );
        if let Some(old) = replaced {
            inner.leases.remove(&old.lease_id);
        }
        inner.leases.insert(
            lease_id.clone(),
            (
                registration.service.clone(),
                registration.instance_id.clone(),
            ),
        );
        let index = inner.bump(&registration.service);
        drop(inner);
        self.notify(index);
        Lease {
            lease_id,
            ttl_secs: registration.ttl_secs,
        }
    }
    // ANCHOR_END: register

    // ANCHOR: heartbeat
    /// Renews a lease for another TTL. Heartbeats change nothing a watcher
    /// can see, so they do not bump the index.
    pub fn heartbeat(&self, lease_id: &str, now: Instant) -> Result<Lease, StoreError> {
        let mut inner = self.lock();
        let (service, instance_id) = inner
            .leases
            .get(lease_id)
            .cloned()
            .ok_or_else(|| StoreError::UnknownLease(lease_id.to_owned()))?;
        let entry = inner
            .services
            .get_mut(&service)
            .and_then(|s| s.instances.get_mut(&instance_id))
            // Too late is too late, even before the next sweep removes it.
            .filter(|entry| entry.expires_at > now)
            .ok_or_else(|| StoreError::UnknownLease(lease_id.to_owned()))?;
        entry.expires_at = now + entry.ttl;
        Ok(Lease {
            lease_id: lease_id.to_owned(),
            ttl_secs: entry.ttl.as_secs(),
        })
    }
    // ANCHOR_END: heartbeat

    pub fn deregister(&self, lease_id: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let (service, instance_id) = inner
            .leases
            .remove(lease_id)
            .ok_or_else(|| StoreError::UnknownLease(lease_id.to_owned()))?;
        if let Some(entry) = inner.services.get_mut(&service) {
            entry.instances.remove(&instance_id);
        }
        let index = inner.bump(&service);
        drop(inner);
        self.notify(index);
        Ok(())
    }

    /// The instances of `service`, sorted by id, and the index they are at.
    pub fn snapshot(&self, service: &str) -> Snapshot {
        let inner = self.lock();
        let Some(entry) = inner.services.get(service) else {
            return Snapshot {
                index: 0,
                instances: Vec::new(),
            };
        };
        let mut instances: Vec<Instance> = entry
            .instances
            .values()
            .map(|e| e.instance.clone())
            .collect();
        instances.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
        Snapshot {
            index: entry.modify_index,
            instances,
        }
    }

    /// Every service with at least one live instance, by name, and how
    /// many instances it has.
    pub fn services(&self) -> std::collections::BTreeMap<String, usize> {
        self.lock()
            .services
            .iter()
            .filter(|(_, entry)| !entry.instances.is_empty())
            .map(|(name, entry)| (name.clone(), entry.instances.len()))
            .collect()
    }

    // ANCHOR: expire
    /// Drops every instance whose lease ran out by `now`; returns how many.
    pub fn expire(&self, now: Instant) -> usize {
        let mut inner = self.lock();
        let mut expired = Vec::new();
        for (service, entry) in &inner.services {
            for (instance_id, instance) in &entry.instances {
                if instance.expires_at <= now {
                    expired.push((
                        service.clone(),
                        instance_id.clone(),
                        instance.lease_id.clone(),
                    ));
                }
            }
        }
        for (service, instance_id, lease_id) in &expired {
            if let Some(entry) = inner.services.get_mut(service) {
                entry.instances.remove(instance_id);
            }
            inner.leases.remove(lease_id);
            inner.bump(service);
        }
        let index = inner.index;
        drop(inner);
        if !expired.is_empty() {
            for (service, instance_id, _) in &expired {
                tracing::info!(%service, %instance_id, "lease expired: instance removed");
            }
            self.notify(index);
        }
        expired.len()
    }
    // ANCHOR_END: expire

    /// A receiver that wakes up on every change.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// How many instances the registry holds, over all services.
    pub fn len(&self) -> usize {
        self.lock()
            .services
            .values()
            .map(|s| s.instances.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn registration(id: &str, ttl_secs: u64) -> Registration {
        Registration {
            service: "catalog".to_owned(),
            instance_id: id.to_owned(),
            address: "http://127.0.0.1:8002".to_owned(),
            metadata: BTreeMap::new(),
            ttl_secs,
        }
    }

    // ANCHOR: expiry_test
    #[test]
    fn an_instance_expires_unless_it_heartbeats() {
        let store = Store::new();
        let start = Instant::now();
        let quiet = store.register(&registration("quiet", 10), start);
        let chatty = store.register(&registration("chatty", 10), start);

        // Nine seconds in, only one of them heartbeats.
        store
            .heartbeat(&chatty.lease_id, start + Duration::from_secs(9))
            .unwrap();
        assert_eq!(store.expire(start + Duration::from_secs(10)), 1);

        let left = store.snapshot("catalog").instances;
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].instance_id, "chatty");
        assert_eq!(
            store.heartbeat(&quiet.lease_id, start + Duration::from_secs(10)),
            Err(StoreError::UnknownLease(quiet.lease_id.clone())),
            "an expired lease cannot be renewed: register again"
        );
    }
    // ANCHOR_END: expiry_test

    #[test]
    fn every_visible_change_bumps_the_index() {
        let store = Store::new();
        let now = Instant::now();
        let lease = store.register(&registration("a", 10), now);
        let after_register = store.snapshot("catalog").index;
        store.heartbeat(&lease.lease_id, now).unwrap();
        assert_eq!(
            store.snapshot("catalog").index,
            after_register,
            "heartbeats are invisible"
        );
        store.deregister(&lease.lease_id).unwrap();
        assert!(store.snapshot("catalog").index > after_register);
        assert!(store.snapshot("catalog").instances.is_empty());
    }

    #[test]
    fn registering_again_replaces_the_old_lease() {
        let store = Store::new();
        let now = Instant::now();
        let old = store.register(&registration("a", 10), now);
        let new = store.register(&registration("a", 10), now);
        assert!(store.heartbeat(&old.lease_id, now).is_err());
        assert!(store.heartbeat(&new.lease_id, now).is_ok());
        assert_eq!(store.len(), 1);
    }
}
