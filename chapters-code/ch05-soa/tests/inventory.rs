//! The inventory service over HTTP: all-or-nothing reservations, idempotent
//! steps, and stock that never goes below zero under concurrency.

use std::sync::Arc;

use ch01_autonomy::problem::Problem;
use ch01_autonomy::server;
use ch05_soa::inventory;
use ch05_soa::inventory::http::{StatusBody, Stock};
use ch05_soa::inventory::model::{Reservation, Status};
use serde_json::{Value, json};
use testkit::{TempDb, TestServer};

struct Inventory {
    server: TestServer,
    _db: TempDb,
}

async fn spawn_inventory() -> Inventory {
    let db = TempDb::new();
    let (_store, router) = inventory::app(&db.url()).await.unwrap();
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Inventory { server, _db: db }
}

async fn stock(inventory: &Inventory, book_id: i64) -> i64 {
    let stock: Stock = reqwest::get(inventory.server.url(&format!("/v1/stock/{book_id}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stock.quantity
}

async fn reserve(inventory: &Inventory, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(inventory.server.url("/v1/reservations"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn step(inventory: &Inventory, order_id: &str, action: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(
            inventory
                .server
                .url(&format!("/v1/reservations/{order_id}/{action}")),
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_reservation_takes_stock_and_a_release_gives_it_back() {
    let inventory = spawn_inventory().await;
    let response = reserve(&inventory, json!({"order_id": "o-1", "lines": [{"book_id": 1, "quantity": 3}, {"book_id": 2, "quantity": 1}]})).await;
    assert_eq!(response.status(), 201);
    let reservation: Reservation = response.json().await.unwrap();
    assert_eq!(reservation.status, Status::Reserved);
    assert_eq!(
        (stock(&inventory, 1).await, stock(&inventory, 2).await),
        (7, 9)
    );

    let released: StatusBody = step(&inventory, "o-1", "release")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(released.status, Status::Released);
    assert_eq!(
        (stock(&inventory, 1).await, stock(&inventory, 2).await),
        (10, 10)
    );
    let again: StatusBody = step(&inventory, "o-1", "release")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again.status, Status::Released, "releasing twice is a no-op");
    assert_eq!(
        stock(&inventory, 1).await,
        10,
        "and gives nothing back twice"
    );
}

// ANCHOR: all_or_nothing
#[tokio::test]
async fn a_short_line_reserves_nothing_at_all() {
    let inventory = spawn_inventory().await;
    // Book 24 has one copy left; book 23 none.
    let response = reserve(&inventory, json!({"order_id": "o-2", "lines": [{"book_id": 1, "quantity": 2}, {"book_id": 24, "quantity": 2}]})).await;
    assert_eq!(response.status(), 409);
    let problem: Problem = response.json().await.unwrap();
    assert_eq!(problem.errors[0].field, "lines[1].quantity");
    assert_eq!(
        stock(&inventory, 1).await,
        10,
        "the first line was rolled back"
    );
    assert_eq!(stock(&inventory, 24).await, 1);
}
// ANCHOR_END: all_or_nothing

#[tokio::test]
async fn every_step_is_idempotent_by_order_id() {
    let inventory = spawn_inventory().await;
    let body = json!({"order_id": "o-3", "lines": [{"book_id": 5, "quantity": 2}]});
    assert_eq!(reserve(&inventory, body.clone()).await.status(), 201);
    assert_eq!(
        reserve(&inventory, body).await.status(),
        201,
        "a retried reserve"
    );
    assert_eq!(stock(&inventory, 5).await, 8, "taken once");
    let other = reserve(
        &inventory,
        json!({"order_id": "o-3", "lines": [{"book_id": 5, "quantity": 9}]}),
    )
    .await;
    assert_eq!(other.status(), 422, "same order id, different lines");

    assert_eq!(step(&inventory, "o-3", "confirm").await.status(), 200);
    assert_eq!(step(&inventory, "o-3", "confirm").await.status(), 200);
    assert_eq!(
        step(&inventory, "o-3", "release").await.status(),
        409,
        "sold is sold"
    );
    assert_eq!(
        step(&inventory, "never-reserved", "release").await.status(),
        200,
        "compensating nothing is fine"
    );
    assert_eq!(step(&inventory, "unknown", "confirm").await.status(), 404);
}

#[tokio::test]
async fn a_release_that_overtakes_its_reservation_keeps_the_stock() {
    let inventory = spawn_inventory().await;
    assert_eq!(step(&inventory, "slow", "release").await.status(), 200);
    let late = reserve(
        &inventory,
        json!({"order_id": "slow", "lines": [{"book_id": 7, "quantity": 3}]}),
    )
    .await;
    assert_eq!(late.status(), 409, "the saga gave up on this order");
    assert_eq!(stock(&inventory, 7).await, 10);
    let kept: Reservation = reqwest::get(inventory.server.url("/v1/reservations/slow"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kept.status, Status::Released);
    assert!(kept.lines.is_empty());
}

// ANCHOR: never_below_zero
#[tokio::test]
async fn concurrent_reservations_never_take_more_than_there_is() {
    let inventory = Arc::new(spawn_inventory().await);
    let tasks: Vec<_> = (0..25)
        .map(|n| {
            let inventory = inventory.clone();
            tokio::spawn(async move {
                let body = json!({"order_id": format!("rush-{n}"), "lines": [{"book_id": 7, "quantity": 1}]});
                reserve(&inventory, body).await.status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        15,
        "{statuses:?}"
    );
    assert_eq!(stock(&inventory, 7).await, 0);
}
// ANCHOR_END: never_below_zero

#[tokio::test]
async fn bad_reservations_are_422_naming_the_field() {
    let inventory = spawn_inventory().await;
    let cases = [
        (
            json!({"order_id": "", "lines": [{"book_id": 1, "quantity": 1}]}),
            "order_id",
        ),
        (json!({"order_id": "x", "lines": []}), "lines"),
        (
            json!({"order_id": "x", "lines": [{"book_id": 1, "quantity": 0}]}),
            "lines[0].quantity",
        ),
        (
            json!({"order_id": "x", "lines": [{"book_id": 0, "quantity": 1}]}),
            "lines[0].book_id",
        ),
    ];
    for (body, field) in cases {
        let response = reserve(&inventory, body.clone()).await;
        assert_eq!(response.status(), 422, "{body}");
        let problem: Problem = response.json().await.unwrap();
        assert_eq!(problem.errors[0].field, field, "{body}");
    }
    assert_eq!(stock(&inventory, 1).await, 10);
}

/// An order may name a book on two lines (orders allows it); the
/// reservation holds the sum, once.
#[tokio::test]
async fn lines_for_the_same_book_are_added_up() {
    let inventory = spawn_inventory().await;
    let twice = json!({"order_id": "t-1", "lines": [
        {"book_id": 1, "quantity": 2}, {"book_id": 2, "quantity": 1}, {"book_id": 1, "quantity": 3}
    ]});
    let response = reserve(&inventory, twice).await;
    assert_eq!(response.status(), 201);
    let reservation: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        reservation["lines"],
        json!([{"book_id": 1, "quantity": 5}, {"book_id": 2, "quantity": 1}])
    );
    assert_eq!(stock(&inventory, 1).await, 5);
}
