//! How orders talks to catalog.
//!
//! The lesson of the chapter is here: a remote call can be slow, refused
//! or wrong, and every one of those outcomes gets a name and an answer.

pub mod grpc;
pub mod http;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

// ANCHOR: dto
/// What orders needs to know about a book: the consumer's own view of the
/// catalog's data. Fields the catalog adds later are ignored (a tolerant
/// reader); a field orders needs that is missing fails clearly.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CatalogBook {
    pub id: i64,
    pub title: String,
    pub price_cents: i64,
}
// ANCHOR_END: dto

/// The answer to "what do these books cost?".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriceList {
    pub found: HashMap<i64, CatalogBook>,
    pub missing: Vec<i64>,
}

// ANCHOR: catalog_error
/// What can go wrong when orders asks catalog, sorted by what the caller
/// should do about it.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Down, refusing connections, or too slow: try again later (503).
    #[error("the catalog is unavailable: {0}")]
    Unavailable(String),
    /// The catalog answered, but wrongly (5xx, or a body we cannot read):
    /// a bad gateway (502).
    #[error("the catalog answered badly: {0}")]
    BadAnswer(String),
    /// The client could not be set up (a bad URL): a bug in configuration.
    #[error("the catalog client is misconfigured: {0}")]
    Misconfigured(String),
}
// ANCHOR_END: catalog_error

/// Which protocol orders uses to reach catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    Http,
    Grpc,
}

/// Where the catalog is and how long orders waits for it.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: String,
    pub protocol: Protocol,
    /// How long to wait for a TCP connection.
    pub connect_timeout: Duration,
    /// The budget for one whole lookup, however many books it needs.
    pub timeout: Duration,
}

/// Where the catalog answers, asked before every lookup: a fixed URL in
/// this chapter, an instance picked from the registry in chapter 3.
pub trait Locate: Send + Sync + std::fmt::Debug + 'static {
    /// A base URL like `http://127.0.0.1:8002`, or `None` when no
    /// instance is known.
    fn locate(&self) -> Option<String>;
}

/// A fixed URL is the simplest locator.
impl Locate for String {
    fn locate(&self) -> Option<String> {
        Some(self.clone())
    }
}

/// The base URL `locator` gives now, or "unavailable".
fn base_url(locator: &dyn Locate) -> Result<String, CatalogError> {
    locator
        .locate()
        .map(|url| url.trim_end_matches('/').to_owned())
        .ok_or_else(|| CatalogError::Unavailable("no catalog instance is known".to_owned()))
}

// ANCHOR: client
/// One client for the life of the process: it pools connections, so
/// repeated calls skip the TCP handshake.
#[derive(Debug, Clone)]
pub struct CatalogClient {
    transport: Transport,
    budget: Duration,
}

#[derive(Debug, Clone)]
enum Transport {
    Http(http::HttpCatalog),
    Grpc(grpc::GrpcCatalog),
}
// ANCHOR_END: client

impl CatalogClient {
    /// A client for the catalog at `config.base_url`.
    pub fn new(config: &ClientConfig) -> Result<Self, CatalogError> {
        Self::with_locator(config, Arc::new(config.base_url.clone()))
    }

    /// A client that asks `locator` where the catalog is before each lookup.
    pub fn with_locator(
        config: &ClientConfig,
        locator: Arc<dyn Locate>,
    ) -> Result<Self, CatalogError> {
        let transport = match config.protocol {
            Protocol::Http => Transport::Http(http::HttpCatalog::new(config, locator)?),
            Protocol::Grpc => Transport::Grpc(grpc::GrpcCatalog::new(config, locator)?),
        };
        Ok(Self {
            transport,
            budget: config.timeout,
        })
    }

    // ANCHOR: lookup
    /// Prices for `ids`, within the time budget or not at all.
    pub async fn lookup(&self, ids: &[i64]) -> Result<PriceList, CatalogError> {
        let lookup = async {
            match &self.transport {
                Transport::Http(client) => client.lookup(ids).await,
                Transport::Grpc(client) => client.lookup(ids).await,
            }
        };
        tokio::time::timeout(self.budget, lookup)
            .await
            .unwrap_or_else(|_elapsed| {
                Err(CatalogError::Unavailable(format!(
                    "no answer within {} ms",
                    self.budget.as_millis()
                )))
            })
    }
    // ANCHOR_END: lookup
}
