//! Notifications' contract: generated from the code, checked in under
//! `openapi/`, served at `/openapi.json`, and held by schemathesis with
//! every check against the running service.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use ch01_autonomy::server;
use ch06_messaging::notifications::{self, store::NotificationStore};
use serde_json::Value;
use testkit::{TempDb, TestServer, schemathesis};

fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi/notifications.json")
}

fn pretty() -> String {
    serde_json::to_string_pretty(&notifications::openapi()).unwrap() + "\n"
}

#[test]
fn the_document_matches_the_checked_in_contract() {
    schemathesis::assert_checked_in("notifications", &checked_in(), &pretty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_holds_under_generated_requests() {
    // The API alone: what it answers does not depend on the consumer.
    let db = TempDb::new();
    let store = NotificationStore::open(&db.url()).await.unwrap();
    let router = notifications::router(store, Arc::new(AtomicBool::new(false)));
    let api = TestServer::start(|l, s| server::serve(l, router, s)).await;

    let served: Value = reqwest::get(api.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served, serde_json::from_str::<Value>(&pretty()).unwrap());
    let summary = schemathesis::check(
        "notifications",
        &api.url("/openapi.json"),
        &["x-bookshop-user: ada"],
    )
    .await;
    eprintln!("schemathesis notifications: {summary}");
}
