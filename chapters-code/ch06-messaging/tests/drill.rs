//! DRILL: a broker restart under load. The whole of Bookshop (registry,
//! catalog, identity, gateway, inventory, payments, orders, notifications)
//! runs in this test on 127.0.0.1:0 against a RabbitMQ node of the drill's
//! own, which it stops at order 300 and starts again at order 600 of
//! 1 000. Then every order must have exactly its two notifications, and
//! every cancelled order its stock back: 0 lost, 0 duplicated.
//!
//! The node is the drill's own (testkit's `BrokerNode`), so the restart
//! disturbs no other test: the drill runs with all the others.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ch01_autonomy::{catalog, server};
use ch03_registry::discovery::http::HttpRegistry;
use ch03_registry::discovery::{Registration, Registry};
use ch04_gateway::gateway::routes::{DEFAULT_ROUTES, RouteTable};
use ch04_gateway::gateway::{Gateway, Limits};
use ch04_gateway::identity;
use ch06_messaging::{notifications, orders};
use clap::Parser;
use serde_json::{Value, json};
use testkit::broker_node::BrokerNode;
use testkit::{TempDb, TestServer};

const ORDERS: usize = 1000;
const WORKERS: usize = 8;
const BOOKS: i64 = 22;
const REGISTRY_TOKEN: &str = "drill-registry-token";
const DEMO_PASSWORD: &str = "drill-demo-password";

/// Every service of Bookshop, in this process.
struct Shop {
    gateway: TestServer,
    orders: TestServer,
    inventory: common::Running,
    notifications: TestServer,
    _servers: Vec<TestServer>,
    _dbs: Vec<TempDb>,
    _registry: ch03_registry::registry::App,
}

async fn serve(router: axum::Router) -> TestServer {
    TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await
}

async fn register(registry: &HttpRegistry, service: &str, addr: SocketAddr) {
    registry
        .register(&Registration {
            service: service.to_owned(),
            instance_id: format!("{service}-1"),
            address: format!("http://{addr}"),
            metadata: BTreeMap::new(),
            ttl: Duration::from_secs(60),
        })
        .await
        .unwrap();
}

fn args<const N: usize>(program: &str, args: [&str; N]) -> Vec<String> {
    std::iter::once(program)
        .chain(args)
        .map(str::to_owned)
        .collect()
}

impl Shop {
    async fn start(amqp: &str) -> Self {
        let registry_app = ch03_registry::registry::App::new(REGISTRY_TOKEN);
        let registry_server = serve(registry_app.router()).await;
        let registry =
            Arc::new(HttpRegistry::new(registry_server.base_url(), REGISTRY_TOKEN).unwrap());

        let catalog_db = TempDb::new();
        let catalog_app = catalog::App::open(&catalog_db.url()).await.unwrap();
        let catalog = serve(catalog_app.into_router()).await;
        register(&registry, "catalog", catalog.addr()).await;

        let identity_db = TempDb::new();
        let identity_app = identity::App::open(&identity::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: identity_db.url(),
            token_ttl_minutes: 15,
            demo_password: DEMO_PASSWORD.to_owned(),
            signing_key_file: None,
        })
        .await
        .unwrap();
        let identity = serve(identity_app.into_router()).await;
        register(&registry, "identity", identity.addr()).await;

        let inventory = common::spawn_inventory(&["--amqp-addr".to_owned(), amqp.to_owned()]).await;
        // One charge in five is declined: those orders are cancelled after
        // their stock was reserved, and inventory must give it back.
        let payments = common::spawn_payments(0.2).await;
        // Orders finds both through the registry, as in the running system.
        register(&registry, "inventory", inventory.server.addr()).await;
        register(&registry, "payments", payments.server.addr()).await;

        let orders_db = TempDb::new();
        let config = orders::RegisteredConfig::try_parse_from(args(
            "ch06-orders",
            [
                "--database-url",
                &orders_db.url(),
                "--registry-url",
                registry_server.base_url(),
                "--registry-token",
                REGISTRY_TOKEN,
                "--amqp-addr",
                amqp,
            ],
        ))
        .unwrap();
        let orders = TestServer::start(move |listener, shutdown| {
            orders::serve_registered(listener, config, shutdown)
        })
        .await;

        let notifications_db = TempDb::new();
        let config = notifications::Config::try_parse_from(args(
            "notifications",
            [
                "--database-url",
                &notifications_db.url(),
                "--amqp-addr",
                amqp,
            ],
        ))
        .unwrap();
        let notifications = TestServer::start(move |listener, shutdown| {
            notifications::serve(listener, config, shutdown)
        })
        .await;

        let limits = Limits {
            rate_burst: 100_000,
            rate_per_second: 100_000.0,
            ..Limits::default()
        };
        let routes = RouteTable::parse(DEFAULT_ROUTES).unwrap();
        let gateway = serve(Gateway::new(routes, registry, limits).router()).await;

