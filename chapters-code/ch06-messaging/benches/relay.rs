//! `cargo bench -p ch06-messaging`: how fast the outbox relay publishes,
//! next to raw lapin publishing with confirms in the same run, and how long
//! an order's event takes to become a notification.
//!
//! Needs RabbitMQ (found like the tests find it). Prints figures; asserts
//! nothing about speed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

use ch06_messaging::consumer::{self, ConsumerConfig};
use ch06_messaging::notifications::Notifier;
use ch06_messaging::notifications::store::NotificationStore;
use ch06_messaging::outbox::relay::{self, RelayConfig, Wake};
use ch06_messaging::outbox::{MIGRATOR, Outbox};
use ch06_messaging::topology::{Topology, dead_letter_queue};
use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeleteOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel};
use testkit::TempDb;

const EVENTS: usize = 5000;
const OUTSTANDING: usize = 100;

fn envelope(n: usize) -> String {
    format!(
        r#"{{"specversion":"1.0","id":"bench-{n}","type":"order.placed","source":"/orders","subject":"{n}","time":"2026-11-28T12:00:00.000Z","datacontenttype":"application/json","data":{{"order_id":{n},"customer":"ada","status":"pending","total_cents":3999}}}}"#
    )
}

fn topology() -> Topology {
    Topology {
        events: testkit::unique_name("bench.events"),
        dead_letter: testkit::unique_name("bench.dead-letter"),
    }
}

/// A queue that takes (and keeps) everything, so publishes are routable.
async fn sink(channel: &Channel, topology: &Topology) -> String {
    let queue = testkit::unique_name("bench.sink");
    topology
        .declare_queue(
            channel,
            &queue,
            &["order.*"],
            testkit::amqp::test_queue_arguments(),
        )
        .await
        .unwrap();
    queue
}

async fn remove(channel: &Channel, topology: &Topology, queue: &str) {
    for name in [queue.to_owned(), dead_letter_queue(queue)] {
        let _ = channel
            .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    for exchange in [&topology.events, &topology.dead_letter] {
        let _ = channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await;
    }
}

/// Raw lapin: publish, `OUTSTANDING` confirms in flight, no database.
async fn raw_publishing(channel: &Channel, topology: &Topology) -> f64 {
    let bodies: Vec<String> = (0..EVENTS).map(envelope).collect();
    let started = Instant::now();
    for batch in bodies.chunks(OUTSTANDING) {
        let mut confirms = Vec::with_capacity(batch.len());
        for body in batch {
            let confirm = channel
                .basic_publish(
                    topology.events.as_str().into(),
                    "order.placed".into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..Default::default()
                    },
                    body.as_bytes(),
                    BasicProperties::default().with_delivery_mode(2),
                )
                .await
                .unwrap();
            confirms.push(confirm);
        }
        for confirm in confirms {
            assert!(confirm.await.unwrap().is_ack());
        }
    }
    EVENTS as f64 / started.elapsed().as_secs_f64()
}

/// The relay: the same events as outbox rows, published and marked sent.
async fn relay_publishing(amqp: &str, topology: &Topology) -> f64 {
    let db = TempDb::new();
    let outbox = Outbox::open(&db.url()).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&db.url()).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    for n in 0..EVENTS {
        sqlx::query(
            "INSERT INTO outbox (event_id, routing_key, envelope) VALUES (?1, 'order.placed', ?2)",
        )
        .bind(format!("bench-{n}"))
        .bind(envelope(n))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let mut config = RelayConfig::new(amqp);
    config.topology = topology.clone();
    config.batch = u32::try_from(OUTSTANDING).unwrap();
    let started = Instant::now();
    let running_stop = CancellationToken::new();
    let running = tokio::spawn(relay::run(outbox.clone(), config, running_stop.clone()));
    while outbox.pending_count().await.unwrap() > 0 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let rate = EVENTS as f64 / started.elapsed().as_secs_f64();
    running_stop.cancel();
    running.await.unwrap();
    rate
}

/// `HH:MM:SS.fff` of an ISO timestamp, in milliseconds since midnight.
fn millis_of_day(timestamp: &str) -> f64 {
    let time = timestamp
        .split('T')
        .nth(1)
        .unwrap_or_default()
        .trim_end_matches('Z');
    let parts: Vec<f64> = time.split(':').filter_map(|p| p.parse().ok()).collect();
    match parts.as_slice() {
        [h, m, s] => ((h * 60.0 + m) * 60.0 + s) * 1000.0,
        _ => 0.0,
    }
}

