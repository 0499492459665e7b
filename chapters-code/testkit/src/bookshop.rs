//! The whole of Bookshop as real processes, each on 127.0.0.1:0 with a
//! database, exchange and queues of the test's own. `program` is the
//! binary that runs any service as `program <service> [flags]`
//! (chapter 7's `ch07-service`, chapter 8's `bookshop-service`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use serde_json::{Value, json};

use crate::{ServiceProcess, TempDb};

const REGISTRY_TOKEN: &str = "ch07-test-registry-token";

/// Every Bookshop service, started in dependency order.
pub struct Shop {
    pub registry: ServiceProcess,
    pub identity: ServiceProcess,
    pub catalog: ServiceProcess,
    pub inventory: ServiceProcess,
    pub payments: ServiceProcess,
    pub orders: ServiceProcess,
    pub notifications: ServiceProcess,
    pub gateway: ServiceProcess,
    names: Vec<String>,
    env: Env,
    program: PathBuf,
    _dbs: Vec<TempDb>,
}

/// What a test may set for every process (the OTLP endpoint, say).
pub type Env = Vec<(String, String)>;

/// Starts `ch07-service <service>` on 127.0.0.1:0 and waits until ready.
pub async fn start(program: &Path, service: &str, args: Vec<String>, env: &Env) -> ServiceProcess {
    start_waiting_for(program, service, args, env, "/health/ready").await
}

/// [`start`], waiting only until the process is live (not ready).
pub async fn start_live(
    program: &Path,
    service: &str,
    args: Vec<String>,
    env: &Env,
) -> ServiceProcess {
    start_waiting_for(program, service, args, env, "/health/live").await
}

async fn start_waiting_for(
    program: &Path,
    service: &str,
    args: Vec<String>,
    env: &Env,
    ready_path: &str,
) -> ServiceProcess {
    let mut builder = ServiceProcess::builder(program)
        .ready_path(ready_path)
        .arg(service)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("REGISTRY_TOKEN", REGISTRY_TOKEN)
        .timeout(Duration::from_secs(30));
    for (key, value) in env {
        builder = builder.env(key, value);
    }
    builder
        .spawn()
        .await
        .unwrap_or_else(|err| panic!("{service}: {err:#}"))
}

impl Shop {
    /// Starts every service from `program`, with `extra` in every
    /// process's environment.
    pub async fn start(program: &Path, extra: &[(&str, &str)]) -> Self {
        let amqp = crate::amqp::amqp_addr().await.unwrap();
        let names = vec![
            crate::unique_name("test.events"),
            crate::unique_name("test.dead-letter"),
            crate::unique_name("test.notifications"),
            crate::unique_name("test.inventory"),
        ];
        let mut env: Env = vec![
            ("AMQP_ADDR".into(), amqp),
            ("EVENTS_EXCHANGE".into(), names[0].clone()),
            ("DEAD_LETTER_EXCHANGE".into(), names[1].clone()),
            ("NOTIFICATIONS_QUEUE".into(), names[2].clone()),
            ("INVENTORY_QUEUE".into(), names[3].clone()),
            // If the test fails before it deletes its queues, the broker does.
            ("NOTIFICATIONS_QUEUE_EXPIRES_MS".into(), "60000".into()),
            ("INVENTORY_QUEUE_EXPIRES_MS".into(), "60000".into()),
        ];
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );

