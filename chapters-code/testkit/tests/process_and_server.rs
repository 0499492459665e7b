//! testkit's own helpers, tried on a tiny server.

use axum::Router;
use axum::routing::get;
use testkit::{TempDb, TestServer};

#[tokio::test]
async fn a_test_server_serves_until_stopped() {
    let server = TestServer::router(Router::new().route("/ping", get(|| async { "pong" }))).await;
    let body = reqwest::get(server.url("/ping"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "pong");
    let url = server.url("/ping");
    server.stop().await.unwrap();
    assert!(reqwest::get(url).await.is_err());
}

#[test]
fn temp_databases_are_distinct() {
    let (a, b) = (TempDb::new(), TempDb::new());
    assert_ne!(a.url(), b.url());
    assert!(a.url().starts_with("sqlite://"));
}

#[test]
fn unique_names_are_unique() {
    assert_ne!(testkit::unique_name("q"), testkit::unique_name("q"));
}
