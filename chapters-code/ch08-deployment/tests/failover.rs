//! The failover drill: Bookshop on a three-member etcd cluster (discovery)
//! and a three-node RabbitMQ cluster (quorum queues), all on loopback.
//! While 1 000 orders flow through the gateway, the etcd leader is killed,
//! then the RabbitMQ node that leads notifications' queue. Every order must
//! get exactly its two notifications, the stock must add up, and discovery
//! must keep answering. The figures are printed, for the chapter.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ch03_registry::discovery::Registry;
use ch03_registry::discovery::etcd::EtcdRegistry;
use futures_util::StreamExt;
use serde_json::{Value, json};
use testkit::broker_node::BrokerCluster;
use testkit::etcd_cluster::EtcdCluster;
use testkit::proxy::Balancer;

const ORDERS: usize = 1000;
const IN_FLIGHT: usize = 8;
const KILL_ETCD_LEADER_AT: usize = 300;
const KILL_QUEUE_LEADER_AT: usize = 600;
/// Books 1 to 22 have ten copies each (inventory's seed).
const BOOKS: u64 = 22;

/// What one order did, as its client saw it.
struct Placed {
    sent_at: jiff::Timestamp,
    took: Duration,
    attempts: u32,
    order: Value,
}

/// Places one order, retrying with the same `Idempotency-Key` when the
/// answer is not 201: a retry can never make a second order.
async fn place(http: &reqwest::Client, gateway: &str, token: &str, n: usize) -> Placed {
    let body =
        json!({"customer": "demo", "lines": [{"book_id": (n as u64 % BOOKS) + 1, "quantity": 1}]});
    let key = testkit::unique_name(&format!("drill-{n}"));
    let (sent_at, started) = (jiff::Timestamp::now(), Instant::now());
    for attempts in 1..=20 {
        let answer = http
            .post(format!("{gateway}/api/orders"))
            .bearer_auth(token)
            .header("Idempotency-Key", &key)
            .json(&body)
            .send()
            .await;
        if let Ok(answer) = answer
            && answer.status() == 201
        {
            let order = answer.json().await.unwrap();
            return Placed {
                sent_at,
                took: started.elapsed(),
                attempts,
                order,
            };
        }
        tokio::time::sleep(Duration::from_millis(100 * u64::from(attempts))).await;
    }
    panic!("order {n} was refused 20 times");
}

