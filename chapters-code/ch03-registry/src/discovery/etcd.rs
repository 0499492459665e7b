//! The same [`Registry`] on etcd: a lease per instance, one key per
//! instance under the service's prefix, and a prefix watch for changes.
//!
//! etcd is a consistent (CP) key-value store replicated with Raft: a write
//! is acknowledged once a majority of its nodes have it. What our registry
//! does by hand (TTLs, expiry, indexes, blocking queries), etcd offers as
//! leases, revisions and watches.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use etcd_client::{
    Client, EventType, GetOptions, LeaseKeepAliveStream, LeaseKeeper, PutOptions, WatchOptions,
};
use tokio::sync::Mutex;

use super::{Instance, Lease, Registration, Registry, RegistryError, Snapshot};

/// Keys live under `/bookshop/services/<service>/<instance id>`, unless
/// [`EtcdRegistry::connect_under`] names another root.
pub const ROOT: &str = "/bookshop/services";

/// How long a heartbeat waits for etcd's answer before it gives up on the
/// stream (the member behind it may be gone) and opens another next time.
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct EtcdRegistry {
    client: Client,
    root: String,
    keep_alives: Arc<Mutex<HashMap<i64, Arc<Mutex<KeepAlive>>>>>,
}

/// One lease's keep-alive stream, open for as long as the lease lives: a
/// heartbeat is one message on it, not a new stream (and a new HTTP/2
/// stream setup) each time.
struct KeepAlive {
    keeper: LeaseKeeper,
    answers: LeaseKeepAliveStream,
}

impl std::fmt::Debug for EtcdRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdRegistry").finish_non_exhaustive()
    }
}

fn unreachable(err: etcd_client::Error) -> RegistryError {
    RegistryError::Unreachable(err.to_string())
}

/// etcd answers "requested lease not found" for expired or revoked leases.
fn lease_error(err: etcd_client::Error) -> RegistryError {
    if err.to_string().contains("lease not found") {
        RegistryError::UnknownLease
    } else {
        unreachable(err)
    }
}

fn lease_id(lease: &Lease) -> Result<i64, RegistryError> {
    lease.id.parse().map_err(|_| RegistryError::UnknownLease)
}

impl EtcdRegistry {
    pub async fn connect(endpoints: &[String]) -> Result<Self, RegistryError> {
        Self::connect_under(endpoints, ROOT).await
    }

    /// Keys under `root` instead of [`ROOT`]: several systems (or tests)
    /// sharing one etcd cluster without seeing each other's instances.
    pub async fn connect_under(endpoints: &[String], root: &str) -> Result<Self, RegistryError> {
        let options = etcd_client::ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(2))
            .with_timeout(Duration::from_secs(5));
        let client = Client::connect(endpoints, Some(options))
            .await
            .map_err(unreachable)?;
        Ok(Self {
            client,
            root: root.trim_end_matches('/').to_owned(),
            keep_alives: Arc::default(),
        })
    }

    /// The open keep-alive stream of lease `id`, opened on first use.
    async fn keep_alive(&self, id: i64) -> Result<Arc<Mutex<KeepAlive>>, RegistryError> {
        if let Some(open) = self.keep_alives.lock().await.get(&id) {
            return Ok(Arc::clone(open));
        }
        let mut client = self.client.clone();
        let (keeper, answers) = client.lease_keep_alive(id).await.map_err(lease_error)?;
        let opened = Arc::new(Mutex::new(KeepAlive { keeper, answers }));
        self.keep_alives
            .lock()
            .await
            .insert(id, Arc::clone(&opened));
        Ok(opened)
    }

    fn prefix(&self, service: &str) -> String {
        format!("{}/{service}/", self.root)
    }
}

