//! The notifications consumer against a real RabbitMQ: duplicates, poison
//! messages and a handler that keeps failing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use ch01_autonomy::server;
use ch06_messaging::events::Envelope;
use ch06_messaging::notifications::consumer::{
    self, ConsumerConfig, Handler, HandlerError, REASON_HEADER,
};
use ch06_messaging::notifications::store::NotificationStore;
use ch06_messaging::notifications::{self, NotificationList, Notifier};
use ch06_messaging::topology::{Topology, dead_letter_queue};
use lapin::message::BasicGetMessage;
use lapin::options::{
    BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions, ExchangeDeleteOptions,
    QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection};
use serde_json::json;
use testkit::{TempDb, TestServer};

/// A queue and exchanges of this test's own, and a publisher.
struct Broker {
    connection: Connection,
    channel: Channel,
    config: ConsumerConfig,
}

async fn broker() -> Broker {
    let addr = testkit::amqp::amqp_addr().await.expect("a RabbitMQ broker");
    let connection = testkit::amqp::connect().await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let mut config = ConsumerConfig::new(addr, testkit::unique_name("ch06.notifications"));
    config.topology = Topology {
        events: testkit::unique_name("ch06.events"),
        dead_letter: testkit::unique_name("ch06.dead-letter"),
    };
    config.max_attempts = 3;
    // Declared here too (the same declaration), so that nothing published
    // before the consumer starts is unroutable.
    let keys: Vec<&str> = config.routing_keys.iter().map(String::as_str).collect();
    config
        .topology
        .declare_queue(&channel, &config.queue, &keys, FieldTable::default())
        .await
        .unwrap();
    Broker {
        connection,
        channel,
        config,
    }
}

impl Broker {
    async fn publish(&self, routing_key: &str, body: &[u8]) {
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
    async fn dead_letter(&self) -> BasicGetMessage {
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

    async fn delete(self) {
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

fn event(id: &str, kind: &str, order_id: i64) -> Vec<u8> {
    let envelope = Envelope {
        specversion: "1.0".to_owned(),
        id: id.to_owned(),
        kind: kind.to_owned(),
        source: "/orders".to_owned(),
        subject: order_id.to_string(),
        time: "2026-11-28T12:00:00.000Z".to_owned(),
        datacontenttype: "application/json".to_owned(),
        data: json!({"order_id": order_id, "reason": "the payment was declined"}),
    };
    serde_json::to_vec(&envelope).unwrap()
}

async fn until_count(store: &NotificationStore, n: i64) {
    for _ in 0..200 {
        if store.count().await.unwrap() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} notifications");
}

fn reason(message: &BasicGetMessage) -> String {
    let headers = message.delivery.properties.headers().clone().unwrap();
    match headers.inner().get(REASON_HEADER) {
        Some(AMQPValue::LongString(reason)) => reason.to_string(),
        other => panic!("no reason header: {other:?}"),
    }
}

// ANCHOR: duplicate
#[tokio::test]
async fn a_redelivered_event_is_recorded_once() {
    let broker = broker().await;
    let db = TempDb::new();
    let store = NotificationStore::open(&db.url()).await.unwrap();
    let notifier = Arc::new(Notifier {
        store: store.clone(),
    });
    let consumer = tokio::spawn(consumer::run(
        notifier,
        broker.config.clone(),
        Arc::new(AtomicBool::new(false)),
    ));

    broker
        .publish("order.placed", &event("e-1", "order.placed", 7))
        .await;
    broker
        .publish("order.placed", &event("e-1", "order.placed", 7))
        .await;
    broker
        .publish("order.cancelled", &event("e-2", "order.cancelled", 7))
        .await;
    until_count(&store, 2).await;

    let kinds: Vec<String> = store
        .for_order(7)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.kind)
        .collect();
    assert_eq!(kinds, ["order.placed", "order.cancelled"], "e-1 once");
    consumer.abort();
    broker.delete().await;
}
// ANCHOR_END: duplicate

#[tokio::test]
async fn a_poison_message_is_dead_lettered_and_the_next_one_handled() {
    let broker = broker().await;
    let db = TempDb::new();
    let store = NotificationStore::open(&db.url()).await.unwrap();
    let notifier = Arc::new(Notifier {
        store: store.clone(),
    });
    let consumer = tokio::spawn(consumer::run(
        notifier,
        broker.config.clone(),
        Arc::new(AtomicBool::new(false)),
    ));

    broker.publish("order.placed", b"{ not json").await;
    broker
        .publish("order.confirmed", &event("e-3", "order.confirmed", 8))
        .await;
    until_count(&store, 1).await;

    let dead = broker.dead_letter().await;
    assert_eq!(dead.delivery.data, b"{ not json");
    assert!(
        reason(&dead).contains("not an event envelope"),
        "{}",
        reason(&dead)
    );
    consumer.abort();
    broker.delete().await;
}

/// A handler whose database is always down.
struct AlwaysFails {
    calls: AtomicU32,
}

impl Handler for AlwaysFails {
    async fn handle(&self, _event: &Envelope) -> Result<(), HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(HandlerError::Failed("the database is locked".to_owned()))
    }
}

// ANCHOR: retries
#[tokio::test]
async fn a_handler_that_keeps_failing_dead_letters_after_n_attempts() {
    let broker = broker().await;
    let handler = Arc::new(AlwaysFails {
        calls: AtomicU32::new(0),
    });
    let consumer = tokio::spawn(consumer::run(
        handler.clone(),
        broker.config.clone(),
        Arc::new(AtomicBool::new(false)),
    ));

    broker
        .publish("order.placed", &event("e-4", "order.placed", 9))
        .await;
    let dead = broker.dead_letter().await;

    assert!(
        reason(&dead).contains("failed 3 times"),
        "{}",
        reason(&dead)
    );
    assert_eq!(
        handler.calls.load(Ordering::SeqCst),
        3,
        "tried exactly 3 times"
    );
    let envelope: Envelope = serde_json::from_slice(&dead.delivery.data).unwrap();
    assert_eq!(envelope.id, "e-4", "the original message, untouched");
    consumer.abort();
    broker.delete().await;
}
// ANCHOR_END: retries

#[tokio::test]
async fn notifications_are_listed_by_order() {
    let broker = broker().await;
    let db = TempDb::new();
    let store = NotificationStore::open(&db.url()).await.unwrap();
    let connected = Arc::new(AtomicBool::new(false));
    let notifier = Arc::new(Notifier {
        store: store.clone(),
    });
    let consumer = tokio::spawn(consumer::run(
        notifier,
        broker.config.clone(),
        connected.clone(),
    ));
    let router = notifications::router(store.clone(), connected);
    let api = TestServer::start(|l, s| server::serve(l, router, s)).await;

    broker
        .publish("order.confirmed", &event("e-5", "order.confirmed", 11))
        .await;
    until_count(&store, 1).await;
    let list: NotificationList = reqwest::get(api.url("/v1/notifications?order_id=11"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.notifications.len(), 1);
    assert_eq!(
        list.notifications[0].message,
        "Order 11 is confirmed and paid."
    );
    let ready = reqwest::get(api.url("/health/ready")).await.unwrap();
    assert_eq!(ready.status(), 200, "consuming, so ready");
    let missing = reqwest::get(api.url("/v1/notifications")).await.unwrap();
    assert_eq!(missing.status(), 400);
    consumer.abort();
    broker.delete().await;
}
