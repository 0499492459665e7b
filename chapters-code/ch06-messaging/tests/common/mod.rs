//! What chapter 6's tests share: a queue and exchanges of a test's own on
//! the real broker, events to publish, and the services on 127.0.0.1:0.

#![allow(dead_code)] // each test file uses a different part

use std::time::Duration;

use ch01_autonomy::{catalog, server};
use ch06_messaging::consumer::{ConsumerConfig, REASON_HEADER};
use ch06_messaging::events::Envelope;
use ch06_messaging::topology::{Topology, dead_letter_queue};
use lapin::message::BasicGetMessage;
use lapin::options::{
    BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions, ExchangeDeleteOptions,
    QueueDeleteOptions,
};
use lapin::types::AMQPValue;
use lapin::{BasicProperties, Channel, Connection};
use serde_json::json;
use testkit::{TempDb, TestServer};

/// A queue and exchanges of this test's own, and a publisher.
pub struct Broker {
    pub addr: String,
    pub connection: Connection,
    pub channel: Channel,
    pub config: ConsumerConfig,
}

/// A consumer's queue named `prefix.<random>`, bound for `routing_keys`.
pub async fn broker(prefix: &str, routing_keys: &[&str]) -> Broker {
    let addr = testkit::amqp::amqp_addr().await.expect("a RabbitMQ broker");
    let connection = testkit::amqp::connect().await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let mut config = ConsumerConfig::new(&addr, testkit::unique_name(prefix));
    config.topology = Topology {
        events: testkit::unique_name("ch06.events"),
        dead_letter: testkit::unique_name("ch06.dead-letter"),
    };
    config.routing_keys = routing_keys.iter().map(|key| (*key).to_owned()).collect();
    config.max_attempts = 3;
    // If the test fails before it deletes the queues, the broker does.
    config.queue_arguments = testkit::amqp::test_queue_arguments();
    // Declared here too (the same declaration), so that nothing published
    // before the consumer starts is unroutable.
    config
        .topology
        .declare_queue(
            &channel,
            &config.queue,
            routing_keys,
            config.queue_arguments.clone(),
        )
        .await
        .unwrap();
    Broker {
        addr,
        connection,
        channel,
        config,
    }
}

impl Broker {
    pub async fn publish(&self, routing_key: &str, body: &[u8]) {
        let confirm = self
            .channel
            .basic_publish(
                self.config.topology.events.as_str().into(),
                routing_key.into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                body,
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(confirm.is_ack());
    }

    /// The next dead letter, within 10 s.
    pub async fn dead_letter(&self) -> BasicGetMessage {
        let queue = dead_letter_queue(&self.config.queue);
        for _ in 0..200 {
            if let Some(message) = self
                .channel
                .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true })
                .await
                .unwrap()
            {
                return message;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nothing was dead-lettered");
    }

    /// The flags a service of this chapter needs to use this broker's
    /// exchanges and queue.
    pub fn flags(&self) -> Vec<String> {
        [
            "--amqp-addr",
            &self.addr,
            "--events-exchange",
            &self.config.topology.events,
            "--dead-letter-exchange",
            &self.config.topology.dead_letter,
            "--queue",
            &self.config.queue,
            "--queue-expires-ms",
            &testkit::amqp::TEST_QUEUE_EXPIRY_MS.to_string(),
        ]
        .map(str::to_owned)
        .to_vec()
    }

    pub async fn delete(self) {
        let dead = dead_letter_queue(&self.config.queue);
        for queue in [&self.config.queue, &dead] {
            self.channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await
                .unwrap();
        }
        let topology = &self.config.topology;
        for exchange in [&topology.events, &topology.dead_letter] {
            self.channel
                .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                .await
                .unwrap();
        }
        self.connection.close(200, "done".into()).await.unwrap();
    }
}

/// An order event as orders' outbox would write it.
pub fn event(id: &str, kind: &str, order_id: i64) -> Vec<u8> {
    let envelope = Envelope {
        specversion: "1.0".to_owned(),
        id: id.to_owned(),
        kind: kind.to_owned(),
        source: "/orders".to_owned(),
        subject: order_id.to_string(),
        time: "2026-11-28T12:00:00.000Z".to_owned(),
        datacontenttype: "application/json".to_owned(),
        data: json!({"order_id": order_id, "customer": "ada", "reason": "the payment was declined"}),
    };
    serde_json::to_vec(&envelope).unwrap()
}

/// Why a message was dead-lettered.
pub fn reason(message: &BasicGetMessage) -> String {
    let headers = message.delivery.properties.headers().clone().unwrap();
    match headers.inner().get(REASON_HEADER) {
        Some(AMQPValue::LongString(reason)) => reason.to_string(),
        other => panic!("no reason header: {other:?}"),
    }
}

/// A service on 127.0.0.1:0 and the database it owns.
pub struct Running {
    pub server: TestServer,
    pub db: TempDb,
}

pub async fn spawn_catalog() -> Running {
    let db = TempDb::new();
    let router = catalog::App::open(&db.url()).await.unwrap().into_router();
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Running { server, db }
}

pub async fn spawn_payments(failure_rate: f64) -> Running {
    let db = TempDb::new();
    let simulation = ch05_soa::payments::Simulation {
        failure_rate,
        latency: Duration::ZERO,
    };
    let (_store, router) = ch05_soa::payments::app(&db.url(), simulation)
        .await
        .unwrap();
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Running { server, db }
}

/// Chapter 6's inventory, consuming `order.cancelled` with `flags`.
pub async fn spawn_inventory(flags: &[String]) -> Running {
    use clap::Parser;
    let db = TempDb::new();
    let args = ["ch06-inventory", "--database-url", &db.url()]
        .map(str::to_owned)
        .into_iter()
        .chain(flags.iter().cloned());
    let config = ch06_messaging::inventory::Config::try_parse_from(args).unwrap();
    let server = TestServer::start(move |listener, shutdown| {
        ch06_messaging::inventory::serve(listener, config, shutdown)
    })
    .await;
    Running { server, db }
}

/// Stock of `book_id` as inventory reports it.
pub async fn stock(inventory: &str, book_id: i64) -> i64 {
    let stock: serde_json::Value = reqwest::get(format!("{inventory}/v1/stock/{book_id}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stock["quantity"].as_i64().unwrap()
}

/// Polls `check` every 50 ms until it holds, for at most `within`.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !check().await {
        assert!(started.elapsed() < within, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The kinds of `customer`'s notifications about `order_id`, sorted, as
/// the notifications service at `base` lists them.
pub async fn notification_kinds(base: &str, customer: &str, order_id: i64) -> Vec<String> {
    let list: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/v1/notifications?order_id={order_id}"))
        .header("x-bookshop-user", customer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut kinds: Vec<String> = list["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.sort_unstable();
    kinds
}

/// The status of order `order_id` as `customer` sees it at the orders
/// service at `base` (empty if the answer has none).
pub async fn order_status(base: &str, customer: &str, order_id: impl std::fmt::Display) -> String {
    let order: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/v1/orders/{order_id}"))
        .header("x-bookshop-user", customer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    order["status"].as_str().unwrap_or_default().to_owned()
}