impl Registry for EtcdRegistry {
    // ANCHOR: etcd_register
    async fn register(&self, registration: &Registration) -> Result<Lease, RegistryError> {
        let mut client = self.client.clone();
        let ttl = i64::try_from(registration.ttl.as_secs()).unwrap_or(i64::MAX);
        if ttl < 1 {
            return Err(RegistryError::Rejected(
                "the TTL must be at least 1 s".to_owned(),
            ));
        }
        let granted = client.lease_grant(ttl, None).await.map_err(unreachable)?;
        let instance = Instance {
            instance_id: registration.instance_id.clone(),
            address: registration.address.clone(),
            metadata: registration.metadata.clone(),
        };
        let value = serde_json::to_vec(&instance)
            .map_err(|err| RegistryError::Rejected(err.to_string()))?;
        let key = format!(
            "{}{}",
            self.prefix(&registration.service),
            registration.instance_id
        );
        client
            .put(key, value, Some(PutOptions::new().with_lease(granted.id())))
            .await
            .map_err(unreachable)?;
        Ok(Lease {
            id: granted.id().to_string(),
            // etcd may grant more than asked (it has a minimum TTL).
            ttl: Duration::from_secs(u64::try_from(granted.ttl()).unwrap_or(0)),
        })
    }
    // ANCHOR_END: etcd_register

    // ANCHOR: etcd_heartbeat
    async fn heartbeat(&self, lease: &Lease) -> Result<(), RegistryError> {
        let id = lease_id(lease)?;
        let stream = self.keep_alive(id).await?;
        let mut stream = stream.lock().await;
        let beat = async {
            stream.keeper.keep_alive().await.map_err(lease_error)?;
            match stream.answers.message().await.map_err(lease_error)? {
                // A TTL of 0 is etcd's way of saying "no such lease".
                Some(answer) if answer.ttl() > 0 => Ok(()),
                _ => Err(RegistryError::UnknownLease),
            }
        };
        let outcome = tokio::time::timeout(KEEP_ALIVE_TIMEOUT, beat)
            .await
            .unwrap_or_else(|_| {
                Err(RegistryError::Unreachable(format!(
                    "no keep-alive answer within {KEEP_ALIVE_TIMEOUT:?}"
                )))
            });
        if outcome.is_err() {
            // A broken stream stays broken: the next heartbeat opens another,
            // perhaps to another member of the cluster.
            self.keep_alives.lock().await.remove(&id);
        }
        outcome
    }
    // ANCHOR_END: etcd_heartbeat

    async fn deregister(&self, lease: &Lease) -> Result<(), RegistryError> {
        let id = lease_id(lease)?;
        self.keep_alives.lock().await.remove(&id);
        let mut client = self.client.clone();
        client.lease_revoke(id).await.map(drop).map_err(lease_error)
    }

    async fn instances(&self, service: &str) -> Result<Snapshot, RegistryError> {
        let mut client = self.client.clone();
        let found = client
            .get(self.prefix(service), Some(GetOptions::new().with_prefix()))
            .await
            .map_err(unreachable)?;
        let index = found
            .header()
            .map_or(0, |header| u64::try_from(header.revision()).unwrap_or(0));
        let mut instances: Vec<Instance> = found
            .kvs()
            .iter()
            .filter_map(|kv| serde_json::from_slice(kv.value()).ok())
            .collect();
        instances.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
        Ok(Snapshot { index, instances })
    }

    // ANCHOR: etcd_watch
    async fn watch(
        &self,
        service: &str,
        index: u64,
        wait: Duration,
    ) -> Result<Snapshot, RegistryError> {
        let mut client = self.client.clone();
        let start = i64::try_from(index).unwrap_or(i64::MAX - 1) + 1;
        let options = WatchOptions::new().with_prefix().with_start_revision(start);
        let mut events = client
            .watch(self.prefix(service), Some(options))
            .await
            .map_err(unreachable)?;
        // Any put or delete under the prefix since `index` ends the wait.
        let _ = tokio::time::timeout(wait, async {
            while let Ok(Some(answer)) = events.message().await {
                let changed = answer
                    .events()
                    .iter()
                    .any(|e| matches!(e.event_type(), EventType::Put | EventType::Delete));
                if changed || answer.canceled() {
                    break;
                }
            }
        })
        .await;
        self.instances(service).await
    }
    // ANCHOR_END: etcd_watch
}
