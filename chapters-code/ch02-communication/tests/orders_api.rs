//! Placing and reading orders, over both protocols.

mod common;

use ch02_communication::orders::model::Order;
use common::{PROTOCOLS, expect_problem, order, orders_of, place, spawn_pair};
use serde_json::json;

// ANCHOR: happy_path
#[tokio::test]
async fn an_order_is_priced_by_the_catalog_over_http_and_grpc() {
    for protocol in PROTOCOLS {
        let (_catalog, orders) = spawn_pair(protocol).await;
        // Book 1 costs 3999 and book 3 costs 3999 in the catalog's seed data.
        let mut body = order("ada", &[(1, 2), (3, 1)]);
        body["lines"][0]["unit_price_cents"] = json!(1); // ignored: prices are not the client's to set

        let response = place(&orders, &body, None).await;
        assert_eq!(response.status(), 201, "{protocol:?}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let placed: Order = response.json().await.unwrap();

        assert_eq!(location, format!("/v1/orders/{}", placed.id));
        assert_eq!(placed.status, "pending");
        assert_eq!(placed.lines[0].title, "The Rust Programming Language");
        assert_eq!(placed.lines[0].unit_price_cents, 3999);
        assert_eq!(placed.total_cents, 2 * 3999 + 3999, "{protocol:?}");

        let fetched: Order = reqwest::get(orders.server.url(&location))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(fetched, placed);
    }
}
// ANCHOR_END: happy_path

#[tokio::test]
async fn orders_are_listed_per_customer() {
    let (_catalog, orders) = spawn_pair(common::PROTOCOLS[0]).await;
    for customer in ["ada", "ada", "grace"] {
        assert_eq!(
            place(&orders, &order(customer, &[(2, 1)]), None)
                .await
                .status(),
            201
        );
    }
    assert_eq!(orders_of(&orders, "ada").await.len(), 2);
    assert_eq!(orders_of(&orders, "grace").await.len(), 1);
    assert!(orders_of(&orders, "nobody").await.is_empty());
    let without = reqwest::get(orders.server.url("/v1/orders")).await.unwrap();
    expect_problem(without, 400).await;
}

#[tokio::test]
async fn an_unknown_book_is_a_409_naming_the_line() {
    for protocol in PROTOCOLS {
        let (_catalog, orders) = spawn_pair(protocol).await;
        let response = place(&orders, &order("ada", &[(1, 1), (9999, 1)]), None).await;
        let problem = expect_problem(response, 409).await;
        assert_eq!(problem.errors[0].field, "lines[1].book_id", "{protocol:?}");
        assert!(orders_of(&orders, "ada").await.is_empty(), "nothing stored");
    }
}

#[tokio::test]
async fn an_unknown_order_is_a_404_problem() {
    let (_catalog, orders) = spawn_pair(common::PROTOCOLS[0]).await;
    for id in ["4242", "abc"] {
        let response = reqwest::get(orders.server.url(&format!("/v1/orders/{id}")))
            .await
            .unwrap();
        expect_problem(response, 404).await;
    }
}

// ANCHOR: bad_input
#[tokio::test]
async fn bad_orders_are_rejected_and_nothing_is_stored() {
    let (_catalog, orders) = spawn_pair(common::PROTOCOLS[0]).await;
    let cases = [
        (json!({"customer": "ada", "lines": []}), 422, "lines"),
        (
            json!({"customer": " ", "lines": [{"book_id": 1, "quantity": 1}]}),
            422,
            "customer",
        ),
        (order("ada", &[(1, 0)]), 422, "lines[0].quantity"),
        (order("ada", &[(1, -2)]), 422, "lines[0].quantity"),
        (order("ada", &[(1, 1_000_000)]), 422, "lines[0].quantity"),
        (order("ada", &[(0, 1)]), 422, "lines[0].book_id"),
        (
            json!({"customer": "ada", "lines": [{"book_id": "one", "quantity": 1}]}),
            422,
            "lines[0].book_id",
        ),
        (
            json!({"customer": "ada", "lines": [{"book_id": 1, "quantity": 1e40}]}),
            422,
            "lines[0].quantity",
        ),
        (json!({"customer": "ada"}), 422, "body"),
    ];
    for (body, status, field) in cases {
        let problem = expect_problem(place(&orders, &body, None).await, status).await;
        assert_eq!(problem.errors[0].field, field, "for {body}");
    }
    let malformed = reqwest::Client::new()
        .post(orders.server.url("/v1/orders"))
        .header("content-type", "application/json")
        .body("{\"customer\": ")
        .send()
        .await
        .unwrap();
    expect_problem(malformed, 400).await;
    assert!(orders_of(&orders, "ada").await.is_empty(), "nothing stored");
}
// ANCHOR_END: bad_input

#[tokio::test]
async fn fifty_parallel_orders_are_each_stored_exactly_once() {
    let (_catalog, orders) = spawn_pair(common::PROTOCOLS[0]).await;
    let orders = std::sync::Arc::new(orders);
    let mut tasks = Vec::new();
    for n in 0..50 {
        let orders = orders.clone();
        tasks.push(tokio::spawn(async move {
            let body = order("rush", &[(n % 24 + 1, 1)]);
            let response = place(&orders, &body, None).await;
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
    assert_eq!(ids.len(), 50, "50 distinct orders");
    assert_eq!(orders_of(&orders, "rush").await.len(), 50);
}
