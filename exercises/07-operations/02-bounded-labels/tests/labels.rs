//! A real server counts its requests with `count_requests`, and serves
//! the process's metrics on `/metrics` (chapter 7's recorder); the test
//! reads them as Prometheus would.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::middleware::from_fn;
use axum::routing::get;
use ex07_bounded_labels::{REQUESTS, count_requests};
use testkit::TestServer;

/// A book for ids up to 900, a 404 beyond.
async fn book(Path(id): Path<u32>) -> Result<String, StatusCode> {
    if id <= 900 {
        Ok(format!("book {id}"))
    } else {
        Err(StatusCode::NOT_FOUND)
    }
}

async fn shop() -> TestServer {
    ch07_operations::metrics::install().unwrap();
    let routes = Router::new()
        .route("/books/{id}", get(book))
        .route_layer(from_fn(count_requests))
        .route("/metrics", get(ch07_operations::metrics::render));
    TestServer::router(routes).await
}

/// The lines of `REQUESTS` in the metrics page: one per series.
async fn series(server: &TestServer) -> Vec<String> {
    let page = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    page.lines()
        .filter(|line| line.starts_with(&format!("{REQUESTS}{{")))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_thousand_books_make_no_more_series_than_one() {
    let server = shop().await;
    let http = reqwest::Client::new();
    for id in 1..=1000 {
        http.get(server.url(&format!("/books/{id}")))
            .send()
            .await
            .unwrap();
    }
    let series = series(&server).await;
    // One series for the books found, one for those not found.
    assert!(
        series.len() <= 2,
        "{} series for one route: {:?}…",
        series.len(),
        &series[..series.len().min(5)]
    );
}

#[tokio::test]
async fn the_labels_name_the_route_and_the_status_class() {
    let server = shop().await;
    for id in [1, 2, 999] {
        reqwest::get(server.url(&format!("/books/{id}")))
            .await
            .unwrap();
    }
    let series = series(&server).await;
    let has = |labels: &[&str]| {
        series
            .iter()
            .any(|line| labels.iter().all(|label| line.contains(label)))
    };
    assert!(
        has(&[r#"route="/books/{id}""#, r#"status="2xx""#]),
        "{series:?}"
    );
    assert!(
        has(&[r#"route="/books/{id}""#, r#"status="4xx""#]),
        "{series:?}"
    );
}
