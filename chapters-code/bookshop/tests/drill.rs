//! DRILL: restarts the local RabbitMQ (`rabbitmqctl stop_app` / `start_app`)
//! in the middle of 1 000 orders through the gateway, and checks that every
//! order's events reach notifications: 0 lost, 0 duplicated.
//!
//! It is `#[ignore]`d because it stops the broker that every other test
//! uses; `cargo xtask test` runs it on its own after the other tests:
//! `cargo test -p bookshop --test drill -- --ignored`.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const BOOKSHOP: &str = env!("CARGO_BIN_EXE_bookshop");
const ORDERS: usize = 1000;
const WORKERS: usize = 8;

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn rabbitmqctl(action: &str) {
    let status = Command::new("rabbitmqctl")
        .arg(action)
        .stdout(Stdio::null())
        .status()
        .await
        .expect("rabbitmqctl (the drill restarts the local broker)");
    assert!(status.success(), "rabbitmqctl {action}");
}

// ANCHOR: drill
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a drill: restarts the local RabbitMQ; `cargo xtask test` runs it alone"]
async fn a_broker_restart_loses_no_event_and_duplicates_none() {
    let data = tempfile::tempdir().unwrap();
    let (gateway, notifications) = (free_port(), free_port());
    let queue = testkit::unique_name("drill.notifications");
    let mut launcher = Command::new(BOOKSHOP)
        .env("NOTIFICATIONS_QUEUE", &queue)
        // If the test fails before it deletes the queue, the broker does.
        .env("NOTIFICATIONS_QUEUE_EXPIRES_MS", "60000")
        .env("GATEWAY_RATE_BURST", "100000")
        .env("GATEWAY_RATE_PER_SECOND", "100000")
        .args(["--gateway-port", &gateway.to_string()])
        .args(["--notifications-port", &notifications.to_string()])
        .args(["--registry-port", &free_port().to_string()])
        .args(["--identity-port", &free_port().to_string()])
        .args(["--catalog-port", &free_port().to_string()])
        .args(["--orders-port", &free_port().to_string()])
        .args(["--inventory-port", &free_port().to_string()])
        .args(["--payments-port", &free_port().to_string()])
        .arg("--data-dir")
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(data.path().join("services.log")).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(launcher.stdout.take().unwrap()).lines();
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = stdout.next_line().await.unwrap() {
            if line.contains("Bookshop is running") {
                return;
            }
        }
        panic!("the launcher stopped");
    })
    .await
    .expect("the launcher starts within 60 s");
    // Keep reading, so the launcher never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });

    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{gateway}");
    let token: Value = http
        .post(format!("{base}/api/identity/token"))
        .json(&json!({"username": "demo", "password": "bookshop-demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();

    // 1 000 orders from 8 workers; the broker goes away at order 300 and
    // comes back at order 600. Orders never notices.
    let placed = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        let (http, base, token, placed) =
            (http.clone(), base.clone(), token.clone(), placed.clone());
        workers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            while placed.fetch_add(1, Ordering::SeqCst) < ORDERS {
                let book = 1 + (ids.len() + worker) % 22;
                let order: Value = http
                    .post(format!("{base}/api/orders"))
                    .bearer_auth(&token)
                    .json(
                        &json!({"customer": "drill", "lines": [{"book_id": book, "quantity": 1}]}),
                    )
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                ids.push(order["id"].as_i64().expect("an order id"));
            }
            ids
        }));
    }
    while placed.load(Ordering::SeqCst) < 300 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    rabbitmqctl("stop_app").await;
    while placed.load(Ordering::SeqCst) < 600 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    rabbitmqctl("start_app").await;
    rabbitmqctl("await_startup").await;
    let mut order_ids = Vec::new();
    for worker in workers {
        order_ids.extend(worker.await.unwrap());
    }
    assert_eq!(order_ids.len(), ORDERS);

    // Every order: `order.placed`, then `order.confirmed` or
    // `order.cancelled`, each exactly once.
    let mut missing: HashMap<i64, usize> = HashMap::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while std::time::Instant::now() < deadline {
        missing.clear();
        for id in &order_ids {
            let list: Value = http
                .get(format!(
                    "http://127.0.0.1:{notifications}/v1/notifications?order_id={id}"
                ))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let mut kinds: Vec<&str> = list["notifications"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["kind"].as_str().unwrap())
                .collect();
            kinds.sort_unstable();
            assert!(kinds.len() <= 2, "order {id}: {kinds:?}");
            if kinds.len() < 2 {
                missing.insert(*id, kinds.len());
            } else {
                assert!(
                    kinds == ["order.cancelled", "order.placed"]
                        || kinds == ["order.confirmed", "order.placed"],
                    "order {id}: {kinds:?}"
                );
            }
        }
        if missing.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if !missing.is_empty() {
        let log = std::fs::read_to_string(data.path().join("services.log")).unwrap_or_default();
        let warnings: Vec<&str> = log
            .lines()
            .filter(|line| line.contains("WARN") || line.contains("ERROR"))
            .collect();
        let tail = warnings[warnings.len().saturating_sub(40)..].join("\n");
        panic!(
            "events lost for {} orders; the services warned:\n{tail}",
            missing.len()
        );
    }
    // ANCHOR_END: drill

    let pid = i32::try_from(launcher.id().unwrap()).unwrap();
    kill(Pid::from_raw(pid), Signal::SIGINT).unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(20), launcher.wait()).await;
    let connection = testkit::amqp::connect().await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    for name in [queue.clone(), format!("{queue}.dead-letter")] {
        channel
            .queue_delete(name.as_str().into(), Default::default())
            .await
            .unwrap();
    }
}