/// Order committed (trigger writes the event) → notification committed,
/// through relay, broker and consumer, at a steady 200 orders per second.
async fn order_to_notification(
    amqp: &str,
    topology: &Topology,
    queue: &str,
    wake: Wake,
) -> Vec<f64> {
    let orders_db = TempDb::new();
    let notifications_db = TempDb::new();
    let outbox = Outbox::open(&orders_db.url()).await.unwrap();
    let (orders, _) = ch05_soa::orders::store::open_with(&orders_db.url(), Some(&MIGRATOR))
        .await
        .unwrap();
    let store = NotificationStore::open(&notifications_db.url())
        .await
        .unwrap();
    let mut relay_config = RelayConfig::new(amqp);
    relay_config.topology = topology.clone();
    relay_config.wake = wake;
    let relay_stop = CancellationToken::new();
    let relay = tokio::spawn(relay::run(outbox.clone(), relay_config, relay_stop.clone()));
    let mut consumer_config = ConsumerConfig::new(amqp, queue);
    consumer_config.topology = topology.clone();
    let consuming_stop = CancellationToken::new();
    let consuming = tokio::spawn(consumer::run(
        Arc::new(Notifier {
            store: store.clone(),
        }),
        consumer_config,
        Arc::new(AtomicBool::new(false)),
        consuming_stop.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;

    let order = ch02_communication::orders::model::NewOrder {
        customer: "ada".to_owned(),
        lines: vec![ch02_communication::orders::model::NewLine {
            book_id: 1,
            quantity: 1,
        }],
    };
    let book = ch02_communication::catalog_client::CatalogBook {
        id: 1,
        title: "The Rust Programming Language".to_owned(),
        price_cents: 3999,
    };
    let prices = ch02_communication::catalog_client::PriceList {
        found: HashMap::from([(1, book)]),
        missing: Vec::new(),
    };
    let count = 1000;
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    for _ in 0..count {
        tick.tick().await;
        orders.create(&order, &prices, None).await.unwrap();
    }
    while store.count().await.unwrap() < count {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay_stop.cancel();
    relay.await.unwrap();
    consuming_stop.cancel();
    consuming.await.unwrap();

    let pool = sqlx::SqlitePool::connect(&orders_db.url()).await.unwrap();
    let written: HashMap<String, String> =
        sqlx::query_as::<_, (String, String)>("SELECT event_id, created_at FROM outbox")
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let pool = sqlx::SqlitePool::connect(&notifications_db.url())
        .await
        .unwrap();
    let notified: Vec<(String, String)> =
        sqlx::query_as("SELECT event_id, created_at FROM notifications")
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut latencies: Vec<f64> = notified
        .iter()
        .filter_map(|(event, at)| {
            let from = written.get(event)?;
            let mut ms = millis_of_day(at) - millis_of_day(from);
            if ms < 0.0 {
                ms += 86_400_000.0; // across midnight
            }
            Some(ms)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    latencies
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len().saturating_sub(1)) as f64 * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let amqp = testkit::amqp::amqp_addr().await.expect("a RabbitMQ broker");
    let connection = testkit::amqp::connect().await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();

    println!("{EVENTS} events, {OUTSTANDING} confirms outstanding, persistent, mandatory");
    let topology = topology();
    let queue = sink(&channel, &topology).await;
    let raw = raw_publishing(&channel, &topology).await;
    println!("raw lapin, confirmed:      {raw:>8.0} events/s");
    let relayed = relay_publishing(&amqp, &topology).await;
    println!(
        "outbox relay, confirmed:   {relayed:>8.0} events/s (read, publish, confirm, mark sent)"
    );
    remove(&channel, &topology, &queue).await;

    let topology = self::topology();
    let queue = testkit::unique_name("bench.notifications");
    topology
        .declare_queue(&channel, &queue, &["order.*"], FieldTable::default())
        .await
        .unwrap();
    // Chapter 7: the same with the relay woken by each commit, in the
    // same run, alternating, two rounds each.
    for round in 1..=2 {
        for (wake, name) in [
            (Wake::Poll, "polling every 50 ms"),
            (Wake::Commit, "woken on commit"),
        ] {
            let latencies = order_to_notification(&amqp, &topology, &queue, wake).await;
            println!(
                "order → notification, 1000 orders at 200/s, {name:<19} (round {round}): \
                 p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                percentile(&latencies, 0.5),
                percentile(&latencies, 0.99),
                percentile(&latencies, 1.0),
            );
        }
    }
    remove(&channel, &topology, &queue).await;
}
