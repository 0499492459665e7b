//! Drills with real processes: a registry, two catalogs and orders, each
//! its own OS process. Kill one catalog, stop one, restart the registry.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::{ServiceProcess, TempDb};

const REGISTRY: &str = env!("CARGO_BIN_EXE_registry");
const CATALOG: &str = env!("CARGO_BIN_EXE_ch03-catalog");
const ORDERS: &str = env!("CARGO_BIN_EXE_ch03-orders");
const TOKEN: &str = "drill-token";
const TTL_SECS: u64 = 2;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn registry_on(port: u16) -> ServiceProcess {
    ServiceProcess::builder(REGISTRY)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("REGISTRY_TOKEN", TOKEN)
        .spawn()
        .await
        .unwrap()
}

async fn service(binary: &str, registry: &str, db: &TempDb) -> ServiceProcess {
    ServiceProcess::builder(binary)
        .args(["--listen", "127.0.0.1:0", "--database-url", &db.url()])
        .env("REGISTRY_URL", registry)
        .env("REGISTRY_TOKEN", TOKEN)
        .env("REGISTRATION_TTL_SECS", TTL_SECS.to_string())
        .env("ORDERS_CATALOG_TIMEOUT_MS", "1000")
        .spawn()
        .await
        .unwrap()
}

async fn catalog_addresses(registry: &str) -> Vec<String> {
    let listing: Value = reqwest::get(format!("{registry}/v1/services/catalog"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    listing["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["address"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls until the registry lists `count` catalogs; returns how long it took.
async fn until_catalogs(registry: &str, count: usize, limit: Duration) -> Duration {
    let started = Instant::now();
    while catalog_addresses(registry).await.len() != count {
        assert!(
            started.elapsed() < limit,
            "not {count} catalogs after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

async fn place_order(orders: &ServiceProcess) -> u16 {
    reqwest::Client::new()
        .post(orders.url("/v1/orders"))
        .json(&json!({"customer": "drill", "lines": [{"book_id": 1, "quantity": 1}]}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

// ANCHOR: kill_drill
#[tokio::test]
async fn a_killed_catalog_leaves_and_orders_carry_on_with_the_other() {
    let registry = registry_on(free_port()).await;
    let dbs = [TempDb::new(), TempDb::new(), TempDb::new()];
    let mut doomed = service(CATALOG, registry.base_url(), &dbs[0]).await;
    let _survivor = service(CATALOG, registry.base_url(), &dbs[1]).await;
    let orders = service(ORDERS, registry.base_url(), &dbs[2]).await;
    until_catalogs(registry.base_url(), 2, Duration::from_secs(5)).await;
    assert_eq!(place_order(&orders).await, 201);

    doomed.kill().await.unwrap(); // kill -9: no deregistration
    let gone_after =
        until_catalogs(registry.base_url(), 1, Duration::from_secs(TTL_SECS + 2)).await;
    assert!(
        gone_after <= Duration::from_secs(TTL_SECS + 1),
        "left after {gone_after:?}"
    );

    // Orders' cache follows the registry's watch; every order succeeds.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..20 {
        assert_eq!(
            place_order(&orders).await,
            201,
            "no failed request after expiry"
        );
    }
}
// ANCHOR_END: kill_drill

#[tokio::test]
async fn a_gracefully_stopped_catalog_leaves_at_once() {
    let registry = registry_on(free_port()).await;
    let dbs = [TempDb::new(), TempDb::new()];
    let mut leaving = service(CATALOG, registry.base_url(), &dbs[0]).await;
    let _staying = service(CATALOG, registry.base_url(), &dbs[1]).await;
    until_catalogs(registry.base_url(), 2, Duration::from_secs(5)).await;

    let status = leaving.terminate(Duration::from_secs(10)).await.unwrap();
    assert!(status.success());
    let addresses = catalog_addresses(registry.base_url()).await;
    assert_eq!(addresses.len(), 1, "deregistered before it exited");
}

// ANCHOR: restart_drill
#[tokio::test]
async fn instances_come_back_by_themselves_after_a_registry_restart() {
    let port = free_port();
    let mut registry = registry_on(port).await;
    let dbs = [TempDb::new(), TempDb::new(), TempDb::new()];
    let _a = service(CATALOG, registry.base_url(), &dbs[0]).await;
    let _b = service(CATALOG, registry.base_url(), &dbs[1]).await;
    let orders = service(ORDERS, registry.base_url(), &dbs[2]).await;
    until_catalogs(registry.base_url(), 2, Duration::from_secs(5)).await;
    assert_eq!(place_order(&orders).await, 201);

    registry.kill().await.unwrap();
    let restarted = registry_on(port).await; // same port, empty memory
    // Orders keeps its last known catalogs while they re-register.
    assert_eq!(place_order(&orders).await, 201);
    let back_after = until_catalogs(restarted.base_url(), 2, Duration::from_secs(5)).await;
    // One heartbeat is TTL/3; allow one more for the restart itself.
    assert!(
        back_after <= Duration::from_secs(TTL_SECS),
        "back after {back_after:?}"
    );
}
// ANCHOR_END: restart_drill
