//! Real catalogs and real orders services on 127.0.0.1:0, each with its
//! own database.

#![allow(dead_code)] // each test file uses a different part

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use ch01_autonomy::catalog;
use ch01_autonomy::problem::Problem;
use ch01_autonomy::server;
use ch02_communication::catalog_client::{ClientConfig, Protocol};
use ch02_communication::catalog_grpc;
use ch02_communication::orders;
use serde_json::{Value, json};
use testkit::{TempDb, TestServer};

pub const PROTOCOLS: [Protocol; 2] = [Protocol::Http, Protocol::Grpc];

pub struct Running {
    pub server: TestServer,
    pub db: TempDb,
}

/// Chapter 2's catalog (HTTP + gRPC on one port).
pub async fn spawn_catalog() -> Running {
    spawn_catalog_with(Router::new()).await
}

// ANCHOR: slow_catalog
/// A real catalog that waits `delay` before answering anything.
pub async fn spawn_slow_catalog(delay: Duration) -> Running {
    let slow = middleware::from_fn(move |request: Request, next: Next| async move {
        tokio::time::sleep(delay).await;
        next.run(request).await
    });
    let db = TempDb::new();
    let app = catalog::App::open(&db.url()).await.unwrap();
    let router = app
        .clone()
        .into_router_with(catalog_grpc::routes(app.store().clone()))
        .layer(slow);
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Running { server, db }
}
// ANCHOR_END: slow_catalog

async fn spawn_catalog_with(extra: Router) -> Running {
    let db = TempDb::new();
    let app = catalog::App::open(&db.url()).await.unwrap();
    let grpc = catalog_grpc::routes(app.store().clone()).merge(extra);
    let router = app.into_router_with(grpc);
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Running { server, db }
}

pub fn client_config(catalog_url: &str, protocol: Protocol, timeout: Duration) -> ClientConfig {
    ClientConfig {
        base_url: catalog_url.to_owned(),
        protocol,
        connect_timeout: Duration::from_millis(250),
        timeout,
    }
}

// ANCHOR: spawn_orders
/// An orders service that asks the catalog at `catalog_url`.
pub async fn spawn_orders(catalog_url: &str, protocol: Protocol, timeout: Duration) -> Running {
    let db = TempDb::new();
    let config = client_config(catalog_url, protocol, timeout);
    let app = orders::App::open(&db.url(), &config).await.unwrap();
    let router = app.into_router();
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Running { server, db }
}
// ANCHOR_END: spawn_orders

/// A catalog and an orders service wired to it.
pub async fn spawn_pair(protocol: Protocol) -> (Running, Running) {
    let catalog = spawn_catalog().await;
    let orders = spawn_orders(catalog.server.base_url(), protocol, Duration::from_secs(2)).await;
    (catalog, orders)
}

pub fn order(customer: &str, lines: &[(i64, i64)]) -> Value {
    json!({
        "customer": customer,
        "lines": lines.iter().map(|(book_id, quantity)| json!({"book_id": book_id, "quantity": quantity})).collect::<Vec<_>>(),
    })
}

pub async fn place(orders: &Running, body: &Value, key: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(orders.server.url("/v1/orders"))
        .json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.send().await.unwrap()
}

pub async fn orders_of(orders: &Running, customer: &str) -> Vec<orders::model::Order> {
    let list: orders::http::OrderList = reqwest::get(
        orders
            .server
            .url(&format!("/v1/orders?customer={customer}")),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    list.orders
}

pub async fn expect_problem(response: reqwest::Response, status: u16) -> Problem {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Problem = response.json().await.unwrap();
    assert_eq!(problem.status, status);
    problem
}
