//! The point of chapter 1: a catalog owns its data, runs alone, and two
//! instances live side by side without knowing about each other.

mod common;

use std::time::Duration;

use axum::routing::get;
use ch01_autonomy::catalog::http::BookList;
use ch01_autonomy::catalog::model::Book;
use common::{SEEDED_BOOKS, expect_problem, spawn_catalog};
use serde_json::json;
use testkit::{TempDb, TestServer};

// ANCHOR: two_instances
#[tokio::test]
async fn two_instances_run_side_by_side_each_with_its_own_data() {
    let first = spawn_catalog().await;
    let second = spawn_catalog().await;
    assert_ne!(first.server.addr(), second.server.addr());

    let created: Book = reqwest::Client::new()
        .post(first.server.url("/v1/books"))
        .json(&json!({"title": "Only in the first", "author": "A. Writer", "price_cents": 999}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let in_second = reqwest::get(second.server.url(&format!("/v1/books/{}", created.id)))
        .await
        .unwrap();
    assert_eq!(
        in_second.status(),
        404,
        "the second instance has its own database"
    );
    // ANCHOR_END: two_instances
    let totals = [&first, &second].map(|c| c.server.url("/v1/books"));
    let first_total = reqwest::get(&totals[0])
        .await
        .unwrap()
        .json::<BookList>()
        .await
        .unwrap()
        .total;
    let second_total = reqwest::get(&totals[1])
        .await
        .unwrap()
        .json::<BookList>()
        .await
        .unwrap()
        .total;
    assert_eq!(
        (first_total, second_total),
        (SEEDED_BOOKS + 1, SEEDED_BOOKS)
    );
}

#[tokio::test]
async fn a_restarted_instance_keeps_its_data() {
    let db = TempDb::new();
    let app = ch01_autonomy::catalog::App::open(&db.url()).await.unwrap();
    app.store()
        .create(&ch01_autonomy::catalog::model::NewBook {
            title: "Persistent".to_owned(),
            author: "Disk".to_owned(),
            published_year: None,
            price_cents: 1,
        })
        .await
        .unwrap();
    app.store().close().await;

    // Opening again re-runs migrations (a no-op) and finds the data.
    let reopened = ch01_autonomy::catalog::App::open(&db.url()).await.unwrap();
    let query = ch01_autonomy::catalog::store::BookQuery {
        text: Some("Persistent".to_owned()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(reopened.store().list(&query).await.unwrap().total, 1);
}

// ANCHOR: readiness
#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let catalog = spawn_catalog().await;
    let ready = catalog.server.url("/health/ready");
    assert_eq!(reqwest::get(&ready).await.unwrap().status(), 200);

    catalog.app.store().close().await;

    expect_problem(reqwest::get(&ready).await.unwrap(), 503).await;
    let live = reqwest::get(catalog.server.url("/health/live"))
        .await
        .unwrap();
    assert_eq!(live.status(), 200, "the process itself is still alive");
    let books = reqwest::get(catalog.server.url("/v1/books")).await.unwrap();
    expect_problem(books, 503).await;
}
// ANCHOR_END: readiness

// ANCHOR: graceful_shutdown
#[tokio::test]
async fn shutdown_waits_for_the_request_in_flight() {
    let db = TempDb::new();
    let app = ch01_autonomy::catalog::App::open(&db.url()).await.unwrap();
    // The real catalog router, plus one slow route to stand for slow work.
    let router = app.into_router().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            "done"
        }),
    );
    let server = TestServer::start(|listener, shutdown| {
        ch01_autonomy::server::serve(listener, router, shutdown)
    })
    .await;
    let slow_url = server.url("/slow");
    let books_url = server.url("/v1/books");

    let in_flight = tokio::spawn(async move { reqwest::get(slow_url).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.stop().await.expect("a clean shutdown");

    let response = in_flight
        .await
        .unwrap()
        .expect("the slow request completed");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "done");
    assert!(
        reqwest::get(books_url).await.is_err(),
        "no new connections after shutdown"
    );
}
// ANCHOR_END: graceful_shutdown
