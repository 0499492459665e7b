//! The client side of discovery: one [`Registry`] trait, two backends
//! (our registry over HTTP, and etcd), a cache kept fresh by watching,
//! and load balancing over what the cache holds.

pub mod any;
pub mod balance;
pub mod cache;
pub mod etcd;
pub mod http;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

// ANCHOR: types
/// What a service instance tells the registry about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub service: String,
    pub instance_id: String,
    /// `http://host:port`
    pub address: String,
    pub metadata: BTreeMap<String, String>,
    pub ttl: Duration,
}

/// One instance, as a client of the registry sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub instance_id: String,
    pub address: String,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// A lease: the registration lives as long as it is renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub id: String,
    pub ttl: Duration,
}

/// A service's instances at one point in the registry's history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Pass it back to [`Registry::watch`] to wait for the next change.
    pub index: u64,
    pub instances: Vec<Instance>,
}
// ANCHOR_END: types

// ANCHOR: registry_error
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The lease expired or was revoked: register again.
    #[error("the registry does not know this lease")]
    UnknownLease,
    /// 401 or 403.
    #[error("the registry refused our credentials: {0}")]
    Unauthorized(String),
    /// The registry understood the request and said no (e.g. a bad TTL).
    #[error("the registry rejected the request: {0}")]
    Rejected(String),
    /// Down, refusing, or too slow.
    #[error("the registry is unreachable: {0}")]
    Unreachable(String),
}
// ANCHOR_END: registry_error

// ANCHOR: registry_trait
/// A service registry, as services and their clients use it. Our own
/// registry and etcd both implement it, and one conformance suite
/// (`tests/conformance.rs`) holds them to the same behaviour.
pub trait Registry: Send + Sync + 'static {
    /// Adds the instance (replacing one with the same id) under a new lease.
    fn register(
        &self,
        registration: &Registration,
    ) -> impl Future<Output = Result<Lease, RegistryError>> + Send;

    /// Renews the lease for another TTL.
    fn heartbeat(&self, lease: &Lease) -> impl Future<Output = Result<(), RegistryError>> + Send;

    /// Removes the instance now, without waiting for its lease to run out.
    fn deregister(&self, lease: &Lease) -> impl Future<Output = Result<(), RegistryError>> + Send;

    /// The service's live instances.
    fn instances(
        &self,
        service: &str,
    ) -> impl Future<Output = Result<Snapshot, RegistryError>> + Send;

    /// Waits until the service changes after `index`, or `wait` passes,
    /// then returns its instances: a blocking query.
    fn watch(
        &self,
        service: &str,
        index: u64,
        wait: Duration,
    ) -> impl Future<Output = Result<Snapshot, RegistryError>> + Send;
}
// ANCHOR_END: registry_trait
