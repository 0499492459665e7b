//! A whole checkout on 127.0.0.1:0: the real catalog, inventory, payments
//! and orders, each with its own database.

#![allow(dead_code)] // each test file uses a different part

use std::time::Duration;

use ch01_autonomy::{catalog, server};
use ch05_soa::inventory::http::Stock;
use ch05_soa::inventory::model::Reservation;
use ch05_soa::orders::http::OrderView;
use ch05_soa::payments::store::Payment;
use ch05_soa::{inventory, orders, payments};
use clap::Parser;
use serde_json::{Value, json};
use testkit::{TempDb, TestServer};

pub struct Running {
    pub server: TestServer,
    pub db: TempDb,
}

/// Chapter 1's catalog, publishing chapter 5's contract.
pub async fn spawn_catalog() -> Running {
    let db = TempDb::new();
    let router = catalog::App::open(&db.url())
        .await
        .unwrap()
        .into_router_with(ch05_soa::catalog::published());
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Running { server, db }
}

/// Chapter 4's identity, publishing chapter 5's contract.
pub async fn spawn_identity() -> Running {
    let db = TempDb::new();
    let config = ch04_gateway::identity::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: db.url(),
        token_ttl_minutes: 15,
        demo_password: "demo-password-for-tests".to_owned(),
        signing_key_file: None,
    };
    let router = ch04_gateway::identity::App::open(&config)
        .await
        .unwrap()
        .into_router_with(ch05_soa::identity::published());
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Running { server, db }
}

pub async fn spawn_inventory() -> Running {
    let db = TempDb::new();
    let (_store, router) = inventory::app(&db.url()).await.unwrap();
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Running { server, db }
}

pub async fn spawn_payments(failure_rate: f64, latency: Duration) -> Running {
    let db = TempDb::new();
    let simulation = payments::Simulation {
        failure_rate,
        latency,
    };
    let (_store, router) = payments::app(&db.url(), simulation).await.unwrap();
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Running { server, db }
}

/// Command-line flags for chapter 5's orders, pointing at the providers.
pub fn orders_args(
    db: &TempDb,
    catalog: &str,
    inventory: &str,
    payments: &str,
    extra: &[&str],
) -> Vec<String> {
    let mut args: Vec<String> = [
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &db.url(),
        "--catalog-url",
        catalog,
        "--inventory-url",
        inventory,
        "--payments-url",
        payments,
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .collect();
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    args
}

/// Everything checkout needs, each service on its own socket.
pub struct Shop {
    pub catalog: Running,
    pub inventory: Running,
    pub payments: Running,
    pub orders: Running,
}

impl Shop {
    pub async fn start(failure_rate: f64) -> Self {
        Self::start_with(failure_rate, Duration::ZERO, None, &[]).await
    }

    /// `payments_url` replaces the payments service's address (a dead one, say).
    pub async fn start_with(
        failure_rate: f64,
        latency: Duration,
        payments_url: Option<&str>,
        extra: &[&str],
    ) -> Self {
        let catalog = spawn_catalog().await;
        let inventory = spawn_inventory().await;
        let payments = spawn_payments(failure_rate, latency).await;
        let db = TempDb::new();
        let args = orders_args(
            &db,
            catalog.server.base_url(),
            inventory.server.base_url(),
            payments_url.unwrap_or(payments.server.base_url()),
            extra,
        );
        let config =
            orders::Config::try_parse_from(std::iter::once("ch05-orders".to_owned()).chain(args))
                .unwrap();
        let catalog_client = ch02_communication::catalog_client::CatalogClient::new(
            &config.orders.catalog_client_config(),
        )
        .unwrap();
        let app = orders::App::open(&config, catalog_client).await.unwrap();
        let retry = Duration::from_millis(config.saga_retry_ms);
        let server = TestServer::start(move |listener, shutdown| {
            orders::serve_on(listener, app, retry, shutdown)
        })
        .await;
        Self {
            catalog,
            inventory,
            payments,
            orders: Running { server, db },
        }
    }

    pub fn orders_url(&self) -> &str {
        self.orders.server.base_url()
    }

    pub async fn place(&self, lines: &[(i64, i64)]) -> OrderView {
        let response = place_order(self.orders_url(), lines).await;
        assert_eq!(response.status(), 201, "placing an order");
        response.json().await.unwrap()
    }

    pub async fn stock(&self, book_id: i64) -> i64 {
        stock(self.inventory.server.base_url(), book_id).await
    }

    pub async fn reservation(&self, order_id: i64) -> Option<Reservation> {
        reservation(self.inventory.server.base_url(), order_id).await
    }

    pub async fn payment(&self, order_id: i64) -> Option<Payment> {
        payment(self.payments.server.base_url(), order_id).await
    }
}

/// Who the tests' orders belong to, and the header that says so: what
/// the gateway sends after it verified a token (chapter 4).
pub const CUSTOMER: &str = "ada";
pub const CALLER: (&str, &str) = ("x-bookshop-user", CUSTOMER);

pub fn order_body(lines: &[(i64, i64)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(book_id, quantity)| json!({"book_id": book_id, "quantity": quantity}))
        .collect();
    json!({"customer": CUSTOMER, "lines": lines})
}

pub async fn place_order(orders: &str, lines: &[(i64, i64)]) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{orders}/v1/orders"))
        .header(CALLER.0, CALLER.1)
        .json(&order_body(lines))
        .send()
        .await
        .unwrap()
}

pub async fn get_order(orders: &str, id: i64) -> OrderView {
    reqwest::Client::new()
        .get(format!("{orders}/v1/orders/{id}"))
        .header(CALLER.0, CALLER.1)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls until the order leaves `pending`, for at most `within`.
pub async fn settled(orders: &str, id: i64, within: Duration) -> OrderView {
    let started = std::time::Instant::now();
    loop {
        let order = get_order(orders, id).await;
        if order.order.status != "pending" || started.elapsed() > within {
            return order;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn stock(inventory: &str, book_id: i64) -> i64 {
    let stock: Stock = reqwest::get(format!("{inventory}/v1/stock/{book_id}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stock.quantity
}

pub async fn reservation(inventory: &str, order_id: i64) -> Option<Reservation> {
    let response = reqwest::get(format!("{inventory}/v1/reservations/{order_id}"))
        .await
        .unwrap();
    if response.status() == 404 {
        return None;
    }
    Some(response.json().await.unwrap())
}

pub async fn payment(payments: &str, order_id: i64) -> Option<Payment> {
    let response = reqwest::get(format!("{payments}/v1/payments/{order_id}"))
        .await
        .unwrap();
    if response.status() == 404 {
        return None;
    }
    Some(response.json().await.unwrap())
}

/// Like [`place_order`], owning its arguments (for `tokio::spawn`), and
/// returning the transport error instead of panicking on it.
pub async fn place_order_owned(
    orders: String,
    lines: Vec<(i64, i64)>,
) -> Result<reqwest::Response, reqwest::Error> {
    reqwest::Client::new()
        .post(format!("{orders}/v1/orders"))
        .header(CALLER.0, CALLER.1)
        .json(&order_body(&lines))
        .send()
        .await
}
