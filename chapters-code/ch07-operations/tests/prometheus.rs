//! A real Prometheus scrapes the launched Bookshop, finding every target
//! through the registry, loads the alert rules, and answers every query of
//! the Grafana dashboard with data. Then `promtool` runs the alerts' unit
//! tests.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

fn crate_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The repository's prometheus.yml, pointed at this test's registry and
/// scraping every second.
fn config(registry: &str) -> String {
    let config = std::fs::read_to_string(crate_file("prometheus/prometheus.yml")).unwrap();
    let alerts = crate_file("prometheus/alerts.yml");
    config
        .replace("127.0.0.1:8500", registry.trim_start_matches("http://"))
        .replace("5s", "1s")
        .replace("  - alerts.yml", &format!("  - {}", alerts.display()))
}

/// Prometheus on a free port with its data in `dir`; killed on drop.
async fn start_prometheus(dir: &Path, registry: &str) -> (Child, String) {
    let config_file = dir.join("prometheus.yml");
    std::fs::write(&config_file, config(registry)).unwrap();
    let address = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config_file.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={address}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("prometheus is not installed: `apt-get install prometheus` (.ci/run does)");
    let base = format!("http://{address}");
    for _ in 0..100 {
        if reqwest::get(format!("{base}/-/ready"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return (child, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("prometheus did not become ready within 10 s");
}

/// `text` as a URL query value: unreserved characters as they are, every
/// other byte as `%XX`.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// Asks `query` until it returns at least one series (15 s at most).
async fn query(base: &str, query: &str) -> Vec<Value> {
    let http = reqwest::Client::new();
    for _ in 0..150 {
        let answer: Value = http
            .get(format!(
                "{base}/api/v1/query?query={}",
                percent_encoded(query)
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["status"], "success", "{query}: {answer}");
        let result = answer["data"]["result"].as_array().unwrap().clone();
        if !result.is_empty() {
            return result;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no data for {query}");
}

/// The scrape targets that are up, by service.
async fn healthy_targets(base: &str, service: &str) -> usize {
    let targets: Value = reqwest::get(format!("{base}/api/v1/targets?state=active"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    targets["data"]["activeTargets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["labels"]["service"] == service && t["health"] == "up")
        .count()
}

async fn wait_for_targets(base: &str, service: &str, count: usize) {
    for _ in 0..150 {
        if healthy_targets(base, service).await >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("prometheus is not scraping {count} {service} instance(s) after 15 s");
}

// ANCHOR: scrape
#[tokio::test]
async fn prometheus_finds_every_service_through_the_registry() {
    let shop = common::shop(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let (_prometheus, base) = start_prometheus(dir.path(), shop.registry.base_url()).await;
    for (service, _) in shop.all() {
        wait_for_targets(&base, service, 1).await;
    }

    // A second catalog registers: Prometheus scrapes it, its configuration untouched.
    let db = testkit::TempDb::new();
    let _second = shop.start_catalog(&db).await;
    wait_for_targets(&base, "catalog", 2).await;
    let up = query(&base, r#"sum(up{job="bookshop",service="catalog"})"#).await;
    assert_eq!(up[0]["value"][1], "2");
    // ANCHOR_END: scrape

    // ANCHOR: dashboard
    // Some traffic, then every panel of the dashboard must show data.
    let token = shop.demo_token().await;
    for _ in 0..3 {
        shop.place_order(&token).await;
    }
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(crate_file("grafana/bookshop.json")).unwrap(),
    )
    .unwrap();
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(panels.len() >= 6, "{} panels", panels.len());
    for panel in panels {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let result = query(&base, expr).await;
            assert!(!result.is_empty(), "{}: {expr}", panel["title"]);
        }
    }
    // ANCHOR_END: dashboard

    // The rule files loaded and evaluate without errors.
    let rules: Value = reqwest::get(format!("{base}/api/v1/rules"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let groups = rules["data"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 4, "{rules}");
    for group in groups {
        for rule in group["rules"].as_array().unwrap() {
            assert_eq!(rule["health"], "ok", "{rule}");
        }
    }
    shop.clean_up().await;
}

// ANCHOR: promtool
#[tokio::test]
async fn the_alerts_pass_their_unit_tests() {
    let output = Command::new("promtool")
        .args(["test", "rules", "alerts.test.yml"])
        .current_dir(crate_file("prometheus"))
        .output()
        .await
        .expect("promtool is not installed: `apt-get install prometheus` (.ci/run does)");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(printed.contains("SUCCESS"), "{printed}");
}
// ANCHOR_END: promtool
