//! DRILLS: faults on purpose, as tests. An instance killed under load, a
//! slow instance, and a broker or registry that is not there when a
//! service starts.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use testkit::TempDb;
use testkit::proxy::FaultProxy;

/// What one worker saw: answers by upstream instance, and failures.
#[derive(Debug, Default)]
struct Tally {
    by_instance: BTreeMap<String, usize>,
    failed: Vec<String>,
}

/// GETs a book through the gateway until `stop`, as a signed-in user (so
/// the gateway's cache, which serves only anonymous GETs, stays out of it).
async fn keep_reading(url: String, token: String, stop: Arc<AtomicBool>) -> Tally {
    let http = reqwest::Client::new();
    let mut tally = Tally::default();
    while !stop.load(Ordering::Relaxed) {
        match http.get(&url).bearer_auth(&token).send().await {
            Ok(answer) if answer.status() == 200 => {
                let instance = answer.headers()["x-bookshop-upstream"]
                    .to_str()
                    .unwrap_or("?");
                *tally.by_instance.entry(instance.to_owned()).or_default() += 1;
            }
            Ok(answer) => tally.failed.push(answer.status().to_string()),
            Err(err) => tally.failed.push(err.to_string()),
        }
    }
    tally
}

// ANCHOR: kill
#[tokio::test]
async fn killing_one_of_two_catalogs_under_load_fails_no_request() {
    let unlimited = [
        ("GATEWAY_RATE_BURST", "100000"),
        ("GATEWAY_RATE_PER_SECOND", "100000"),
    ];
    let shop = common::shop(&unlimited).await;
    let db = TempDb::new();
    let mut second = shop.start_catalog(&db).await;
    let token = shop.demo_token().await;
    let url = shop.gateway.url("/api/catalog/books/1");

    // Load from four workers; the gateway spreads it over both catalogs.
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| tokio::spawn(keep_reading(url.clone(), token.clone(), stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    second.kill().await.unwrap(); // SIGKILL: no deregistration, no goodbye
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    // ANCHOR_END: kill

    // ANCHOR: kill_check
    let mut total = Tally::default();
    for worker in workers {
        let tally = worker.await.unwrap();
        total.failed.extend(tally.failed);
        for (instance, count) in tally.by_instance {
            *total.by_instance.entry(instance).or_default() += count;
        }
    }
    println!("answers by instance: {:?}", total.by_instance);
    assert_eq!(
        total.by_instance.len(),
        2,
        "both catalogs served: {total:?}"
    );
    assert!(total.by_instance.values().sum::<usize>() > 100, "{total:?}");
    assert_eq!(total.failed, Vec::<String>::new(), "every GET answered 200");

    // Not luck: the gateway met the dead instance, retried elsewhere, and
    // its breaker for the dead instance opened.
    let metrics = reqwest::get(shop.gateway.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let retried = sample(&metrics, r#"gateway_retries_total{outcome="retried"}"#);
    println!("retried on the other catalog: {retried}");
    assert!(retried >= 1.0, "{metrics}");
    let open = metrics
        .lines()
        .filter(|l| l.starts_with("gateway_breaker_open{") && l.ends_with(" 1"));
    assert_eq!(open.count(), 1, "one breaker open: {metrics}");
    shop.clean_up().await;
}
// ANCHOR_END: kill_check

/// The value of `series` in a Prometheus text page (0 if absent).
fn sample(page: &str, series: &str) -> f64 {
    page.lines()
        .find_map(|line| line.strip_prefix(series))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn status(url: &str) -> u16 {
    reqwest::get(url)
        .await
        .map_or(0, |answer| answer.status().as_u16())
}

/// Sends one GET at a time until two instances have answered: alone, a
/// request meets two idle instances and picks either.
async fn wait_until_both_answer(url: &str, token: &str) {
    let http = reqwest::Client::new();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..200 {
        if let Ok(answer) = http.get(url).bearer_auth(token).send().await
            && let Some(instance) = answer.headers().get("x-bookshop-upstream")
        {
            seen.insert(instance.to_str().unwrap_or("?").to_owned());
        }
        if seen.len() == 2 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("only {seen:?} answered");
}

/// Whether `url` answers 200 within 15 s.
async fn becomes_ready(url: &str) -> bool {
    for _ in 0..150 {
        if status(url).await == 200 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

// ANCHOR: broker_down
#[tokio::test]
async fn a_service_started_without_its_broker_becomes_ready_when_it_comes() {
    let broker_url = testkit::amqp::amqp_addr().await.unwrap();
    let broker: SocketAddr = "127.0.0.1:5672".parse().unwrap();
    assert!(
        broker_url.contains("127.0.0.1:5672"),
        "this drill needs the local broker: {broker_url}"
    );
    let cable = FaultProxy::start(broker).await.unwrap();
    cable.set_down(true);
    let via_cable = format!("amqp://guest:guest@{}/%2f", cable.addr());
    let queue = testkit::unique_name("ch07.drill.notifications");
    let env: common::Env = vec![
        ("AMQP_ADDR".into(), via_cable),
        ("NOTIFICATIONS_QUEUE".into(), queue),
        ("NOTIFICATIONS_QUEUE_EXPIRES_MS".into(), "60000".into()),
    ];
    let registry = common::start("registry", vec![], &env).await;
    let db = TempDb::new();
    let args = vec![
        "--database-url".to_owned(),
        db.url(),
        "--registry-url".to_owned(),
        registry.base_url().to_owned(),
    ];
    // Waited on until live: it starts although the broker isn't there…
    let notifications = common::start_live("notifications", args, &env).await;
    let ready = notifications.url("/health/ready");
    assert_eq!(status(&ready).await, 503, "…and says it is not ready");

    cable.set_down(false); // the broker "comes back"
    assert!(
        becomes_ready(&ready).await,
        "not ready 15 s after the broker came back"
    );
}
// ANCHOR_END: broker_down

// ANCHOR: registry_down
#[tokio::test]
async fn a_gateway_started_without_its_registry_becomes_ready_when_it_comes() {
    let env = common::Env::new();
    let registry = common::start("registry", vec![], &env).await;
    let db = TempDb::new();
    let catalog_args = vec![
        "--database-url".to_owned(),
        db.url(),
        "--registry-url".to_owned(),
        registry.base_url().to_owned(),
    ];
    let _catalog = common::start("catalog", catalog_args, &env).await;
    let cable = FaultProxy::start(registry.addr()).await.unwrap();
    cable.set_down(true);
    let via_cable = vec!["--registry-url".to_owned(), cable.base_url()];
    // The gateway starts although it cannot reach the registry…
    let gateway = common::start_live("gateway", via_cable, &env).await;
    let ready = gateway.url("/health/ready");
    assert_eq!(status(&ready).await, 503, "…and says it is not ready");

    cable.set_down(false); // the registry "comes back"
    assert!(
        becomes_ready(&ready).await,
        "not ready 15 s after the registry came back"
    );
    let book = status(&gateway.url("/api/catalog/books/1")).await;
    assert_eq!(book, 200, "and it found the catalog");
}
// ANCHOR_END: registry_down

// ANCHOR: slow
#[tokio::test]
async fn a_slow_catalog_gets_a_small_share_of_the_load() {
    let unlimited = [
        ("GATEWAY_RATE_BURST", "100000"),
        ("GATEWAY_RATE_PER_SECOND", "100000"),
    ];
    let shop = common::shop(&unlimited).await;
    // A second catalog, advertised at a proxy that delays each request
    // by 20 ms: the gateway only knows the proxy's address.
    let mut slow = FaultProxy::bind().await.unwrap();
    slow.set_delay(Duration::from_millis(20));
    let db = TempDb::new();
    let args = vec![
        "--database-url".to_owned(),
        db.url(),
        "--registry-url".to_owned(),
        shop.registry.base_url().to_owned(),
        "--advertise-url".to_owned(),
        slow.base_url(),
    ];
    let second = common::start("catalog", args, &Vec::new()).await;
    slow.forward_to(second.addr());
    let token = shop.demo_token().await;
    let url = shop.gateway.url("/api/catalog/books/1");
    wait_until_both_answer(&url, &token).await;

    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| tokio::spawn(keep_reading(url.clone(), token.clone(), stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    // ANCHOR_END: slow

    // ANCHOR: slow_check
    let mut by_instance = BTreeMap::<String, usize>::new();
    for worker in workers {
        let tally = worker.await.unwrap();
        assert_eq!(tally.failed, Vec::<String>::new());
        for (instance, count) in tally.by_instance {
            *by_instance.entry(instance).or_default() += count;
        }
    }
    let total: usize = by_instance.values().sum();
    // Instance ids start with the service and the port it binds.
    let slow_id = format!("catalog-{}-", second.addr().port());
    let to_slow: usize = by_instance
        .iter()
        .filter(|(id, _)| id.starts_with(&slow_id))
        .map(|(_, count)| count)
        .sum();
    let share = to_slow as f64 / total as f64;
    println!(
        "slow instance: {to_slow} of {total} requests ({:.1} %); by instance: {by_instance:?}",
        share * 100.0
    );
    assert!(to_slow > 0, "the slow instance was still tried");
    // Round robin would send it half; two choices sends it what it can take.
    assert!(
        share < 0.25,
        "power of two choices kept load off the slow one"
    );
    shop.clean_up().await;
}
// ANCHOR_END: slow_check
