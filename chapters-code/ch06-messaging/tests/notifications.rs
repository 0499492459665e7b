//! The notifications consumer against a real RabbitMQ: duplicates, poison
//! messages and a handler that keeps failing.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use ch01_autonomy::server;
use ch06_messaging::consumer::{self, Handler, HandlerError};
use ch06_messaging::events::{Envelope, ORDER_CANCELLED, ORDER_CONFIRMED, ORDER_PLACED};
use ch06_messaging::notifications::store::NotificationStore;
use ch06_messaging::notifications::{self, NotificationList, Notifier};
use common::{Broker, event, reason};
use testkit::{TempDb, TestServer};

async fn broker() -> Broker {
    common::broker(
        "ch06.notifications",
        &[ORDER_PLACED, ORDER_CONFIRMED, ORDER_CANCELLED],
    )
    .await
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

// ANCHOR: duplicate
#[tokio::test]
async fn a_redelivered_event_is_recorded_once() {
    let broker = broker().await;
    let db = TempDb::new();
    let store = NotificationStore::open(&db.url()).await.unwrap();
    let notifier = Arc::new(Notifier {
        store: store.clone(),
    });
    let consumer_stop = CancellationToken::new();
    let consumer = tokio::spawn(consumer::run(
        notifier,
        broker.config.clone(),
        Arc::new(AtomicBool::new(false)),
        consumer_stop.clone(),
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
        .for_customer_order("ada", 7)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.kind)
        .collect();
    assert_eq!(kinds, ["order.placed", "order.cancelled"], "e-1 once");
    consumer_stop.cancel();
    consumer.await.unwrap();
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
    let consumer_stop = CancellationToken::new();
    let consumer = tokio::spawn(consumer::run(
        notifier,
        broker.config.clone(),
        Arc::new(AtomicBool::new(false)),
        consumer_stop.clone(),
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
    consumer_stop.cancel();
    consumer.await.unwrap();
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
    let consumer_stop = CancellationToken::new();
    let consumer = tokio::spawn(consumer::run(
        handler.clone(),
        broker.config.clone(),
        Arc::new(AtomicBool::new(false)),
        consumer_stop.clone(),
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
    consumer_stop.cancel();
    consumer.await.unwrap();
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
    let consumer_stop = CancellationToken::new();
    let consumer = tokio::spawn(consumer::run(
        notifier,
        broker.config.clone(),
        connected.clone(),
        consumer_stop.clone(),
    ));
    let router = notifications::router(store.clone(), connected);
    let api = TestServer::start(|l, s| server::serve(l, router, s)).await;

    broker
        .publish("order.confirmed", &event("e-5", "order.confirmed", 11))
        .await;
    until_count(&store, 1).await;
    let http = reqwest::Client::new();
    let as_user = |user: &str, path: &str| {
        http.get(api.url(path))
            .header("x-bookshop-user", user)
            .send()
    };
    let list: NotificationList = as_user("ada", "/v1/notifications?order_id=11")
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
    // Someone else's order: nothing, as for an order not heard of yet.
    let theirs: NotificationList = as_user("grace", "/v1/notifications?order_id=11")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(theirs.notifications.is_empty(), "{theirs:?}");
    let anonymous = reqwest::get(api.url("/v1/notifications?order_id=11"))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401, "no vouched caller");
    let ready = reqwest::get(api.url("/health/ready")).await.unwrap();
    assert_eq!(ready.status(), 200, "consuming, so ready");
    let missing = as_user("ada", "/v1/notifications").await.unwrap();
    assert_eq!(missing.status(), 400);
    consumer_stop.cancel();
    consumer.await.unwrap();
    broker.delete().await;
}
