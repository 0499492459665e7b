//! What the storefront reads from the catalog and inventory, in types of
//! its own. Like orders in chapter 2, it is a tolerant reader: it names
//! only the fields it shows, so a field added upstream breaks nothing.
//! Orders and notifications are called for a shopper: as the gateway
//! would, the storefront says who in `x-bookshop-user`.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use ch02_communication::catalog_client::Locate;
use ch04_gateway::caller::USER_HEADER;
use reqwest::RequestBuilder;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

// ANCHOR: types
/// A book as a page shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct Book {
    pub id: i64,
    pub title: String,
    pub author: String,
    #[serde(default)]
    pub published_year: Option<i64>,
    pub price_cents: i64,
}

#[derive(Debug, Deserialize)]
struct BookList {
    books: Vec<Book>,
}

#[derive(Debug, Deserialize)]
struct Stock {
    quantity: i64,
}
// ANCHOR_END: types

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("no {0} instance is known")]
    NoInstance(&'static str),
    #[error("{0} did not answer: {1}")]
    Unreachable(&'static str, String),
    #[error("{0} answered {1}")]
    Status(&'static str, StatusCode),
    #[error("{0} answered something unreadable: {1}")]
    Unreadable(&'static str, String),
    #[error("{0} has no such thing")]
    NotFound(&'static str),
    /// A 4xx with a problem+json body: the request was wrong, and the
    /// service said why (a taken username, a password too short).
    #[error("{service} refused ({status}): {}", problem.detail)]
    Refused {
        service: &'static str,
        status: StatusCode,
        problem: ProblemBody,
    },
}

// ANCHOR: problem
/// What the storefront reads of a problem+json answer: the sentence for
/// a person, and which form field was wrong.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProblemBody {
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub errors: Vec<FieldProblem>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}
// ANCHOR_END: problem

/// One service the storefront reads from: where it is, and a pooled
/// HTTP client with a timeout.
#[derive(Debug, Clone)]
pub struct Upstream {
    name: &'static str,
    locate: Arc<dyn Locate>,
    http: reqwest::Client,
}

impl Upstream {
    pub fn new(
        name: &'static str,
        locate: Arc<dyn Locate>,
        timeout: Duration,
    ) -> Result<Self, UpstreamError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|err| UpstreamError::Unreachable(name, err.to_string()))?;
        Ok(Self { name, locate, http })
    }

    /// `GET {base}{path_and_query}`, read as `T`.
    async fn get<T: DeserializeOwned>(&self, path_and_query: &str) -> Result<T, UpstreamError> {
        self.call(Method::GET, path_and_query, |request| request)
            .await
    }

    /// `method {base}{path_and_query}`, as `build` completes it, read as `T`.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path_and_query: &str,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<T, UpstreamError> {
        let base = self
            .locate
            .locate()
            .ok_or(UpstreamError::NoInstance(self.name))?;
        let url = format!("{}{path_and_query}", base.trim_end_matches('/'));
        let response = build(self.http.request(method, url))
            .send()
            .await
            .map_err(|err| UpstreamError::Unreachable(self.name, err.to_string()))?;
        match response.status() {
            status if status.is_success() => {}
            StatusCode::NOT_FOUND => return Err(UpstreamError::NotFound(self.name)),
            status if status.is_client_error() => {
                let problem = response.json().await.unwrap_or_default();
                return Err(UpstreamError::Refused {
                    service: self.name,
                    status,
                    problem,
                });
            }
            status => return Err(UpstreamError::Status(self.name, status)),
        }
        response
            .json()
            .await
            .map_err(|err| UpstreamError::Unreadable(self.name, err.to_string()))
    }
}

/// The catalog's public, read-only API.
#[derive(Debug, Clone)]
pub struct Catalog(pub Upstream);

impl Catalog {
    /// Books whose title or author contains `query` (all books when it is
    /// blank), at most `limit`.
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<Book>, UpstreamError> {
        let q: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
        let list: BookList = self
            .0
            .get(&format!("/v1/books?q={q}&limit={limit}"))
            .await?;
        Ok(list.books)
    }

    pub async fn book(&self, id: i64) -> Result<Book, UpstreamError> {
        self.0.get(&format!("/v1/books/{id}")).await
    }
}

/// Inventory's stock levels.
#[derive(Debug, Clone)]
pub struct Inventory(pub Upstream);

