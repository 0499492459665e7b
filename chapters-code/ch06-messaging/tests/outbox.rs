//! The transactional outbox and its relay, against a real RabbitMQ.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use ch02_communication::catalog_client::{CatalogBook, PriceList};
use ch02_communication::orders::OrderStore;
use ch02_communication::orders::model::{NewLine, NewOrder};
use ch05_soa::orders::store::{self as orders_store, Outcome, SagaStore, Step};
use ch06_messaging::events::Envelope;
use ch06_messaging::outbox::relay::{self, RelayConfig, Wake};
use ch06_messaging::outbox::{MIGRATOR, Outbox};
use ch06_messaging::topology::Topology;
use futures_util::StreamExt;
use lapin::options::{BasicConsumeOptions, ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, Consumer};
use testkit::TempDb;
use tokio::net::{TcpListener, TcpStream};

struct Orders {
    db: TempDb,
    outbox: Outbox,
    store: OrderStore,
    sagas: SagaStore,
}

async fn orders_db() -> Orders {
    let db = TempDb::new();
    let outbox = Outbox::open(&db.url()).await.unwrap();
    let (store, sagas) = orders_store::open_with(&db.url(), Some(&MIGRATOR))
        .await
        .unwrap();
    Orders {
        db,
        outbox,
        store,
        sagas,
    }
}

async fn place(orders: &Orders) -> i64 {
    let order = NewOrder {
        customer: "ada".to_owned(),
        lines: vec![NewLine {
            book_id: 1,
            quantity: 1,
        }],
    };
    let book = CatalogBook {
        id: 1,
        title: "The Rust Programming Language".to_owned(),
        price_cents: 3999,
    };
    let prices = PriceList {
        found: HashMap::from([(1, book)]),
        missing: Vec::new(),
    };
    match orders.store.create(&order, &prices, None).await.unwrap() {
        ch02_communication::orders::store::CreateOutcome::Created(order) => order.id,
        other => panic!("{other:?}"),
    }
}

fn envelopes(events: &[ch06_messaging::outbox::PendingEvent]) -> Vec<Envelope> {
    events
        .iter()
        .map(|event| serde_json::from_str(&event.envelope).unwrap())
        .collect()
}

// ANCHOR: atomic
#[tokio::test]
async fn an_event_commits_with_its_change_or_not_at_all() {
    let orders = orders_db().await;
    let id = place(&orders).await;
    orders
        .sagas
        .load_or_begin(id, Duration::from_secs(30))
        .await
        .unwrap();
    orders
        .sagas
        .advance(id, Step::Compensate, Some("the payment was declined"))
        .await
        .unwrap();
    orders.sagas.finish(id, Outcome::Cancelled).await.unwrap();

    let events = envelopes(&orders.outbox.pending(10).await.unwrap());
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["order.placed", "order.cancelled"]);
    assert_eq!(events[1].subject, id.to_string());
    assert_eq!(events[1].data["reason"], "the payment was declined");
    assert_ne!(events[0].id, events[1].id, "every event has its own id");

    // A change that rolls back takes its event with it.
    let second = place(&orders).await;
    let pool = sqlx::SqlitePool::connect(&orders.db.url()).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("UPDATE orders SET status = 'confirmed' WHERE id = ?1")
        .bind(second)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let kinds: Vec<String> = envelopes(&orders.outbox.pending(10).await.unwrap())
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["order.placed", "order.cancelled", "order.placed"]);
}
// ANCHOR_END: atomic

/// A queue of this test's own on an exchange of this test's own.
struct Listener {
    connection: Connection,
    channel: Channel,
    topology: Topology,
    queue: String,
    consumer: Consumer,
}

