//! DRILL: orders finds inventory and payments through the registry, as it
//! finds the catalog. Inventory dies (it stays listed, as a killed process
//! does until its lease runs out), comes back on another port and
//! registers there: the orders placed meanwhile wait as `pending`, and the
//! saga sweeper finishes them through the new instance. No URL flag, no
//! restart of orders.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ch01_autonomy::server;
use ch03_registry::discovery::http::HttpRegistry;
use ch03_registry::discovery::{Lease, Registration, Registry};
use ch06_messaging::orders;
use clap::Parser;
use serde_json::{Value, json};
use testkit::{TempDb, TestServer};

const TOKEN: &str = "discovery-drill-token";

async fn register(registry: &HttpRegistry, service: &str, id: &str, addr: SocketAddr) -> Lease {
    registry
        .register(&Registration {
            service: service.to_owned(),
            instance_id: id.to_owned(),
            address: format!("http://{addr}"),
            metadata: BTreeMap::new(),
            ttl: Duration::from_secs(60),
        })
        .await
        .unwrap()
}

async fn inventory_on(db: &TempDb) -> TestServer {
    let (_store, router) = ch05_soa::inventory::app(&db.url()).await.unwrap();
    TestServer::start(|l, s| server::serve(l, router, s)).await
}

async fn place(orders: &TestServer, book_id: i64) -> Value {
    reqwest::Client::new()
        .post(orders.url("/v1/orders"))
        .header("x-bookshop-user", "ada")
        .json(&json!({"customer": "ada", "lines": [{"book_id": book_id, "quantity": 1}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

// ANCHOR: inventory_moves
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_carry_on_when_inventory_comes_back_elsewhere() {
    let registry_app = ch03_registry::registry::App::new(TOKEN);
    let router = registry_app.router();
    let registry_server = TestServer::start(|l, s| server::serve(l, router, s)).await;
    let registry = Arc::new(HttpRegistry::new(registry_server.base_url(), TOKEN).unwrap());

    let catalog = common::spawn_catalog().await;
    let payments = common::spawn_payments(0.0).await;
    let inventory_db = TempDb::new();
    let inventory = inventory_on(&inventory_db).await;
    register(&registry, "catalog", "catalog-1", catalog.server.addr()).await;
    register(&registry, "payments", "payments-1", payments.server.addr()).await;
    let first = register(&registry, "inventory", "inventory-1", inventory.addr()).await;

    let orders_db = TempDb::new();
    let config = orders::RegisteredConfig::try_parse_from([
        "ch06-orders",
        "--database-url",
        &orders_db.url(),
        "--registry-url",
        registry_server.base_url(),
        "--registry-token",
        TOKEN,
        // No broker here: the events wait in the outbox, which is fine.
        "--amqp-addr",
        "amqp://guest:guest@127.0.0.1:1/%2f",
        "--stock-release",
        "call",
        "--saga-retry-ms",
        "200",
    ])
    .unwrap();
    let orders = TestServer::start(move |l, s| orders::serve_registered(l, config, s)).await;
    common::eventually(
        Duration::from_secs(10),
        "orders sees its providers",
        || async { place(&orders, 1).await["status"] == "confirmed" },
    )
    .await;

    // ANCHOR: ch03-inventory-moves
    // Inventory dies without a goodbye: still listed, not answering.
    inventory.stop().await.unwrap();
    let waiting = place(&orders, 2).await;
    assert_eq!(waiting["status"], "pending", "{waiting}");

    // It comes back on another port, on its own database, and registers;
    // the dead entry is gone (its lease would run out on its own).
    let inventory = inventory_on(&inventory_db).await;
    register(&registry, "inventory", "inventory-2", inventory.addr()).await;
    registry.deregister(&first).await.unwrap();
    common::eventually(
        Duration::from_secs(15),
        "the pending order finishes",
        || async {
            common::order_status(orders.base_url(), "ada", &waiting["id"]).await == "confirmed"
        },
    )
    .await;
    assert_eq!(common::stock(inventory.base_url(), 2).await, 9, "sold once");
    // ANCHOR_END: ch03-inventory-moves
    drop(registry_app);
}
// ANCHOR_END: inventory_moves