/// Stock on hand of books 1 to [`BOOKS`], asked of inventory itself.
async fn stock(http: &reqwest::Client, inventory: &str) -> Vec<i64> {
    let mut quantities = Vec::new();
    for book in 1..=BOOKS {
        let answer: Value = http
            .get(format!("{inventory}/v1/stock/{book}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        quantities.push(answer["quantity"].as_i64().unwrap());
    }
    quantities
}

/// What the drill measured while it killed the two leaders.
#[derive(Debug, Default)]
struct Failovers {
    etcd_killed_at: usize,
    etcd_new_leader: Duration,
    queue_killed_at: usize,
    queue_new_leader: Duration,
    /// When each kill happened, to find the orders placed around it.
    kill_times: Vec<jiff::Timestamp>,
}

/// Waits for the orders to reach each mark, then kills the leader.
async fn kill_leaders(
    done: &AtomicUsize,
    etcd: &mut EtcdCluster,
    rabbit: &mut BrokerCluster,
    queue: &str,
) -> Failovers {
    let mut figures = Failovers::default();
    while done.load(Ordering::SeqCst) < KILL_ETCD_LEADER_AT {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let leader = etcd.leader().await.unwrap();
    figures.etcd_killed_at = done.load(Ordering::SeqCst);
    figures.kill_times.push(jiff::Timestamp::now());
    etcd.kill(leader).await.unwrap();
    let (_, took) = etcd
        .wait_for_leader(Some(leader), Duration::from_secs(30))
        .await
        .unwrap();
    figures.etcd_new_leader = took;

    while done.load(Ordering::SeqCst) < KILL_QUEUE_LEADER_AT {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let leader = rabbit.queue_leader(queue).await.unwrap();
    figures.queue_killed_at = done.load(Ordering::SeqCst);
    figures.kill_times.push(jiff::Timestamp::now());
    let killed = Instant::now();
    rabbit.kill(leader).await.unwrap();
    loop {
        match rabbit.queue_leader(queue).await {
            Ok(new) if new != leader => break,
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
        assert!(
            killed.elapsed() < Duration::from_secs(60),
            "no new leader for {queue}"
        );
    }
    figures.queue_new_leader = killed.elapsed();
    figures
}

/// Asks etcd for the catalog's instances every 50 ms until `stop`; returns
/// the longest stretch without an answer that names one.
async fn watch_discovery(registry: &EtcdRegistry, stop: &tokio::sync::Notify) -> Duration {
    let (mut longest, mut last_answer) = (Duration::ZERO, Instant::now());
    loop {
        let lookup = tokio::time::timeout(Duration::from_secs(1), registry.instances("catalog"));
        if let Ok(Ok(found)) = lookup.await
            && !found.instances.is_empty()
        {
            last_answer = Instant::now();
        }
        longest = longest.max(last_answer.elapsed());
        tokio::select! {
            () = stop.notified() => return longest,
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}

// ANCHOR: drill
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_survive_losing_the_etcd_leader_and_the_queue_leader() {
    let mut etcd = EtcdCluster::start(3).await.unwrap();
    let mut rabbit = BrokerCluster::start(3).await.unwrap();
    // The broker's members behind one address, as a Kubernetes Service.
    let members = rabbit.addrs();
    let broker = Balancer::start(members).await.unwrap();
    let amqp = format!("amqp://guest:guest@{}/%2f", broker.addr());
    let prefix = format!("/{}", testkit::unique_name("bookshop-drill"));
    let endpoints = etcd.endpoints().join(",");
    let shop = common::shop(&[
        ("AMQP_ADDR", &amqp),
        ("QUEUE_TYPE", "quorum"),
        ("DISCOVERY", "etcd"),
        ("ETCD_ENDPOINTS", &endpoints),
        ("ETCD_PREFIX", &prefix),
        ("GATEWAY_RATE_BURST", "100000"),
        ("GATEWAY_RATE_PER_SECOND", "100000"),
    ])
    .await;
    let (http, gateway) = (reqwest::Client::new(), shop.gateway.base_url().to_owned());
    let token = shop.demo_token().await;
    let stock_before = stock(&http, shop.inventory.base_url()).await;
    let registry = EtcdRegistry::connect_under(&etcd.endpoints(), &prefix)
        .await
        .unwrap();
    // ANCHOR_END: drill

    // ANCHOR: load
    let done = AtomicUsize::new(0);
    let stop_watching = tokio::sync::Notify::new();
    let load = async {
        let placed: Vec<Placed> = futures_util::stream::iter(0..ORDERS)
            .map(|n| {
                let (http, gateway, token, done) = (&http, &gateway, &token, &done);
                async move {
                    let placed = place(http, gateway, token, n).await;
                    done.fetch_add(1, Ordering::SeqCst);
                    placed
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        stop_watching.notify_one();
        placed
    };
    let queue = shop.notifications_queue().to_owned();
    let (placed, failovers, discovery_gap) = tokio::join!(
        load,
        kill_leaders(&done, &mut etcd, &mut rabbit, &queue),
        watch_discovery(&registry, &stop_watching),
    );
    // ANCHOR_END: load

    // ANCHOR: check
    // Every order has exactly its two notifications: placed, then
    // confirmed or cancelled as the order says.
    let mut to_notification = Vec::new();
    for order in &placed {
        let notes = notifications(&http, &gateway, &token, &order.order["id"]).await;
        let mut kinds: Vec<&str> = notes.iter().map(|(kind, _)| kind.as_str()).collect();
        kinds.sort_unstable();
        let outcome = format!("order.{}", order.order["status"].as_str().unwrap());
        assert_eq!(kinds, [outcome.as_str(), "order.placed"], "{}", order.order);
        let last = notes.iter().map(|(_, at)| *at).max().unwrap();
        to_notification.push((
            order.sent_at,
            last.duration_since(order.sent_at).unsigned_abs(),
        ));
    }
    // The stock adds up: one copy gone for each confirmed order.
    let confirmed = placed
        .iter()
        .filter(|p| p.order["status"] == "confirmed")
        .count();
    let stock_after = stock(&http, shop.inventory.base_url()).await;
    let taken: i64 = stock_before
        .iter()
        .zip(&stock_after)
        .map(|(b, a)| b - a)
        .sum();
    assert_eq!(taken, confirmed as i64, "stock taken vs orders confirmed");
    // Every service is still registered: leases kept alive through both.
    for service in [
        "identity",
        "catalog",
        "inventory",
        "payments",
        "orders",
        "notifications",
    ] {
        let found = instances(&registry, service).await;
        assert_eq!(found, 1, "{service} in etcd after the drill");
    }
    // ANCHOR_END: check

    let mut placing: Vec<Duration> = placed.iter().map(|p| p.took).collect();
    placing.sort();
    // The worst wait for a notification among orders placed in the ten
    // seconds after each kill.
    let worst_after = |kill: jiff::Timestamp| {
        let window = kill..kill + jiff::SignedDuration::from_secs(10);
        let during = to_notification
            .iter()
            .filter(|(sent, _)| window.contains(sent));
        during.map(|(_, took)| *took).max().unwrap_or_default()
    };
    let worst: Vec<String> = failovers
        .kill_times
        .iter()
        .map(|k| ms(worst_after(*k)))
        .collect();
    let mut to_notification: Vec<Duration> = to_notification.iter().map(|(_, d)| *d).collect();
    to_notification.sort();
    let retried = placed.iter().filter(|p| p.attempts > 1).count();
    let slow = placed
        .iter()
        .filter(|p| p.took > Duration::from_secs(1))
        .count();
    println!("failover drill: {ORDERS} orders, {IN_FLIGHT} in flight, through the gateway");
    println!(
        "etcd leader killed after {} orders; a new leader in {}",
        failovers.etcd_killed_at,
        ms(failovers.etcd_new_leader)
    );
    println!(
        "RabbitMQ node leading {queue} killed after {} orders; a new queue leader in {}",
        failovers.queue_killed_at,
        ms(failovers.queue_new_leader)
    );
    println!(
        "orders: {} placed ({confirmed} confirmed, {} cancelled), {retried} retried, {slow} over 1 s",
        placed.len(),
        placed.len() - confirmed
    );
    println!(
        "placing an order: p50 {}, p99 {}, max {}",
        ms(percentile(&placing, 0.5)),
        ms(percentile(&placing, 0.99)),
        ms(percentile(&placing, 1.0))
    );
    println!(
        "order to its last notification: p50 {}, p99 {}, max {}",
        ms(percentile(&to_notification, 0.5)),
        ms(percentile(&to_notification, 0.99)),
        ms(percentile(&to_notification, 1.0))
    );
    println!("discovery's longest silence: {}", ms(discovery_gap));
    println!(
        "worst order-to-notification in the 10 s after each kill: etcd {}, RabbitMQ {}",
        worst[0], worst[1]
    );
    // The queues and exchanges die with the drill's own cluster.
    drop(shop);
}

/// How many instances of `service` etcd lists. The client's channel
/// balances over all three members, the dead one too, so a lookup that
/// lands there is refused and asked again, as a discovery cache would.
async fn instances(registry: &EtcdRegistry, service: &str) -> usize {
    let mut last_error = None;
    for _ in 0..40 {
        match registry.instances(service).await {
            Ok(snapshot) => return snapshot.instances.len(),
            Err(err) => last_error = Some(err),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("etcd does not list {service}: {last_error:?}");
}

/// `order_id`'s notifications, (kind, when it was written), once both of
/// an order's two have arrived (or after 60 s, whatever has).
async fn notifications(
    http: &reqwest::Client,
    gateway: &str,
    token: &str,
    order_id: &Value,
) -> Vec<(String, jiff::Timestamp)> {
    let started = Instant::now();
    loop {
        let list: Value = http
            .get(format!("{gateway}/api/notifications?order_id={order_id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let found: Vec<(String, jiff::Timestamp)> = list["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                let at = n["created_at"].as_str().unwrap().parse().unwrap();
                (n["kind"].as_str().unwrap().to_owned(), at)
            })
            .collect();
        if found.len() >= 2 || started.elapsed() > Duration::from_secs(60) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