async fn listen(topology: Topology) -> Listener {
    let connection = testkit::amqp::connect().await.expect("a RabbitMQ broker");
    let channel = connection.create_channel().await.unwrap();
    let queue = testkit::unique_name("ch06.outbox-test");
    topology
        .declare_queue(
            &channel,
            &queue,
            &["order.*"],
            testkit::amqp::test_queue_arguments(),
        )
        .await
        .unwrap();
    let consumer = channel
        .basic_consume(
            queue.as_str().into(),
            "outbox-test".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    Listener {
        connection,
        channel,
        topology,
        queue,
        consumer,
    }
}

impl Listener {
    /// The next `n` message ids, within `within`.
    async fn take(&mut self, n: usize, within: Duration) -> Vec<String> {
        let mut ids = Vec::new();
        while ids.len() < n {
            let delivery = tokio::time::timeout(within, self.consumer.next())
                .await
                .unwrap_or_else(|_| panic!("only {} of {n} events arrived", ids.len()))
                .unwrap()
                .unwrap();
            let envelope: Envelope = serde_json::from_slice(&delivery.data).unwrap();
            let message_id = delivery.properties.message_id().clone().unwrap();
            assert_eq!(message_id.as_str(), envelope.id);
            ids.push(envelope.id);
        }
        ids
    }

    async fn nothing_more(&mut self) {
        let more = tokio::time::timeout(Duration::from_millis(300), self.consumer.next()).await;
        assert!(more.is_err(), "an event arrived that was not pending");
    }

    async fn delete(self) {
        let dead = ch06_messaging::topology::dead_letter_queue(&self.queue);
        for queue in [&self.queue, &dead] {
            self.channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await
                .unwrap();
        }
        for exchange in [&self.topology.events, &self.topology.dead_letter] {
            self.channel
                .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                .await
                .unwrap();
        }
        self.connection.close(200, "done".into()).await.unwrap();
    }
}

fn test_topology() -> Topology {
    Topology {
        events: testkit::unique_name("ch06.events"),
        dead_letter: testkit::unique_name("ch06.dead-letter"),
    }
}

async fn event_ids(outbox: &Outbox) -> BTreeSet<String> {
    outbox
        .pending(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|event| event.event_id)
        .collect()
}

async fn until_sent(outbox: &Outbox) {
    for _ in 0..100 {
        if outbox.pending_count().await.unwrap() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the outbox never emptied");
}

#[tokio::test]
async fn the_relay_publishes_exactly_the_pending_events() {
    let orders = orders_db().await;
    let topology = test_topology();
    let mut listener = listen(topology.clone()).await;
    for _ in 0..3 {
        place(&orders).await;
    }
    let pending = event_ids(&orders.outbox).await;

    let mut config = RelayConfig::new(testkit::amqp::amqp_addr().await.unwrap());
    config.topology = topology;
    let relay_stop = CancellationToken::new();
    let relay = tokio::spawn(relay::run(
        orders.outbox.clone(),
        config,
        relay_stop.clone(),
    ));

    let received: BTreeSet<String> = listener
        .take(3, Duration::from_secs(10))
        .await
        .into_iter()
        .collect();
    assert_eq!(received, pending);
    until_sent(&orders.outbox).await;
    listener.nothing_more().await;
    relay_stop.cancel();
    relay.await.unwrap();
    listener.delete().await;
}

// ANCHOR: woken
/// Chapter 7: with `Wake::Commit`, a committed event goes out at once,
/// although the relay's poll here is a minute.
#[tokio::test]
async fn a_relay_woken_on_commit_does_not_wait_for_its_poll() {
    let orders = orders_db().await;
    let topology = test_topology();
    let mut listener = listen(topology.clone()).await;
    let mut config = RelayConfig::new(testkit::amqp::amqp_addr().await.unwrap());
    config.topology = topology;
    config.idle = Duration::from_secs(60);
    config.wake = Wake::Commit;
    let relay_stop = CancellationToken::new();
    let relay = tokio::spawn(relay::run(
        orders.outbox.clone(),
        config,
        relay_stop.clone(),
    ));
    // The first order is published by the relay's first look; after it,
    // the outbox is empty and the relay asleep for a minute.
    place(&orders).await;
    listener.take(1, Duration::from_secs(10)).await;
    until_sent(&orders.outbox).await;

    place(&orders).await;
    listener.take(1, Duration::from_secs(5)).await;
    relay_stop.cancel();
    relay.await.unwrap();
    listener.delete().await;
}
// ANCHOR_END: woken

/// A TCP proxy to the broker that a test can cut and restore: a broker
/// outage without stopping the broker every other test uses.
struct Cable {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    cut: Arc<tokio::sync::Notify>,
}

impl Cable {
    async fn to(broker: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let cut = Arc::new(tokio::sync::Notify::new());
        let (up_, cut_) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up_.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let broker = broker.clone();
                let cut = cut_.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&broker).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        () = cut.notified() => {}
                    }
                });
            }
        });
        Self { addr, up, cut }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `amqp://user:pass@host:port/vhost` → `host:port`, and the same URI
/// pointing at `addr` instead.
fn through(uri: &str, addr: std::net::SocketAddr) -> (String, String) {
    let after_at = uri.rsplit_once('@').map_or(uri, |(_, rest)| rest);
    let host_port = after_at.split('/').next().unwrap().to_owned();
    (
        host_port.clone(),
        uri.replacen(&host_port, &addr.to_string(), 1),
    )
}

// ANCHOR: outage
#[tokio::test]
async fn events_written_while_the_broker_is_away_arrive_after_it_returns() {
    let orders = orders_db().await;
    let topology = test_topology();
    let mut listener = listen(topology.clone()).await;
    let uri = testkit::amqp::amqp_addr().await.unwrap();
    let (broker, _) = through(&uri, "127.0.0.1:1".parse().unwrap());
    let cable = Cable::to(broker).await;
    let (_, via_cable) = through(&uri, cable.addr);

    // ANCHOR: outage_cut
    let mut config = RelayConfig::new(via_cable);
    config.topology = topology;
    config.max_backoff = Duration::from_millis(500);
    let relay_stop = CancellationToken::new();
    let relay = tokio::spawn(relay::run(
        orders.outbox.clone(),
        config,
        relay_stop.clone(),
    ));
    place(&orders).await;
    listener.take(1, Duration::from_secs(10)).await;
    // Confirmed and marked: otherwise the cut can fall between the
    // delivery and the confirm, and that event is (rightly) sent again.
    until_sent(&orders.outbox).await;

    cable.cut();
    for _ in 0..5 {
        place(&orders).await; // orders keeps taking orders
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let waiting = event_ids(&orders.outbox).await;
    assert_eq!(waiting.len(), 5, "the events wait in the outbox");

    cable.restore();
    let arrived: BTreeSet<String> = listener
        .take(5, Duration::from_secs(15))
        .await
        .into_iter()
        .collect();
    assert_eq!(arrived, waiting, "every one of them, after the outage");
    until_sent(&orders.outbox).await;
    // ANCHOR_END: outage_cut
    relay_stop.cancel();
    relay.await.unwrap();
    listener.delete().await;
}
// ANCHOR_END: outage
