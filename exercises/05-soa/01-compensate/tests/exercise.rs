//! Real inventory and payments services on 127.0.0.1:0, and orders' own
//! clients: compensate a checkout and check what each provider holds.

use std::sync::Arc;
use std::time::Duration;

use ch01_autonomy::server;
use ch05_soa::orders::clients::{CallError, InventoryClient, PaymentsClient, ReserveLine};
use ch05_soa::{inventory, payments};
use ex05_compensate::compensate;
use serde_json::Value;
use testkit::{TempDb, TestServer};

struct Providers {
    inventory: TestServer,
    payments: TestServer,
    _dbs: (TempDb, TempDb),
}

async fn providers() -> Providers {
    let (inventory_db, payments_db) = (TempDb::new(), TempDb::new());
    let (_, inventory_routes) = inventory::app(&inventory_db.url()).await.unwrap();
    let simulation = payments::Simulation {
        failure_rate: 0.0,
        latency: Duration::ZERO,
    };
    let (_, payments_routes) = payments::app(&payments_db.url(), simulation).await.unwrap();
    Providers {
        inventory: TestServer::start(|l, s| server::serve(l, inventory_routes, s)).await,
        payments: TestServer::start(|l, s| server::serve(l, payments_routes, s)).await,
        _dbs: (inventory_db, payments_db),
    }
}

fn clients(inventory: &str, payments: &str) -> (InventoryClient, PaymentsClient) {
    let timeout = Duration::from_secs(2);
    (
        InventoryClient::new(Arc::new(inventory.to_owned()), timeout).unwrap(),
        PaymentsClient::new(Arc::new(payments.to_owned()), timeout).unwrap(),
    )
}

async fn get(url: String) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn compensation_gives_back_the_money_and_the_stock() {
    let shop = providers().await;
    let (inventory, payments) = clients(shop.inventory.base_url(), shop.payments.base_url());
    let line = [ReserveLine {
        book_id: 1,
        quantity: 3,
    }];
    inventory.reserve("o-1", &line).await.unwrap();
    payments.charge("o-1", 4500).await.unwrap();

    compensate(&inventory, &payments, "o-1").await.unwrap();

    let stock = get(shop.inventory.url("/v1/stock/1")).await;
    assert_eq!(stock["quantity"], 10, "the three copies are back");
    let payment = get(shop.payments.url("/v1/payments/o-1")).await;
    assert_eq!(payment["status"], "refunded");
}

#[tokio::test]
async fn compensating_twice_is_the_same_as_once() {
    let shop = providers().await;
    let (inventory, payments) = clients(shop.inventory.base_url(), shop.payments.base_url());
    let line = [ReserveLine {
        book_id: 2,
        quantity: 1,
    }];
    inventory.reserve("o-2", &line).await.unwrap();
    payments.charge("o-2", 1000).await.unwrap();

    compensate(&inventory, &payments, "o-2").await.unwrap();
    compensate(&inventory, &payments, "o-2").await.unwrap();

    let stock = get(shop.inventory.url("/v1/stock/2")).await;
    assert_eq!(stock["quantity"], 10, "given back once, not twice");
}

#[tokio::test]
async fn compensating_steps_that_never_happened_is_fine() {
    let shop = providers().await;
    let (inventory, payments) = clients(shop.inventory.base_url(), shop.payments.base_url());

    compensate(&inventory, &payments, "o-3").await.unwrap();

    // And a slow charge arriving afterwards takes no money.
    let late = payments.charge("o-3", 700).await.unwrap_err();
    assert!(matches!(late, CallError::Refused(_)), "{late:?}");
}

#[tokio::test]
async fn a_provider_that_does_not_answer_is_reported_so_the_saga_retries() {
    let shop = providers().await;
    let dead = tokio::net::TcpSocket::new_v4().unwrap();
    dead.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    let (inventory, payments) = clients(shop.inventory.base_url(), &dead_url);

    let err = compensate(&inventory, &payments, "o-4").await.unwrap_err();
    assert!(matches!(err, CallError::Unavailable(_)), "{err:?}");
}
