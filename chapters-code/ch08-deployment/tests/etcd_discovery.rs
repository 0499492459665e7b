//! Discovery through etcd: every service, told `DISCOVERY=etcd`,
//! registers in etcd and finds the others there; our registry, still
//! running, hears from nobody.

mod common;

use ch03_registry::discovery::Registry;
use ch03_registry::discovery::etcd::EtcdRegistry;

const SERVICES: [&str; 7] = [
    "identity",
    "catalog",
    "inventory",
    "payments",
    "orders",
    "notifications",
    "gateway",
];

// ANCHOR: etcd
#[tokio::test]
async fn every_service_registers_and_discovers_through_etcd() {
    let endpoints = testkit::etcd::etcd_endpoints().await.unwrap();
    // A key prefix of this test's own: other tests share the cluster.
    let prefix = format!("/{}", testkit::unique_name("bookshop-test"));
    let shop = common::shop(&[
        ("DISCOVERY", "etcd"),
        ("ETCD_ENDPOINTS", &endpoints.join(",")),
        ("ETCD_PREFIX", &prefix),
    ])
    .await;

    // The gateway found the catalog, identity, orders, notifications, and
    // orders found inventory and payments: a whole order goes through.
    let token = shop.demo_token().await;
    let (_, order) = shop.order_book(&token, 3).await;
    assert_eq!(order["status"], "confirmed", "{order}");
    let kinds = shop.notifications(&token, &order["id"], 2).await;
    assert_eq!(kinds, ["order.confirmed", "order.placed"]);

    // ANCHOR_END: etcd
    // ANCHOR: etcd_check
    // Every instance is in etcd, under the prefix; none in our registry.
    let etcd = EtcdRegistry::connect_under(&endpoints, &prefix)
        .await
        .unwrap();
    for service in SERVICES {
        let found = etcd.instances(service).await.unwrap().instances;
        assert_eq!(found.len(), 1, "{service} in etcd: {found:?}");
    }
    let ours: serde_json::Value = reqwest::get(shop.registry.url("/v1/services"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        ours,
        serde_json::json!({"services": {}}),
        "our registry heard from nobody"
    );
    shop.clean_up().await;
}
// ANCHOR_END: etcd_check
