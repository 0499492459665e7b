use std::time::Duration;

use axum::Router;
use axum::routing::get;
use ex02_timeout_503::{client, price_of};
use testkit::TestServer;

/// A catalog that takes `delay` to answer every book.
async fn catalog(delay: Duration) -> TestServer {
    let router = Router::new().route(
        "/v1/books/{id}",
        get(move || async move {
            tokio::time::sleep(delay).await;
            axum::Json(serde_json::json!({"id": 1, "title": "T", "price_cents": 1234}))
        }),
    );
    TestServer::router(router).await
}

#[tokio::test]
async fn a_quick_catalog_gives_the_price() {
    let catalog = catalog(Duration::ZERO).await;
    assert_eq!(
        price_of(&client(), catalog.base_url(), 1).await.unwrap(),
        1234
    );
}

#[tokio::test]
async fn a_slow_catalog_is_a_503_with_retry_after() {
    let catalog = catalog(Duration::from_secs(3)).await;
    let problem = price_of(&client(), catalog.base_url(), 1)
        .await
        .expect_err("a catalog slower than the budget must not be waited for");
    assert_eq!(problem.status, 503);
    assert_eq!(problem.retry_after, Some(1));
}

#[tokio::test]
async fn a_stopped_catalog_is_a_503() {
    let catalog = catalog(Duration::ZERO).await;
    let url = catalog.base_url().to_owned();
    catalog.stop().await.unwrap();
    let problem = price_of(&client(), &url, 1).await.unwrap_err();
    assert_eq!(problem.status, 503);
}
