//! What the storefront reads from the catalog and inventory, in types of
//! its own. Like orders in chapter 2, it is a tolerant reader: it names
//! only the fields it shows, so a field added upstream breaks nothing.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use ch02_communication::catalog_client::Locate;
use serde::Deserialize;
use serde::de::DeserializeOwned;

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
}

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
        let base = self
            .locate
            .locate()
            .ok_or(UpstreamError::NoInstance(self.name))?;
        let url = format!("{}{path_and_query}", base.trim_end_matches('/'));
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|err| UpstreamError::Unreachable(self.name, err.to_string()))?;
        match response.status() {
            status if status.is_success() => {}
            StatusCode::NOT_FOUND => return Err(UpstreamError::NotFound(self.name)),
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
