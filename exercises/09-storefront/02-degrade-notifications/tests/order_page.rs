//! Real servers for orders and notifications on 127.0.0.1:0: one that
//! answers, one that is gone, one that takes five seconds.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use ex09_degrade_notifications::{Notes, OrderPage, Sources, order_page};
use serde_json::json;
use testkit::TestServer;

async fn orders() -> TestServer {
    let order = || async { axum::Json(json!({"id": 7, "status": "confirmed"})) };
    TestServer::router(Router::new().route("/v1/orders/{id}", get(order))).await
}

/// Notifications that answer after `delay`.
async fn notifications(delay: Duration) -> TestServer {
    let list = move || async move {
        tokio::time::sleep(delay).await;
        axum::Json(json!({"notifications": [
            {"message": "We have your order 7."},
            {"message": "Order 7 is confirmed and paid."}
        ]}))
    };
    TestServer::router(Router::new().route("/v1/notifications", get(list))).await
}

/// A base URL where nothing listens any more.
async fn gone() -> String {
    let server = notifications(Duration::ZERO).await;
    let url = server.base_url().to_owned();
    server.stop().await.unwrap();
    url
}

fn sources(orders: &str, notifications: &str) -> Sources {
    Sources {
        http: reqwest::Client::new(),
        orders: orders.to_owned(),
        notifications: notifications.to_owned(),
        budget: Duration::from_millis(300),
    }
}

#[tokio::test]
async fn the_page_shows_the_order_and_its_notifications() {
    let (orders, notifications) = (orders().await, notifications(Duration::ZERO).await);
    let page = order_page(&sources(orders.base_url(), notifications.base_url()), 7)
        .await
        .unwrap();
    assert_eq!(
        page,
        OrderPage {
            status: "confirmed".to_owned(),
            notifications: Notes::Shown(vec![
                "We have your order 7.".to_owned(),
                "Order 7 is confirmed and paid.".to_owned()
            ]),
        }
    );
}

#[tokio::test]
async fn with_notifications_gone_the_page_still_shows_the_order() {
    let orders = orders().await;
    let page = order_page(&sources(orders.base_url(), &gone().await), 7)
        .await
        .expect("a page without its notifications");
    assert_eq!(page.status, "confirmed");
    assert_eq!(page.notifications, Notes::Unavailable);
}

#[tokio::test]
async fn slow_notifications_cost_the_page_its_budget_not_their_delay() {
    let (orders, slow) = (orders().await, notifications(Duration::from_secs(5)).await);
    let started = Instant::now();
    let page = order_page(&sources(orders.base_url(), slow.base_url()), 7)
        .await
        .expect("a page without its notifications");
    assert_eq!(page.notifications, Notes::Unavailable);
    // Not a speed target: the page must not wait the five seconds.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "the page waited {took:?}");
}

#[tokio::test]
async fn without_the_order_there_is_no_page() {
    let notifications = notifications(Duration::ZERO).await;
    let result = order_page(&sources(&gone().await, notifications.base_url()), 7).await;
    assert!(result.is_err(), "{result:?}");
}
