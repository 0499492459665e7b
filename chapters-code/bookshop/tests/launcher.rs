//! `cargo run -p bookshop` as a user runs it: start everything, use it,
//! Ctrl-C, and everything is gone.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use ch03_registry::discovery::Registry;
use ch03_registry::discovery::etcd::EtcdRegistry;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use testkit::bookshop::notification_kinds;
use testkit::browser::Browser;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const BOOKSHOP: &str = env!("CARGO_BIN_EXE_bookshop");

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Stops a launcher the way Ctrl-C does when a test ends early (a failed
/// assertion). `kill_on_drop` alone would SIGKILL the launcher and leave
/// its services running, holding ports and the broker's queues.
struct CtrlCOnDrop(Pid);

impl Drop for CtrlCOnDrop {
    fn drop(&mut self) {
        if kill(self.0, Signal::SIGINT).is_err() {
            return; // already gone
        }
        for _ in 0..100 {
            if kill(self.0, None).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Starts `command` with `--data-dir data` and waits (at most 60 s) for
/// its banner; its standard output, read up to the banner, comes back too.
async fn start_launcher(
    command: &mut Command,
    data: &Path,
) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut launcher = command
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(launcher.stdout.take().unwrap()).lines();
    let banner = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = stdout.next_line().await.unwrap() {
            if line.contains("Bookshop is running") {
                return true;
            }
        }
        false
    })
    .await
    .expect("the launcher starts within 60 s");
    assert!(banner, "the launcher exited before its banner");
    (launcher, stdout)
}

#[tokio::test]
async fn starts_every_service_and_stops_them_on_ctrl_c() {
    let data = tempfile::tempdir().unwrap();
    let (registry_port, catalog_port, orders_port) = (free_port(), free_port(), free_port());
    let (identity_port, gateway_port) = (free_port(), free_port());
    let (inventory_port, payments_port) = (free_port(), free_port());
    let (notifications_port, storefront_port) = (free_port(), free_port());
    // A queue of this run's own, deleted at the end: the real one may hold
    // a reader's events.
    let queue = testkit::unique_name("launcher.notifications");
    let inventory_queue = testkit::unique_name("launcher.inventory");
    let mut command = Command::new(BOOKSHOP);
    command
        .env("NOTIFICATIONS_QUEUE", &queue)
        .env("INVENTORY_QUEUE", &inventory_queue)
        // If the test fails before it deletes the queues, the broker does.
        .env("NOTIFICATIONS_QUEUE_EXPIRES_MS", "60000")
        .env("INVENTORY_QUEUE_EXPIRES_MS", "60000")
        .args(["--notifications-port", &notifications_port.to_string()])
        .args(["--inventory-port", &inventory_port.to_string()])
        .args(["--payments-port", &payments_port.to_string()])
        .args(["--gateway-port", &gateway_port.to_string()])
        .args(["--identity-port", &identity_port.to_string()])
        .args(["--registry-port", &registry_port.to_string()])
        .args(["--catalog-port", &catalog_port.to_string()])
        .args(["--orders-port", &orders_port.to_string()])
        .args(["--storefront-port", &storefront_port.to_string()]);
    let (mut launcher, mut stdout) = start_launcher(&mut command, data.path()).await;
    let _stop = CtrlCOnDrop(Pid::from_raw(
        i32::try_from(launcher.id().unwrap()).unwrap(),
    ));

    let book = reqwest::get(format!("http://127.0.0.1:{catalog_port}/v1/books/1"))
        .await
        .unwrap();
    assert_eq!(book.status(), 200);
    assert!(
        data.path().join("catalog.sqlite").exists(),
        "data lives under --data-dir"
    );

    // Every service registered itself (the registry is where they look).
    let expected = json!({"catalog": 1, "gateway": 1, "identity": 1, "inventory": 1,
                          "notifications": 1, "orders": 1, "payments": 1, "storefront": 1});
    let mut services = Value::Null;
    for _ in 0..50 {
        services = reqwest::get(format!("http://127.0.0.1:{registry_port}/v1/services"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if services["services"] == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(services["services"], expected, "all eight registered");

    // Chapter 7: every service serves its metrics.
    for port in [
        registry_port,
        identity_port,
        gateway_port,
        catalog_port,
        orders_port,
        inventory_port,
        payments_port,
        notifications_port,
        storefront_port,
    ] {
        let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
            .await
            .unwrap();
        assert_eq!(metrics.status(), 200, "/metrics on port {port}");
        let page = metrics.text().await.unwrap();
        assert!(
            page.contains("http_server_requests_total"),
            "port {port}:\n{page}"
        );
    }

    // The catalog registered itself; orders finds it through the registry.
    let listing: Value = reqwest::get(format!(
        "http://127.0.0.1:{registry_port}/v1/services/catalog"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        listing["instances"][0]["address"],
        format!("http://127.0.0.1:{catalog_port}")
    );
    let placed = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{orders_port}/v1/orders"))
        // Straight to orders, as the gateway would call it for ada.
        .header("x-bookshop-user", "ada")
        .json(&json!({"customer": "ada", "lines": [{"book_id": 1, "quantity": 2}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), 201);
    let placed: Value = placed.json().await.unwrap();
    assert_eq!(placed["status"], "confirmed", "checked out: {placed}");

    // A shopper's first page: the storefront, through the gateway.
    let page = reqwest::get(format!("http://127.0.0.1:{gateway_port}/shop/books/1"))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("The Rust Programming Language"), "{page}");
    assert!(page.contains("In stock"), "{page}");

    let token = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{identity_port}/v1/token"))
        .json(&json!({"username": "demo", "password": "bookshop-demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200, "the demo user can log in");

    // The whole journey through the gateway: a token, then an order.
    let token: Value = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{gateway_port}/api/identity/token"
        ))
        .json(&json!({"username": "demo", "password": "bookshop-demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let through_gateway = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{gateway_port}/api/orders"))
        .bearer_auth(&token)
        .json(&json!({"customer": "demo", "lines": [{"book_id": 3, "quantity": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(through_gateway.status(), 201);
    let checked_out: Value = through_gateway.json().await.unwrap();
    assert_eq!(checked_out["status"], "confirmed", "{checked_out}");
    let paid: Value = reqwest::get(format!(
        "http://127.0.0.1:{payments_port}/v1/payments/{}",
        checked_out["id"]
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(paid["status"], "approved");
    assert_eq!(paid["amount_cents"], checked_out["total_cents"]);
    let stock: Value = reqwest::get(format!("http://127.0.0.1:{inventory_port}/v1/stock/1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stock["quantity"], 8, "two copies of book 1 sold");

    // The order's events went orders → outbox → relay → RabbitMQ →
    // notifications, which the gateway finds in the registry.
    let public = format!("http://127.0.0.1:{gateway_port}");
    let kinds = notification_kinds(&public, &token, &checked_out["id"], 2).await;
    assert_eq!(kinds, ["order.confirmed", "order.placed"]);

    // A second user sees neither demo's order nor its notifications.
    let grace = json!({"username": "grace", "password": "a-long-password-1"});
    let http = reqwest::Client::new();
    let gateway = |path: &str| format!("http://127.0.0.1:{gateway_port}{path}");
    let signed_up = http
        .post(gateway("/api/identity/users"))
        .json(&grace)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), 201);
    let grace_token: Value = http
        .post(gateway("/api/identity/token"))
        .json(&grace)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let grace_token = grace_token["access_token"].as_str().unwrap();
    let demo_order = http
        .get(gateway(&format!("/api/orders/{}", checked_out["id"])))
        .bearer_auth(grace_token)
        .send()
        .await
        .unwrap();
    assert_eq!(demo_order.status(), 404, "not grace's order");
    let demo_news: Value = http
        .get(gateway(&format!(
            "/api/notifications?order_id={}",
            checked_out["id"]
        )))
        .bearer_auth(grace_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(demo_news["notifications"], json!([]));

    shop_in_a_browser(&public).await;

    let pid = i32::try_from(launcher.id().unwrap()).unwrap();
    kill(Pid::from_raw(pid), Signal::SIGINT).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(20), launcher.wait())
        .await
        .expect("the launcher exits after Ctrl-C")
        .unwrap();
    assert!(status.success(), "exit status {status}");
    let mut rest = Vec::new();
    while let Ok(Some(line)) = stdout.next_line().await {
        rest.push(line);
    }
    for service in [
        "notifications",
        "gateway",
        "storefront",
        "payments",
        "inventory",
        "orders",
        "catalog",
        "identity",
        "registry",
    ] {
        assert!(
            rest.iter()
                .any(|l| l.contains(&format!("{service} stopped"))),
            "{service}: {rest:?}"
        );
    }
    let gone = reqwest::get(format!("http://127.0.0.1:{catalog_port}/v1/books/1")).await;
    assert!(gone.is_err(), "the catalog process is gone");

    let connection = testkit::amqp::connect().await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    for name in [
        queue.clone(),
        format!("{queue}.dead-letter"),
        inventory_queue.clone(),
        format!("{inventory_queue}.dead-letter"),
    ] {
        channel
            .queue_delete(name.as_str().into(), Default::default())
            .await
            .unwrap();
    }
}

/// A new shopper, signed up through the sign-up page's form.
async fn signed_up(public: &str, username: &str) -> Browser {
    let mut browser = Browser::new();
    browser.get(&format!("{public}/shop/sign-up")).await;
    let account = [("username", username), ("password", "a-long-password-1")];
    let (status, _) = browser
        .post(&format!("{public}/shop/sign-up"), &account)
        .await;
    assert_eq!(status, 303, "{username} signs up");
    browser
}

/// The idempotency key a cart page renders into its "Place order" form.
fn order_key(cart: &str) -> &str {
    cart.split("name=\"key\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the cart page carries an idempotency key")
}

// ANCHOR: shop_journey
/// Two shoppers on the storefront's pages, through the gateway: one signs
/// up, orders two books and watches the order settle; the other can see
/// none of it.
async fn shop_in_a_browser(public: &str) {
    let page = |path: &str| format!("{public}{path}");
    let mut ada = signed_up(public, "ada.reader").await;
    let (_, home) = ada.get(&page("/shop")).await;
    assert!(
        home.contains("Signed in as <strong>ada.reader</strong>"),
        "{home}"
    );

    for book in ["1", "3"] {
        let add = [("book_id", book), ("quantity", "1")];
        assert_eq!(ada.post(&page("/shop/cart"), &add).await.0, 303);
    }
    let (_, cart) = ada.get(&page("/shop/cart")).await;
    let key = order_key(&cart);
    // ANCHOR_END: shop_journey

    // ANCHOR: place_order
    let in_cart = ada.cookies["bookshop_cart"].clone();
    let (status, order_page) = ada.post(&page("/shop/orders"), &[("key", key)]).await;
    assert_eq!(status, 303);
    let (_, order) = ada.get(&page(&order_page)).await;
    assert!(order.contains("Confirmed"), "{order}");
    assert!(
        !ada.cookies.contains_key("bookshop_cart"),
        "the cart is emptied"
    );

    // A double click: the second request left with the same cart and key,
    // and lands on the same order.
    ada.cookies.insert("bookshop_cart".to_owned(), in_cart);
    let (status, again) = ada.post(&page("/shop/orders"), &[("key", key)]).await;
    assert_eq!((status, again.as_str()), (303, order_page.as_str()));
    let (_, mine) = ada.get(&page("/shop/orders")).await;
    assert_eq!(mine.matches("href=\"/shop/orders/").count(), 1, "{mine}");
    // ANCHOR_END: place_order

    // A book inventory has none of: the order is cancelled, and says why.
    let none_left = [("book_id", "23"), ("quantity", "1")];
    assert_eq!(ada.post(&page("/shop/cart"), &none_left).await.0, 303);
    let (_, cart) = ada.get(&page("/shop/cart")).await;
    let (_, to) = ada
        .post(&page("/shop/orders"), &[("key", order_key(&cart))])
        .await;
    let (_, cancelled) = ada.get(&page(&to)).await;
    assert!(
        cancelled.contains("Cancelled: not enough stock for book 23"),
        "{cancelled}"
    );

    // ANCHOR: second_shopper
    let mut grace = signed_up(public, "grace.reader").await;
    for path in [order_page.clone(), format!("{order_page}/events")] {
        let (status, body) = grace.get(&page(&path)).await;
        assert_eq!(status, 404, "{path} is ada's: {body}");
    }
    let (_, theirs) = grace.get(&page("/shop/orders")).await;
    assert!(theirs.contains("No orders yet"), "{theirs}");

    // A session cookie is the gateway's to read: a forged one is nobody.
    let mut mallory = Browser::new();
    mallory
        .cookies
        .insert("bookshop_session".to_owned(), "e30.e30.forged".to_owned());
    let (status, to) = mallory.get(&page(&order_page)).await;
    assert_eq!((status, to.as_str()), (303, "/shop/sign-in"));
    // ANCHOR_END: second_shopper
}

#[tokio::test]
async fn a_taken_port_is_named_with_the_flag_to_change_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(BOOKSHOP)
        .args(["--registry-port", &free_port().to_string()])
        .args(["--identity-port", &free_port().to_string()])
        .args(["--gateway-port", &free_port().to_string()])
        .args(["--inventory-port", &free_port().to_string()])
        .args(["--payments-port", &free_port().to_string()])
        .args(["--catalog-port", &port.to_string()])
        .args(["--orders-port", &free_port().to_string()])
        .args(["--notifications-port", &free_port().to_string()])
        .args(["--storefront-port", &free_port().to_string()])
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("port {port} (catalog)")),
        "{stderr}"
    );
    assert!(stderr.contains("--catalog-port"), "{stderr}");
    assert!(stderr.contains("BOOKSHOP_CATALOG_PORT"), "{stderr}");
}

#[tokio::test]
async fn with_discovery_etcd_every_service_registers_in_etcd() {
    let data = tempfile::tempdir().unwrap();
    let endpoints = testkit::etcd::etcd_endpoints().await.unwrap();
    // A key prefix and queues of this run's own (the broker drops the
    // queues a minute after the run).
    let prefix = format!("/{}", testkit::unique_name("launcher"));
    let mut command = Command::new(BOOKSHOP);
    command
        .args([
            "--discovery",
            "etcd",
            "--etcd-endpoints",
            &endpoints.join(","),
        ])
        .env("ETCD_PREFIX", &prefix)
        .env(
            "NOTIFICATIONS_QUEUE",
            testkit::unique_name("launcher.notifications"),
        )
        .env(
            "INVENTORY_QUEUE",
            testkit::unique_name("launcher.inventory"),
        )
        .env("NOTIFICATIONS_QUEUE_EXPIRES_MS", "60000")
        .env("INVENTORY_QUEUE_EXPIRES_MS", "60000");
    let mut gateway_port = 0;
    for service in ["REGISTRY", "IDENTITY", "GATEWAY", "INVENTORY"]
        .into_iter()
        .chain([
            "PAYMENTS",
            "CATALOG",
            "ORDERS",
            "NOTIFICATIONS",
            "STOREFRONT",
        ])
    {
        let port = free_port();
        if service == "GATEWAY" {
            gateway_port = port;
        }
        command.env(format!("BOOKSHOP_{service}_PORT"), port.to_string());
    }
    let (mut launcher, _stdout) = start_launcher(&mut command, data.path()).await;
    let _stop = CtrlCOnDrop(Pid::from_raw(
        i32::try_from(launcher.id().unwrap()).unwrap(),
    ));

    // All eight are in etcd, and the gateway finds the catalog there.
    let etcd = EtcdRegistry::connect_under(&endpoints, &prefix)
        .await
        .unwrap();
    let mut counts = Vec::new();
    for _ in 0..50 {
        counts.clear();
        for service in ["identity", "catalog", "inventory", "payments"]
            .into_iter()
            .chain(["orders", "notifications", "gateway", "storefront"])
        {
            counts.push(etcd.instances(service).await.unwrap().instances.len());
        }
        if counts.iter().all(|&count| count == 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(counts, [1; 8], "instances in etcd per service");
    let book = reqwest::get(format!(
        "http://127.0.0.1:{gateway_port}/api/catalog/books/1"
    ))
    .await
    .unwrap();
    assert_eq!(book.status(), 200);

    let pid = i32::try_from(launcher.id().unwrap()).unwrap();
    kill(Pid::from_raw(pid), Signal::SIGINT).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(20), launcher.wait()).await;
    assert!(status.expect("exits after Ctrl-C").unwrap().success());
}
