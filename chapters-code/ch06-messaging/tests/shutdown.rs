//! Graceful shutdown, as a deployment does it: SIGTERM to orders and to
//! notifications (real processes) while a client is placing orders. Both
//! must drain and exit 0 within the drain time; started again on the same
//! databases, every order that was accepted ends with exactly its two
//! notifications: none lost in a relay batch cut in half, none doubled by
//! a delivery abandoned after its work was done.

mod common;

use std::time::Duration;

use ch01_autonomy::server;
use ch06_messaging::events::{ORDER_CANCELLED, ORDER_CONFIRMED, ORDER_PLACED};
use serde_json::{Value, json};
use testkit::{ServiceProcess, TempDb, TestServer};

const ORDERS: &str = env!("CARGO_BIN_EXE_ch06-orders");
const NOTIFICATIONS: &str = env!("CARGO_BIN_EXE_notifications");
/// What a service gets between SIGTERM and being killed: generous for
/// two busy cores, and well under a Kubernetes grace period (30 s).
const GRACE: Duration = Duration::from_secs(20);
const CUSTOMER: &str = "ada";

struct Providers {
    catalog: common::Running,
    inventory: TestServer,
    payments: common::Running,
    _inventory_db: TempDb,
}

async fn providers() -> Providers {
    let inventory_db = TempDb::new();
    // Chapter 5's inventory: this test is about orders and notifications,
    // so the saga gives stock back itself (`--stock-release call`).
    let (_store, router) = ch05_soa::inventory::app(&inventory_db.url()).await.unwrap();
    let inventory = TestServer::start(|l, s| server::serve(l, router, s)).await;
    Providers {
        catalog: common::spawn_catalog().await,
        inventory,
        payments: common::spawn_payments(0.0).await,
        _inventory_db: inventory_db,
    }
}

async fn start_orders(
    db: &TempDb,
    providers: &Providers,
    broker: &common::Broker,
) -> ServiceProcess {
    let topology = &broker.config.topology;
    ServiceProcess::builder(ORDERS)
        .args(["--listen", "127.0.0.1:0", "--database-url", &db.url()])
        .args(["--catalog-url", providers.catalog.server.base_url()])
        .args(["--inventory-url", providers.inventory.base_url()])
        .args(["--payments-url", providers.payments.server.base_url()])
        .args(["--amqp-addr", &broker.addr, "--stock-release", "call"])
        .args(["--events-exchange", &topology.events])
        .args(["--dead-letter-exchange", &topology.dead_letter])
        .spawn()
        .await
        .unwrap()
}

async fn start_notifications(db: &TempDb, broker: &common::Broker) -> ServiceProcess {
    ServiceProcess::builder(NOTIFICATIONS)
        .args(["--listen", "127.0.0.1:0", "--database-url", &db.url()])
        .args(broker.flags())
        .spawn()
        .await
        .unwrap()
}

/// Places orders one after another until orders stops answering; returns
/// the ids of those it accepted (201).
async fn place_until_gone(orders: String) -> Vec<i64> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut accepted = Vec::new();
    for i in 0..200_i64 {
        let line = json!({"book_id": 1 + i % 20, "quantity": 1});
        let sent = http
            .post(format!("{orders}/v1/orders"))
            .header("x-bookshop-user", CUSTOMER)
            .json(&json!({"customer": CUSTOMER, "lines": [line]}))
            .send()
            .await;
        match sent {
            Ok(response) if response.status() == 201 => {
                let order: Value = response.json().await.unwrap();
                accepted.push(order["id"].as_i64().unwrap());
            }
            // Refused while it drains, or gone: the client would retry
            // elsewhere with its Idempotency-Key.
            Ok(_) | Err(_) => break,
        }
    }
    accepted
}

// ANCHOR: sigterm
// ANCHOR: sigterm_stop
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_orders_and_notifications_and_loses_nothing() {
    let keys = [ORDER_PLACED, ORDER_CONFIRMED, ORDER_CANCELLED];
    let broker = common::broker("ch06.shutdown", &keys).await;
    let providers = providers().await;
    let (orders_db, notifications_db) = (TempDb::new(), TempDb::new());
    let mut orders = start_orders(&orders_db, &providers, &broker).await;
    let mut notifications = start_notifications(&notifications_db, &broker).await;

    let placing = tokio::spawn(place_until_gone(orders.base_url().to_owned()));
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (orders_exit, notifications_exit) =
        tokio::join!(orders.terminate(GRACE), notifications.terminate(GRACE));
    let accepted = placing.await.unwrap();
    for (service, exit, process) in [
        ("orders", orders_exit, &orders),
        ("notifications", notifications_exit, &notifications),
    ] {
        let status = exit.unwrap_or_else(|err| panic!("{service}: {err}"));
        assert!(
            status.success(),
            "{service} exited with {status}: {:?}",
            process.logs()
        );
    }
    assert!(
        !accepted.is_empty(),
        "orders were flowing when SIGTERM came"
    );
    // ANCHOR_END: sigterm_stop

    // ANCHOR: sigterm_restart
    // Back on the same databases: the relay sends what is left in the
    // outbox, notifications takes what is left in its queue.
    let orders = start_orders(&orders_db, &providers, &broker).await;
    let notifications = start_notifications(&notifications_db, &broker).await;
    for &order_id in &accepted {
        let url = notifications.base_url();
        common::eventually(Duration::from_secs(20), "two notifications", || async {
            common::notification_kinds(url, CUSTOMER, order_id)
                .await
                .len()
                >= 2
        })
        .await;
        let kinds = common::notification_kinds(url, CUSTOMER, order_id).await;
        assert_eq!(kinds.len(), 2, "order {order_id}: exactly two, {kinds:?}");
        assert!(kinds.contains(&ORDER_PLACED.to_owned()), "{kinds:?}");
    }
    // ANCHOR_END: sigterm_restart
    drop((orders, notifications));
    broker.delete().await;
}
// ANCHOR_END: sigterm
