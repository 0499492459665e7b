//! An order page, composed from orders and notifications. The order is
//! what the page is about; the notifications are a detail.

use std::time::Duration;

use serde::Deserialize;

/// Where the page's data comes from, and how long it waits for the detail.
#[derive(Debug, Clone)]
pub struct Sources {
    pub http: reqwest::Client,
    /// Orders' base URL, e.g. `http://127.0.0.1:8003`.
    pub orders: String,
    /// Notifications' base URL.
    pub notifications: String,
    /// How long the page waits for notifications.
    pub budget: Duration,
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    pub status: String,
    pub notifications: Notes,
}

/// The notifications part of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notes {
    Shown(Vec<String>),
    /// Notifications did not answer in time, or answered an error.
    Unavailable,
}

/// Why there is no page at all.
#[derive(Debug, thiserror::Error)]
#[error("no order to show: {0}")]
pub struct PageError(pub String);

#[derive(Deserialize)]
pub struct OrderBody {
    pub status: String,
}

#[derive(Deserialize)]
pub struct NotificationList {
    pub notifications: Vec<NotificationBody>,
}

#[derive(Deserialize)]
pub struct NotificationBody {
    pub message: String,
}

/// `GET {base}{path}`, read as `T`.
pub async fn fetch<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    base: &str,
    path: &str,
) -> Result<T, String> {
    let response = http
        .get(format!("{base}{path}"))
        .send()
        .await
        .map_err(|err| err.to_string())?;
    let response = response.error_for_status().map_err(|err| err.to_string())?;
    response.json().await.map_err(|err| err.to_string())
}

// ANCHOR: solution
/// The page for order `id`: both parts asked at once, so the page waits
/// for the slower of the two, and the notifications at most `budget`.
pub async fn order_page(sources: &Sources, id: i64) -> Result<OrderPage, PageError> {
    let (order_path, notes_path) = (
        format!("/v1/orders/{id}"),
        format!("/v1/notifications?order_id={id}"),
    );
    let order = fetch::<OrderBody>(&sources.http, &sources.orders, &order_path);
    let notifications = tokio::time::timeout(
        sources.budget,
        fetch::<NotificationList>(&sources.http, &sources.notifications, &notes_path),
    );
    let (order, notifications) = tokio::join!(order, notifications);
    // The order is the page: without it, there is nothing to show.
    let order = order.map_err(PageError)?;
    // The notifications are a detail: late or failed, the page goes on.
    let notifications = match notifications {
        Ok(Ok(list)) => Notes::Shown(list.notifications.into_iter().map(|n| n.message).collect()),
        Ok(Err(_)) | Err(_) => Notes::Unavailable,
    };
    Ok(OrderPage {
        status: order.status,
        notifications,
    })
}
// ANCHOR_END: solution