        let registry = start(program, "registry", vec![], &env).await;
        let registered = |db: &TempDb| {
            vec![
                "--database-url".to_owned(),
                db.url(),
                "--registry-url".to_owned(),
                registry.base_url().to_owned(),
            ]
        };
        let dbs: Vec<TempDb> = (0..6).map(|_| TempDb::new()).collect();
        let identity = start(program, "identity", registered(&dbs[0]), &env).await;
        let catalog = start(program, "catalog", registered(&dbs[1]), &env).await;
        let inventory = start(program, "inventory", registered(&dbs[2]), &env).await;
        let payments = start(program, "payments", registered(&dbs[3]), &env).await;
        let mut orders_args = registered(&dbs[4]);
        orders_args.extend(["--relay-wake".to_owned(), "commit".to_owned()]);
        let orders = start(program, "orders", orders_args, &env).await;
        let notifications = start(program, "notifications", registered(&dbs[5]), &env).await;
        let registry_url = vec!["--registry-url".to_owned(), registry.base_url().to_owned()];
        let gateway = start(program, "gateway", registry_url, &env).await;
        let shop = Self {
            registry,
            identity,
            catalog,
            inventory,
            payments,
            orders,
            notifications,
            gateway,
            names,
            env,
            program: program.to_owned(),
            _dbs: dbs,
        };
        shop.wait_until_the_gateway_finds_everyone().await;
        shop
    }

    /// One more catalog instance, registered like the first (its own
    /// database, seeded the same way).
    pub async fn start_catalog(&self, db: &TempDb) -> ServiceProcess {
        let args = vec![
            "--database-url".to_owned(),
            db.url(),
            "--registry-url".to_owned(),
            self.registry.base_url().to_owned(),
        ];
        start(&self.program, "catalog", args, &self.env).await
    }

    /// The gateway learns instances from the registry's watch: wait until
    /// it can reach the services a journey needs.
    async fn wait_until_the_gateway_finds_everyone(&self) {
        let http = reqwest::Client::new();
        for _ in 0..100 {
            let book = http
                .get(self.gateway.url("/api/catalog/books/1"))
                .send()
                .await;
            if book.is_ok_and(|b| b.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the gateway did not find the catalog within 5 s");
    }

    /// A bearer token for the demo user, through the gateway.
    pub async fn demo_token(&self) -> String {
        let answer: Value = reqwest::Client::new()
            .post(self.gateway.url("/api/identity/token"))
            .json(&json!({"username": "demo", "password": "bookshop-demo"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["access_token"].as_str().unwrap().to_owned()
    }

    /// Places one order through the gateway; returns the response's
    /// request id and the order.
    pub async fn place_order(&self, token: &str) -> (String, Value) {
        self.order_book(token, 3).await
    }

    /// One copy of `book_id` ordered through the gateway: the request id
    /// the gateway gave the request, and the order.
    pub async fn order_book(&self, token: &str, book_id: u64) -> (String, Value) {
        let response = reqwest::Client::new()
            .post(self.gateway.url("/api/orders"))
            .bearer_auth(token)
            .json(&json!({"customer": "demo", "lines": [{"book_id": book_id, "quantity": 1}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let request_id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        (request_id, response.json().await.unwrap())
    }

    /// Waits until `order_id` has `count` notifications; returns their kinds.
    pub async fn notifications(&self, token: &str, order_id: &Value, count: usize) -> Vec<String> {
        notification_kinds(self.gateway.base_url(), token, order_id, count).await
    }

    /// The events exchange this test's services publish to.
    pub fn events_exchange(&self) -> &str {
        &self.names[0]
    }

    /// Notifications' queue in this test.
    pub fn notifications_queue(&self) -> &str {
        &self.names[2]
    }

    /// Inventory's queue (it takes `order.cancelled`).
    pub fn inventory_queue(&self) -> &str {
        &self.names[3]
    }

    /// Every process, for tests that look at all of them.
    pub fn all(&self) -> [(&'static str, &ServiceProcess); 8] {
        [
            ("registry", &self.registry),
            ("identity", &self.identity),
            ("catalog", &self.catalog),
            ("inventory", &self.inventory),
            ("payments", &self.payments),
            ("orders", &self.orders),
            ("notifications", &self.notifications),
            ("gateway", &self.gateway),
        ]
    }

    /// Deletes the test's exchanges and queues (the processes die on drop).
    pub async fn clean_up(self) {
        let names = self.names.clone();
        drop(self);
        let connection = crate::amqp::connect().await.unwrap();
        let channel = connection.create_channel().await.unwrap();
        for queue in [&names[2], &names[3]] {
            for name in [queue.clone(), format!("{queue}.dead-letter")] {
                let _ = channel
                    .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
                    .await;
            }
        }
        for exchange in [&names[0], &names[1]] {
            let _ = channel
                .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                .await;
        }
    }
}

/// Asks `/api/notifications` at `public_url` (a gateway, or whatever stands
/// in for it) until `order_id` has `count` notifications, for up to 10 s;
/// returns their kinds, sorted.
pub async fn notification_kinds(
    public_url: &str,
    token: &str,
    order_id: &Value,
    count: usize,
) -> Vec<String> {
    let url = format!("{public_url}/api/notifications?order_id={order_id}");
    let http = reqwest::Client::new();
    let mut kinds = Vec::new();
    for _ in 0..200 {
        let list: Value = http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        kinds = list["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["kind"].as_str().unwrap().to_owned())
            .collect();
        if kinds.len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kinds.sort();
    kinds
}
