//! Self-registration: a service process registers itself with its real
//! address, heartbeats at a third of its TTL, registers again when the
//! registry forgot it (it restarted, or a heartbeat came too late), and
//! deregisters on graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::discovery::{Lease, Registration, Registry, RegistryError};

/// A running registration. Call [`SelfRegistration::stop`] on shutdown.
#[derive(Debug)]
pub struct SelfRegistration {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl SelfRegistration {
    /// Starts registering in the background; it keeps trying until the
    /// registry answers.
    pub fn start<R: Registry>(registry: Arc<R>, registration: Registration) -> Self {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(keep_registered(registry, registration, stopped));
        Self { stop, task }
    }

    /// Deregisters (if registered) and waits for that to finish.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

// ANCHOR: heartbeat_loop
async fn keep_registered<R: Registry>(
    registry: Arc<R>,
    registration: Registration,
    mut stopped: oneshot::Receiver<()>,
) {
    let every = (registration.ttl / 3).max(Duration::from_millis(100));
    let mut lease: Option<Lease> = None;
    loop {
        lease = match lease {
            None => match registry.register(&registration).await {
                Ok(lease) => {
                    tracing::info!(service = %registration.service, instance_id = %registration.instance_id, "registered");
                    Some(lease)
                }
                Err(err) => {
                    tracing::warn!(%err, "cannot register yet; retrying");
                    None
                }
            },
            Some(lease) => match registry.heartbeat(&lease).await {
                Ok(()) => Some(lease),
                // The registry forgot us: register again at once.
                Err(RegistryError::UnknownLease) => {
                    tracing::warn!("the registry forgot our lease; registering again");
                    registry.register(&registration).await.ok()
                }
                // Unreachable: keep the lease and try again next beat.
                Err(err) => {
                    tracing::warn!(%err, "heartbeat failed");
                    Some(lease)
                }
            },
        };
        tokio::select! {
            _ = &mut stopped => break,
            () = tokio::time::sleep(every) => {}
        }
    }
    // ANCHOR_END: heartbeat_loop
    if let Some(lease) = lease {
        match registry.deregister(&lease).await {
            Ok(()) => tracing::info!(service = %registration.service, "deregistered"),
            Err(err) => tracing::warn!(%err, "cannot deregister; the lease will expire"),
        }
    }
}
