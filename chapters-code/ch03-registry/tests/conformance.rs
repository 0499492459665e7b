//! One behaviour, two backends: every case runs against our registry and
//! against etcd. etcd comes from ETCD_ENDPOINTS or 127.0.0.1:2379 (or a
//! container); a test fails, never skips, when none answers.

mod common;

use std::time::Duration;

use ch03_registry::discovery::{Registry, RegistryError};
use common::{registration, unique_service};

/// Long enough for both: etcd's minimum lease TTL is about 2 s.
const TTL: Duration = Duration::from_secs(2);

// ANCHOR: suite
pub async fn register_then_list<R: Registry>(registry: &R) {
    let service = unique_service();
    registry
        .register(&registration(&service, "a", TTL))
        .await
        .unwrap();
    let snapshot = registry.instances(&service).await.unwrap();
    assert_eq!(snapshot.instances.len(), 1);
    assert_eq!(snapshot.instances[0].instance_id, "a");
    assert_eq!(snapshot.instances[0].metadata["version"], "1");
}

pub async fn two_instances_are_both_listed<R: Registry>(registry: &R) {
    let service = unique_service();
    registry
        .register(&registration(&service, "a", TTL))
        .await
        .unwrap();
    registry
        .register(&registration(&service, "b", TTL))
        .await
        .unwrap();
    let ids: Vec<_> = registry
        .instances(&service)
        .await
        .unwrap()
        .instances
        .into_iter()
        .map(|i| i.instance_id)
        .collect();
    assert_eq!(ids, ["a", "b"]);
}

pub async fn heartbeats_keep_an_instance_alive<R: Registry>(registry: &R) {
    let service = unique_service();
    let lease = registry
        .register(&registration(&service, "a", TTL))
        .await
        .unwrap();
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        registry.heartbeat(&lease).await.unwrap();
    }
    // 4 s later, twice the TTL, it is still there.
    assert_eq!(
        registry.instances(&service).await.unwrap().instances.len(),
        1
    );
}

pub async fn an_instance_without_heartbeats_expires<R: Registry>(registry: &R) {
    let service = unique_service();
    let lease = registry
        .register(&registration(&service, "a", TTL))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + lease.ttl + Duration::from_secs(2);
    while !registry
        .instances(&service)
        .await
        .unwrap()
        .instances
        .is_empty()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still listed after ttl + 2 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(matches!(
        registry.heartbeat(&lease).await,
        Err(RegistryError::UnknownLease)
    ));
}

pub async fn deregister_removes_at_once<R: Registry>(registry: &R) {
    let service = unique_service();
    let lease = registry
        .register(&registration(&service, "a", TTL))
        .await
        .unwrap();
    registry.deregister(&lease).await.unwrap();
    assert!(
        registry
            .instances(&service)
            .await
            .unwrap()
            .instances
            .is_empty()
    );
}

pub async fn a_watch_sees_an_instance_come_and_go<R: Registry>(registry: &R) {
    let service = unique_service();
    let before = registry.instances(&service).await.unwrap();
    let (added, lease) = tokio::join!(
        registry.watch(&service, before.index, Duration::from_secs(10)),
        async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            registry
                .register(&registration(&service, "a", TTL))
                .await
                .unwrap()
        }
    );
    let added = added.unwrap();
    assert_eq!(
        added.instances.len(),
        1,
        "the watch returned with the new instance"
    );

    let (removed, ()) = tokio::join!(
        registry.watch(&service, added.index, Duration::from_secs(10)),
        async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            registry.deregister(&lease).await.unwrap();
        }
    );
    assert!(
        removed.unwrap().instances.is_empty(),
        "the watch returned when it left"
    );
}

pub async fn a_watch_without_changes_returns_after_the_wait<R: Registry>(registry: &R) {
    let service = unique_service();
    registry
        .register(&registration(&service, "a", TTL))
        .await
        .unwrap();
    let now = registry.instances(&service).await.unwrap();
    let started = std::time::Instant::now();
    let same = registry
        .watch(&service, now.index, Duration::from_secs(1))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(900), "it waited");
    assert_eq!(same.instances, now.instances);
}
// ANCHOR_END: suite

/// Runs every case of the suite against one backend.
macro_rules! conformance {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;

            #[tokio::test]
            async fn register_then_list() {
                let backend = $make;
                super::register_then_list(backend.registry()).await;
            }
            #[tokio::test]
            async fn two_instances_are_both_listed() {
                let backend = $make;
                super::two_instances_are_both_listed(backend.registry()).await;
            }
            #[tokio::test]
            async fn heartbeats_keep_an_instance_alive() {
                let backend = $make;
                super::heartbeats_keep_an_instance_alive(backend.registry()).await;
            }
            #[tokio::test]
            async fn an_instance_without_heartbeats_expires() {
                let backend = $make;
                super::an_instance_without_heartbeats_expires(backend.registry()).await;
            }
            #[tokio::test]
            async fn deregister_removes_at_once() {
                let backend = $make;
                super::deregister_removes_at_once(backend.registry()).await;
            }
            #[tokio::test]
            async fn a_watch_sees_an_instance_come_and_go() {
                let backend = $make;
                super::a_watch_sees_an_instance_come_and_go(backend.registry()).await;
            }
            #[tokio::test]
            async fn a_watch_without_changes_returns_after_the_wait() {
                let backend = $make;
                super::a_watch_without_changes_returns_after_the_wait(backend.registry()).await;
            }
        }
    };
}

// ANCHOR: backends
/// What each backend hands the suite.
trait Backend {
    type R: Registry;
    fn registry(&self) -> &Self::R;
}

impl Backend for common::OurRegistry {
    type R = ch03_registry::discovery::http::HttpRegistry;
    fn registry(&self) -> &Self::R {
        &self.client
    }
}

impl Backend for ch03_registry::discovery::etcd::EtcdRegistry {
    type R = Self;
    fn registry(&self) -> &Self::R {
        self
    }
}

conformance!(our_registry, common::our_registry().await);
conformance!(etcd, common::etcd_registry().await);
// ANCHOR_END: backends
