//! Our registry's HTTP API: auth on writes, bad input, blocking queries.

mod common;

use common::{TOKEN, our_registry};
use serde_json::json;

fn registration() -> serde_json::Value {
    json!({"service": "catalog", "instance_id": "catalog-1", "address": "http://127.0.0.1:8002", "ttl_secs": 10})
}

// ANCHOR: auth
#[tokio::test]
async fn writes_need_the_token_and_reads_do_not() {
    let registry = our_registry().await;
    let url = registry.server.url("/v1/registrations");
    let client = reqwest::Client::new();

    let without = client
        .post(&url)
        .json(&registration())
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), 401);
    let wrong = client
        .post(&url)
        .bearer_auth("guess")
        .json(&registration())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let right = client
        .post(&url)
        .bearer_auth(TOKEN)
        .json(&registration())
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 201);

    let read = reqwest::get(registry.server.url("/v1/services/catalog"))
        .await
        .unwrap();
    assert_eq!(read.status(), 200, "reads are open");
    assert_eq!(
        registry.app.store().len(),
        1,
        "the refused writes stored nothing"
    );
}
// ANCHOR_END: auth

#[tokio::test]
async fn bad_registrations_are_422_problems_naming_the_field() {
    let registry = our_registry().await;
    let client = reqwest::Client::new();
    let big_metadata: serde_json::Map<String, serde_json::Value> =
        (0..20).map(|i| (format!("k{i}"), json!("v"))).collect();
    let cases = [
        (json!({"ttl_secs": 0}), "ttl_secs"),
        (json!({"ttl_secs": 100_000}), "ttl_secs"),
        (json!({"address": "not a url"}), "address"),
        (json!({"address": "http://127.0.0.1"}), "address"),
        (json!({"address": "ftp://127.0.0.1:21"}), "address"),
        (json!({"service": "Has Spaces"}), "service"),
        (json!({"metadata": big_metadata}), "metadata"),
        (json!({"metadata": {"k": "v".repeat(1000)}}), "metadata"),
    ];
    for (change, field) in cases {
        let mut body = registration();
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let response = client
            .post(registry.server.url("/v1/registrations"))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "for {body}");
        let problem: ch01_autonomy::problem::Problem = response.json().await.unwrap();
        assert_eq!(problem.errors[0].field, field, "for {body}");
    }
    assert!(registry.app.store().is_empty());
}

#[tokio::test]
async fn an_unknown_lease_is_a_404_problem() {
    let registry = our_registry().await;
    let client = reqwest::Client::new();
    let url = registry.server.url("/v1/leases/no-such-lease");
    let heartbeat = client.put(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(heartbeat.status(), 404);
    assert_eq!(
        heartbeat.headers()["content-type"],
        "application/problem+json"
    );
    let delete = client.delete(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(delete.status(), 404);
}

#[tokio::test]
async fn a_blocking_query_returns_at_once_when_the_index_is_old() {
    let registry = our_registry().await;
    reqwest::Client::new()
        .post(registry.server.url("/v1/registrations"))
        .bearer_auth(TOKEN)
        .json(&registration())
        .send()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let response = reqwest::get(registry.server.url("/v1/services/catalog?index=0&wait=30"))
        .await
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(response.headers()["x-registry-index"], "1");
    let bad = reqwest::get(registry.server.url("/v1/services/catalog?index=minus"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
