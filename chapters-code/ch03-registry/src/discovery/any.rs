//! Either registry behind one type, chosen when a service starts: ours
//! over HTTP (chapter 3) or etcd (what chapter 8 runs in production).
//! Every service holds an `Arc<AnyRegistry>`, so the choice is a flag.

use std::time::Duration;

use super::etcd::EtcdRegistry;
use super::http::HttpRegistry;
use super::{Lease, Registration, Registry, RegistryError, Snapshot};

/// Which registry a service registers with and discovers through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Backend {
    /// Our registry, over HTTP (`--registry-url`).
    #[default]
    Http,
    /// An etcd cluster (`--etcd-endpoints`).
    Etcd,
}

/// Our registry or etcd; each call goes to the one chosen.
#[derive(Debug, Clone)]
pub enum AnyRegistry {
    Http(HttpRegistry),
    /// Boxed: etcd's client is large, and the enum is as large as its
    /// largest variant.
    Etcd(Box<EtcdRegistry>),
}

impl Registry for AnyRegistry {
    async fn register(&self, registration: &Registration) -> Result<Lease, RegistryError> {
        match self {
            Self::Http(registry) => registry.register(registration).await,
            Self::Etcd(registry) => registry.register(registration).await,
        }
    }

    async fn heartbeat(&self, lease: &Lease) -> Result<(), RegistryError> {
        match self {
            Self::Http(registry) => registry.heartbeat(lease).await,
            Self::Etcd(registry) => registry.heartbeat(lease).await,
        }
    }

    async fn deregister(&self, lease: &Lease) -> Result<(), RegistryError> {
        match self {
            Self::Http(registry) => registry.deregister(lease).await,
            Self::Etcd(registry) => registry.deregister(lease).await,
        }
    }

    async fn instances(&self, service: &str) -> Result<Snapshot, RegistryError> {
        match self {
            Self::Http(registry) => registry.instances(service).await,
            Self::Etcd(registry) => registry.instances(service).await,
        }
    }

    async fn watch(
        &self,
        service: &str,
        index: u64,
        wait: Duration,
    ) -> Result<Snapshot, RegistryError> {
        match self {
            Self::Http(registry) => registry.watch(service, index, wait).await,
            Self::Etcd(registry) => registry.watch(service, index, wait).await,
        }
    }
}