impl Inventory {
    /// Copies of book `id` on hand.
    pub async fn stock(&self, id: i64) -> Result<i64, UpstreamError> {
        let stock: Stock = self.0.get(&format!("/v1/stock/{id}")).await?;
        Ok(stock.quantity)
    }
}

/// A signed-in shopper's access token, as identity issues it.
#[derive(Debug, Clone, Deserialize)]
pub struct Token {
    pub access_token: String,
    /// Seconds until it expires: the session cookie lives as long.
    pub expires_in: u64,
}

/// Identity: sign-up and tokens. Called from the storefront itself (the
/// password goes from the browser to the storefront to identity, and the
/// token comes back the same way into a cookie).
#[derive(Debug, Clone)]
pub struct Identity(pub Upstream);

impl Identity {
    pub async fn sign_up(&self, username: &str, password: &str) -> Result<(), UpstreamError> {
        let body = serde_json::json!({"username": username, "password": password});
        let _user: serde::de::IgnoredAny = self
            .0
            .call(Method::POST, "/v1/users", |request| request.json(&body))
            .await?;
        Ok(())
    }

    pub async fn token(&self, username: &str, password: &str) -> Result<Token, UpstreamError> {
        let body = serde_json::json!({"username": username, "password": password});
        self.0
            .call(Method::POST, "/v1/token", |request| request.json(&body))
            .await
    }
}

// ANCHOR: order_types
/// An order as the pages show it.
#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    pub id: i64,
    pub status: String,
    #[serde(default)]
    pub cancel_reason: Option<String>,
    pub lines: Vec<OrderLine>,
    pub total_cents: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OrderLine {
    pub title: String,
    pub unit_price_cents: i64,
    pub quantity: i64,
}

#[derive(Debug, Deserialize)]
struct OrderList {
    orders: Vec<Order>,
}

/// A line of a new order: a book and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLine {
    pub book_id: i64,
    pub quantity: i64,
}
// ANCHOR_END: order_types

/// Orders, called for a shopper. The gateway vouched for who they are;
/// the storefront passes that on in the same header the gateway uses,
/// and orders decides what this shopper may see, as for any caller.
#[derive(Debug, Clone)]
pub struct Orders(pub Upstream);

impl Orders {
    // ANCHOR: place
    /// Places `lines` for `shopper`. `idempotency_key` makes a resent form
    /// (a double click, a retry after a timeout) place one order.
    pub async fn place(
        &self,
        shopper: &str,
        lines: &[NewLine],
        idempotency_key: &str,
    ) -> Result<Order, UpstreamError> {
        let body = serde_json::json!({"customer": shopper, "lines": lines});
        self.0
            .call(Method::POST, "/v1/orders", |request| {
                request
                    .header(USER_HEADER, shopper)
                    .header("idempotency-key", idempotency_key)
                    .json(&body)
            })
            .await
    }
    // ANCHOR_END: place

    /// One of `shopper`'s orders; someone else's is [`UpstreamError::NotFound`].
    pub async fn get(&self, shopper: &str, id: i64) -> Result<Order, UpstreamError> {
        self.0
            .call(Method::GET, &format!("/v1/orders/{id}"), |request| {
                request.header(USER_HEADER, shopper)
            })
            .await
    }

    /// `shopper`'s orders, newest first.
    pub async fn list(&self, shopper: &str) -> Result<Vec<Order>, UpstreamError> {
        let list: OrderList = self
            .0
            .call(Method::GET, "/v1/orders", |request| {
                request.header(USER_HEADER, shopper)
            })
            .await?;
        Ok(list.orders)
    }
}

/// What happened to an order, in words for the shopper.
#[derive(Debug, Clone, Deserialize)]
pub struct Notification {
    pub event_id: String,
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Deserialize)]
struct NotificationList {
    notifications: Vec<Notification>,
}

/// Notifications, called for a shopper, like [`Orders`].
#[derive(Debug, Clone)]
pub struct Notifications(pub Upstream);

impl Notifications {
    /// `shopper`'s notifications about `order_id`, oldest first.
    pub async fn for_order(
        &self,
        shopper: &str,
        order_id: i64,
    ) -> Result<Vec<Notification>, UpstreamError> {
        let list: NotificationList = self
            .0
            .call(
                Method::GET,
                &format!("/v1/notifications?order_id={order_id}"),
                |request| request.header(USER_HEADER, shopper),
            )
            .await?;
        Ok(list.notifications)
    }
}
