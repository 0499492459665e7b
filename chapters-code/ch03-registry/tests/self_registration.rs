//! Self-registration and discovery against a real registry: staying
//! registered, coming back after a registry restart, leaving on shutdown,
//! and a discovery cache that survives the registry going away.

mod common;

use std::sync::Arc;
use std::time::Duration;

use ch03_registry::discovery::Registry;
use ch03_registry::discovery::cache::Discovery;
use ch03_registry::registration::SelfRegistration;
use common::{our_registry, our_registry_on, registration, unique_service};

const TTL: Duration = Duration::from_secs(1);

#[tokio::test]
async fn a_heartbeating_instance_stays_and_leaves_on_stop() {
    let registry = our_registry().await;
    let client = Arc::new(registry.client.clone());
    let service = unique_service();
    let running = SelfRegistration::start(client.clone(), registration(&service, "a", TTL));

    tokio::time::sleep(Duration::from_secs(3)).await; // three TTLs
    assert_eq!(client.instances(&service).await.unwrap().instances.len(), 1);

    running.stop().await;
    assert!(
        client
            .instances(&service)
            .await
            .unwrap()
            .instances
            .is_empty(),
        "gone at once"
    );
}

// ANCHOR: registry_restart
#[tokio::test]
async fn instances_register_again_after_the_registry_restarts() {
    let registry = our_registry().await;
    let addr = registry.server.addr();
    let client = Arc::new(registry.client.clone());
    let service = unique_service();
    let running = SelfRegistration::start(client.clone(), registration(&service, "a", TTL));
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The registry restarts on the same port, with an empty memory.
    registry.server.stop().await.unwrap();
    drop(registry.app);
    let restarted = our_registry_on(addr).await;
    assert!(restarted.app.store().is_empty());

    // Within one heartbeat (TTL/3) plus slack, the instance is back.
    tokio::time::sleep(TTL / 3 + Duration::from_millis(500)).await;
    assert_eq!(client.instances(&service).await.unwrap().instances.len(), 1);
    running.stop().await;
}
// ANCHOR_END: registry_restart

#[tokio::test]
async fn discovery_keeps_the_last_known_instances_when_the_registry_is_gone() {
    let registry = our_registry().await;
    let client = Arc::new(registry.client.clone());
    let service = unique_service();
    client
        .register(&registration(&service, "a", Duration::from_secs(30)))
        .await
        .unwrap();

    let discovery = Discovery::start(client.clone(), &service);
    assert!(discovery.wait_for(1, Duration::from_secs(5)).await);

    // A second instance shows up through the watch, without polling.
    client
        .register(&registration(&service, "b", Duration::from_secs(30)))
        .await
        .unwrap();
    assert!(discovery.wait_for(2, Duration::from_secs(5)).await);

    registry.server.stop().await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(discovery.instances().len(), 2, "stale beats empty");
    assert!(discovery.round_robin().is_some());
}