        Self {
            gateway,
            orders,
            inventory,
            notifications,
            _servers: vec![registry_server, catalog, identity, payments.server],
            _dbs: vec![
                catalog_db,
                identity_db,
                orders_db,
                notifications_db,
                payments.db,
            ],
            _registry: registry_app,
        }
    }

    /// A token from identity, through the gateway, once the gateway has
    /// found identity and orders in the registry.
    async fn token(&self, http: &reqwest::Client) -> String {
        let started = std::time::Instant::now();
        loop {
            if let Some(token) = self.try_token(http).await {
                return token;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "identity and orders not behind the gateway within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn try_token(&self, http: &reqwest::Client) -> Option<String> {
        let response = http
            .post(self.gateway.url("/api/identity/token"))
            .json(&json!({"username": "demo", "password": DEMO_PASSWORD}))
            .send()
            .await
            .ok()?;
        let body: Value = response.json().await.ok()?;
        let token = body["access_token"].as_str()?.to_owned();
        let orders = http
            .get(self.gateway.url("/api/orders"))
            .bearer_auth(&token)
            .send()
            .await
            .ok()?;
        (orders.status() == 200).then_some(token)
    }

    async fn notification_kinds(&self, order_id: i64) -> Vec<String> {
        common::notification_kinds(self.notifications.base_url(), "demo", order_id).await
    }

    async fn status(&self, order_id: i64) -> String {
        common::order_status(self.orders.base_url(), "demo", order_id).await
    }
}

// ANCHOR: drill
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_loses_no_event_and_duplicates_none() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_test_writer()
        .try_init();
    let broker = BrokerNode::start()
        .await
        .expect("a RabbitMQ node for the drill");
    let shop = Shop::start(&broker.uri()).await;
    let http = reqwest::Client::new();
    let token = shop.token(&http).await;
    let inventory = shop.inventory.server.base_url();
    let mut initial = HashMap::new();
    for book in 1..=BOOKS {
        initial.insert(book, common::stock(inventory, book).await);
    }

    // 1 000 orders from 8 workers; the broker goes away at order 300 and
    // comes back at order 600. Orders never notices.
    let placed = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        let (http, url, token, placed) = (
            http.clone(),
            shop.gateway.url("/api/orders"),
            token.clone(),
            placed.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut orders = Vec::new();
            while placed.fetch_add(1, Ordering::SeqCst) < ORDERS {
                let book = 1 + i64::try_from(orders.len() + worker).unwrap() % BOOKS;
                let line = json!({"book_id": book, "quantity": 1});
                let response = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"customer": "demo", "lines": [line]}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201, "placing an order");
                let order: Value = response.json().await.unwrap();
                orders.push((order["id"].as_i64().expect("an order id"), book));
            }
            orders
        }));
    }
    // ANCHOR: drill_restart
    while placed.load(Ordering::SeqCst) < 300 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    broker.stop_app().await.unwrap();
    while placed.load(Ordering::SeqCst) < 600 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    broker.start_app().await.unwrap();
    let mut orders = Vec::new();
    for worker in workers {
        orders.extend(worker.await.unwrap());
    }
    assert_eq!(orders.len(), ORDERS);
    // ANCHOR_END: drill_restart

    // ANCHOR: drill_notified
    // Every order: `order.placed`, then `order.confirmed` or
    // `order.cancelled`, each exactly once.
    let all_notified = || async {
        let mut missing = 0;
        for (id, _) in &orders {
            let kinds = shop.notification_kinds(*id).await;
            assert!(kinds.len() <= 2, "order {id}: {kinds:?}");
            match kinds.len() {
                2 => assert!(
                    kinds == ["order.cancelled", "order.placed"]
                        || kinds == ["order.confirmed", "order.placed"],
                    "order {id}: {kinds:?}"
                ),
                _ => missing += 1,
            }
        }
        missing == 0
    };
    common::eventually(Duration::from_secs(120), "every notification", all_notified).await;
    // ANCHOR_END: drill_notified

    // Every copy is sold or back on the shelf: inventory heard every
    // `order.cancelled`, across the restart.
    let mut sold: HashMap<i64, i64> = HashMap::new();
    for (id, book) in &orders {
        match shop.status(*id).await.as_str() {
            "confirmed" => *sold.entry(*book).or_default() += 1,
            "cancelled" => {}
            other => panic!("order {id} is still {other}"),
        }
    }
    let stock_settled = || async {
        for book in 1..=BOOKS {
            let expected = initial[&book] - sold.get(&book).copied().unwrap_or(0);
            if common::stock(inventory, book).await != expected {
                return false;
            }
        }
        true
    };
    common::eventually(
        Duration::from_secs(60),
        "stock = initial - sold",
        stock_settled,
    )
    .await;
}
// ANCHOR_END: drill
