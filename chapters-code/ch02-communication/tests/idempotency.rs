//! `Idempotency-Key`: retries are safe, reuse for something else is not.

mod common;

use std::sync::Arc;

use ch02_communication::orders::model::Order;
use common::{PROTOCOLS, expect_problem, order, orders_of, place, spawn_pair};

// ANCHOR: same_key
#[tokio::test]
async fn the_same_key_and_body_returns_the_first_order() {
    let (_catalog, orders) = spawn_pair(PROTOCOLS[0]).await;
    let body = order("ada", &[(5, 1)]);

    let first = place(&orders, &body, Some("order-ada-0001")).await;
    assert_eq!(first.status(), 201);
    let first: Order = first.json().await.unwrap();

    let retry = place(&orders, &body, Some("order-ada-0001")).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: Order = retry.json().await.unwrap();

    assert_eq!(retry, first);
    assert_eq!(
        orders_of(&orders, "ada").await.len(),
        1,
        "one order, not two"
    );
}

#[tokio::test]
async fn the_same_key_with_another_body_is_a_409() {
    let (_catalog, orders) = spawn_pair(PROTOCOLS[0]).await;
    let key = Some("order-ada-0002");
    assert_eq!(
        place(&orders, &order("ada", &[(5, 1)]), key).await.status(),
        201
    );
    let other = place(&orders, &order("ada", &[(5, 3)]), key).await;
    expect_problem(other, 409).await;
    assert_eq!(orders_of(&orders, "ada").await.len(), 1);
}
// ANCHOR_END: same_key

#[tokio::test]
async fn fifty_concurrent_retries_store_one_order() {
    let (_catalog, orders) = spawn_pair(PROTOCOLS[0]).await;
    let orders = Arc::new(orders);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let orders = orders.clone();
        tasks.push(tokio::spawn(async move {
            let response = place(&orders, &order("eager", &[(6, 1)]), Some("eager-1")).await;
            assert_eq!(response.status(), 201);
            response.json::<Order>().await.unwrap().id
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1, "every retry got the same order");
    assert_eq!(orders_of(&orders, "eager").await.len(), 1);
}

#[tokio::test]
async fn a_malformed_key_is_rejected() {
    let (_catalog, orders) = spawn_pair(PROTOCOLS[0]).await;
    let long = "k".repeat(300);
    for key in ["", "has space", long.as_str()] {
        let response = place(&orders, &order("ada", &[(1, 1)]), Some(key)).await;
        expect_problem(response, 422).await;
    }
    assert!(orders_of(&orders, "ada").await.is_empty());
}
