//! What orders does when the catalog is down, slow, newer, or broken:
//! a clear problem, quickly, and never a hang or a 500.

mod common;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use ch02_communication::orders::model::Order;
use ch02_communication::proto::catalog_server::{Catalog, CatalogServer};
use ch02_communication::proto::{BookPrice, GetPricesRequest, GetPricesResponse};
use common::{
    PROTOCOLS, expect_problem, order, orders_of, place, spawn_orders, spawn_slow_catalog,
};
use serde_json::json;
use testkit::{ServiceProcess, TempDb, TestServer};

const CATALOG: &str = env!("CARGO_BIN_EXE_catalog-grpc");
const ORDERS: &str = env!("CARGO_BIN_EXE_orders");

/// The `catalog-grpc` binary as a real process, on a port the OS picks.
async fn catalog_process(db: &TempDb) -> ServiceProcess {
    ServiceProcess::builder(CATALOG)
        .args(["--listen", "127.0.0.1:0", "--database-url", &db.url()])
        .spawn()
        .await
        .unwrap()
}

// ANCHOR: catalog_killed
#[tokio::test]
async fn a_killed_catalog_means_503_with_retry_after() {
    let catalog_db = TempDb::new();
    let mut catalog = catalog_process(&catalog_db).await;
    let timeout = Duration::from_millis(1000);
    for protocol in PROTOCOLS {
        let orders = spawn_orders(catalog.base_url(), protocol, timeout).await;
        assert_eq!(
            place(&orders, &order("ada", &[(1, 1)]), None)
                .await
                .status(),
            201
        );
    }

    catalog.kill().await.unwrap(); // kill -9: no goodbye

    for protocol in PROTOCOLS {
        let orders = spawn_orders(catalog.base_url(), protocol, timeout).await;
        let started = Instant::now();
        let response = place(&orders, &order("ada", &[(1, 1)]), None).await;
        assert!(
            started.elapsed() < timeout,
            "{protocol:?}: refused fast, not after the budget"
        );
        let retry_after = response.headers().get("retry-after").cloned();
        let problem = expect_problem(response, 503).await;
        assert_eq!(
            retry_after.as_ref().map(|v| v.as_bytes()),
            Some(&b"1"[..]),
            "{problem:?}"
        );
        assert!(orders_of(&orders, "ada").await.is_empty());
    }
}
// ANCHOR_END: catalog_killed

// ANCHOR: catalog_slow
#[tokio::test]
async fn a_catalog_slower_than_the_budget_means_503_on_time() {
    let budget = Duration::from_millis(300);
    let catalog = spawn_slow_catalog(Duration::from_secs(5)).await;
    for protocol in PROTOCOLS {
        let orders = spawn_orders(catalog.server.base_url(), protocol, budget).await;
        let started = Instant::now();
        let response = place(&orders, &order("ada", &[(1, 1), (2, 1)]), None).await;
        let took = started.elapsed();
        expect_problem(response, 503).await;
        assert!(
            took < budget + Duration::from_millis(100),
            "{protocol:?}: answered after {took:?}, budget {budget:?}"
        );
    }
}
// ANCHOR_END: catalog_slow

/// A stand-in for catalogs we cannot run: a newer version, or a broken one.
async fn stand_in_catalog(book: fn(i64) -> (StatusCode, serde_json::Value)) -> TestServer {
    let router = Router::new().route(
        "/v1/books/{id}",
        get(move |Path(id): Path<i64>| async move {
            let (status, body) = book(id);
            (status, axum::Json(body))
        }),
    );
    TestServer::router(router).await
}

// ANCHOR: tolerant_reader
#[tokio::test]
async fn a_newer_catalog_with_extra_fields_still_works() {
    let catalog = stand_in_catalog(|id| {
        (
            StatusCode::OK,
            json!({
                "id": id, "title": "Future Book", "author": "Someone", "price_cents": 1500,
                "isbn": "978-0000000000", "formats": ["paperback", "ebook"], "rating": {"stars": 4.5}
            }),
        )
    })
    .await;
    let orders = spawn_orders(catalog.base_url(), PROTOCOLS[0], Duration::from_secs(2)).await;
    let response = place(&orders, &order("ada", &[(7, 2)]), None).await;
    assert_eq!(response.status(), 201);
    let placed: Order = response.json().await.unwrap();
    assert_eq!(placed.total_cents, 3000);
}
// ANCHOR_END: tolerant_reader

#[tokio::test]
async fn a_catalog_answer_missing_the_price_is_a_502() {
    let catalog =
        stand_in_catalog(|id| (StatusCode::OK, json!({"id": id, "title": "No price"}))).await;
    let orders = spawn_orders(catalog.base_url(), PROTOCOLS[0], Duration::from_secs(2)).await;
    expect_problem(place(&orders, &order("ada", &[(1, 1)]), None).await, 502).await;
    assert!(orders_of(&orders, "ada").await.is_empty());
}

/// A gRPC catalog that forgets the price: proto3 decodes it as 0.
#[derive(Debug, Clone, Copy)]
struct PricelessGrpc;

#[tonic::async_trait]
impl Catalog for PricelessGrpc {
    async fn get_prices(
        &self,
        request: tonic::Request<GetPricesRequest>,
    ) -> Result<tonic::Response<GetPricesResponse>, tonic::Status> {
        let prices = request
            .into_inner()
            .book_ids
            .into_iter()
            .map(|book_id| BookPrice {
                book_id,
                title: "Free?".to_owned(),
                price_cents: 0,
            })
            .collect();
        Ok(tonic::Response::new(GetPricesResponse {
            prices,
            missing: Vec::new(),
        }))
    }
}

#[tokio::test]
async fn a_grpc_answer_without_a_price_is_a_502_not_a_free_book() {
    let routes = tonic::service::Routes::new(CatalogServer::new(PricelessGrpc)).into_axum_router();
    let catalog = TestServer::router(routes).await;
    let orders = spawn_orders(catalog.base_url(), PROTOCOLS[1], Duration::from_secs(2)).await;
    expect_problem(place(&orders, &order("ada", &[(1, 1)]), None).await, 502).await;
    assert!(orders_of(&orders, "ada").await.is_empty());
}

#[tokio::test]
async fn a_catalog_server_error_is_a_502() {
    let catalog =
        stand_in_catalog(|_| (StatusCode::INTERNAL_SERVER_ERROR, json!({"oops": true}))).await;
    let orders = spawn_orders(catalog.base_url(), PROTOCOLS[0], Duration::from_secs(2)).await;
    expect_problem(place(&orders, &order("ada", &[(1, 1)]), None).await, 502).await;
}

#[tokio::test]
async fn the_binaries_work_together_over_grpc() {
    let catalog_db = TempDb::new();
    let catalog = catalog_process(&catalog_db).await;
    let orders_db = TempDb::new();
    let orders = ServiceProcess::builder(ORDERS)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &orders_db.url(),
        ])
        .args([
            "--catalog-url",
            catalog.base_url(),
            "--catalog-protocol",
            "grpc",
        ])
        .spawn()
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .post(orders.url("/v1/orders"))
        .json(&order("ada", &[(4, 1)]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let placed: Order = response.json().await.unwrap();
    assert_eq!(placed.lines[0].title, "Zero To Production in Rust");
}
