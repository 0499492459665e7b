//! Inventory gives stock back when it hears `order.cancelled`: once per
//! order however often the event comes, and never for an order it sold.

mod common;

use std::time::Duration;

use ch06_messaging::events::ORDER_CANCELLED;
use clap::Parser;
use common::{Broker, Running, event, reason, stock};
use serde_json::{Value, json};
use testkit::{TempDb, TestServer};

async fn reserve(inventory: &str, order_id: &str, book_id: i64, quantity: i64) -> u16 {
    reqwest::Client::new()
        .post(format!("{inventory}/v1/reservations"))
        .json(&json!({"order_id": order_id, "lines": [{"book_id": book_id, "quantity": quantity}]}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn reservation_status(inventory: &str, order_id: &str) -> Option<String> {
    let response = reqwest::get(format!("{inventory}/v1/reservations/{order_id}"))
        .await
        .unwrap();
    if response.status() == 404 {
        return None;
    }
    let body: Value = response.json().await.unwrap();
    body["status"].as_str().map(str::to_owned)
}

async fn inventory_for(broker: &Broker) -> Running {
    common::spawn_inventory(&broker.flags()).await
}

// ANCHOR: released_once
#[tokio::test]
async fn a_cancelled_order_gets_its_stock_back_once() {
    let broker = common::broker("ch06.inventory", &[ORDER_CANCELLED]).await;
    let inventory = inventory_for(&broker).await;
    let url = inventory.server.base_url();
    assert_eq!(reserve(url, "41", 1, 2).await, 201);
    assert_eq!(stock(url, 1).await, 8);

    // The same event twice (a redelivery), then one for an order inventory
    // never saw.
    broker
        .publish("order.cancelled", &event("c-41", "order.cancelled", 41))
        .await;
    broker
        .publish("order.cancelled", &event("c-41", "order.cancelled", 41))
        .await;
    broker
        .publish("order.cancelled", &event("c-42", "order.cancelled", 42))
        .await;
    common::eventually(Duration::from_secs(10), "order 42 released", || async {
        reservation_status(url, "42").await.as_deref() == Some("released")
    })
    .await;

    assert_eq!(stock(url, 1).await, 10, "two copies back, not four");
    assert_eq!(reservation_status(url, "41").await.unwrap(), "released");
    // Order 42's reservation, arriving late, finds the release first.
    assert_eq!(reserve(url, "42", 1, 1).await, 409);
    assert_eq!(stock(url, 1).await, 10);
    broker.delete().await;
}
// ANCHOR_END: released_once

#[tokio::test]
async fn a_cancel_for_a_sold_order_goes_to_the_dead_letter_queue() {
    let broker = common::broker("ch06.inventory", &[ORDER_CANCELLED]).await;
    let inventory = inventory_for(&broker).await;
    let url = inventory.server.base_url();
    assert_eq!(reserve(url, "43", 2, 1).await, 201);
    let confirmed = reqwest::Client::new()
        .post(format!("{url}/v1/reservations/43/confirm"))
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);

    broker
        .publish("order.cancelled", &event("c-43", "order.cancelled", 43))
        .await;
    let dead = broker.dead_letter().await;

    assert!(
        reason(&dead).contains("Confirmed; it cannot be released"),
        "{}",
        reason(&dead)
    );
    assert_eq!(stock(url, 2).await, 9, "sold stays sold");
    broker.delete().await;
}

// ANCHOR: choreography
#[tokio::test]
async fn a_declined_checkout_gets_its_stock_back_by_event() {
    let broker = common::broker("ch06.inventory", &[ORDER_CANCELLED]).await;
    let catalog = common::spawn_catalog().await;
    let inventory = inventory_for(&broker).await;
    let payments = common::spawn_payments(1.0).await; // declines every charge
    let orders_db = TempDb::new();
    let config = ch06_messaging::orders::Config::try_parse_from([
        "ch06-orders",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &orders_db.url(),
        "--catalog-url",
        catalog.server.base_url(),
        "--inventory-url",
        inventory.server.base_url(),
        "--payments-url",
        payments.server.base_url(),
        "--amqp-addr",
        &broker.addr,
        "--events-exchange",
        &broker.config.topology.events,
        "--stock-release",
        "event",
    ])
    .unwrap();
    let orders = TestServer::start(move |listener, shutdown| {
        ch06_messaging::orders::serve_on(listener, config, shutdown)
    })
    .await;

    // ANCHOR: choreography_checks
    let order: Value = reqwest::Client::new()
        .post(orders.url("/v1/orders"))
        .header("x-bookshop-user", "ada")
        .json(&json!({"customer": "ada", "lines": [{"book_id": 3, "quantity": 2}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(order["status"], "cancelled");
    assert_eq!(order["cancel_reason"], "the payment was declined");

    // The saga did not call release; inventory heard the order was
    // cancelled and gave the copies back on its own.
    let url = inventory.server.base_url();
    common::eventually(Duration::from_secs(10), "stock back", || async {
        stock(url, 3).await == 10
    })
    .await;
    let id = order["id"].as_i64().unwrap().to_string();
    assert_eq!(reservation_status(url, &id).await.unwrap(), "released");
    // ANCHOR_END: choreography_checks
    broker.delete().await;
}
// ANCHOR_END: choreography
