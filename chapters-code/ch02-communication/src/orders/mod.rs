//! The **orders** service: customers place orders for books; orders asks
//! the catalog what they cost and keeps its own record in its own database.

pub mod http;
pub mod idempotency;
pub mod model;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use ch01_autonomy::server;

use crate::catalog_client::{CatalogClient, ClientConfig, Protocol};
pub use store::OrderStore;

// ANCHOR: config
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "orders", about = "The Bookshop orders service", version)]
pub struct Config {
    /// Address to listen on; use port 0 to let the OS pick a free port.
    #[arg(long, env = "ORDERS_LISTEN", default_value = "127.0.0.1:8003")]
    pub listen: SocketAddr,

    /// The orders service's own database; created and migrated on start.
    #[arg(
        long,
        env = "ORDERS_DATABASE_URL",
        default_value = "sqlite://data/orders.sqlite"
    )]
    pub database_url: String,

    /// Where the catalog answers (HTTP and gRPC share the port).
    #[arg(
        long,
        env = "ORDERS_CATALOG_URL",
        default_value = "http://127.0.0.1:8002"
    )]
    pub catalog_url: String,

    /// How to talk to the catalog.
    #[arg(
        long,
        env = "ORDERS_CATALOG_PROTOCOL",
        value_enum,
        default_value = "http"
    )]
    pub catalog_protocol: Protocol,
    // ANCHOR_END: config

    // ANCHOR: config_limits
    /// How long to wait for a connection to the catalog, in milliseconds.
    #[arg(long, env = "ORDERS_CATALOG_CONNECT_TIMEOUT_MS", default_value_t = 500)]
    pub catalog_connect_timeout_ms: u64,

    /// The whole budget for one price lookup, in milliseconds.
    #[arg(long, env = "ORDERS_CATALOG_TIMEOUT_MS", default_value_t = 2000)]
    pub catalog_timeout_ms: u64,

    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "ORDERS_BODY_LIMIT", default_value_t = 64 * 1024)]
    pub body_limit: usize,
}
// ANCHOR_END: config_limits

impl Config {
    pub fn catalog_client_config(&self) -> ClientConfig {
        ClientConfig {
            base_url: self.catalog_url.clone(),
            protocol: self.catalog_protocol,
            connect_timeout: Duration::from_millis(self.catalog_connect_timeout_ms),
            timeout: Duration::from_millis(self.catalog_timeout_ms),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: OrderStore,
    pub catalog: CatalogClient,
}

/// An orders service, ready to serve.
#[derive(Debug, Clone)]
pub struct App {
    state: AppState,
    body_limit: usize,
}

impl App {
    pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

    pub async fn open(database_url: &str, catalog: &ClientConfig) -> anyhow::Result<Self> {
        let catalog = CatalogClient::new(catalog).context("cannot set up the catalog client")?;
        Self::open_with(database_url, catalog).await
    }

    /// With a catalog client built elsewhere (one that finds the catalog
    /// through a registry, say).
    pub async fn open_with(database_url: &str, catalog: CatalogClient) -> anyhow::Result<Self> {
        let store = OrderStore::open(database_url)
            .await
            .with_context(|| format!("cannot open the orders database {database_url}"))?;
        Ok(Self {
            state: AppState { store, catalog },
            body_limit: Self::DEFAULT_BODY_LIMIT,
        })
    }

    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    pub fn store(&self) -> &OrderStore {
        &self.state.store
    }

    pub fn into_router(self) -> Router {
        self.into_router_with(http::router)
    }

    /// The service with routes of a later chapter's, over the same state
    /// and behind the same common layers: how a next version of orders
    /// changes its API without a copy of the rest.
    pub fn into_router_with(self, routes: impl FnOnce(AppState) -> Router) -> Router {
        server::with_common_layers(routes(self.state), self.body_limit)
    }
}

/// Runs an orders process until `shutdown` completes.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = bind(&config).await?;
    let catalog = CatalogClient::new(&config.catalog_client_config())
        .context("cannot set up the catalog client")?;
    tracing::info!(
        catalog = %config.catalog_url,
        protocol = ?config.catalog_protocol,
        "orders asks the catalog for prices"
    );
    serve_on(listener, &config, catalog, shutdown).await
}

/// Binds the configured address, with an error that says how to change it.
pub async fn bind(config: &Config) -> Result<tokio::net::TcpListener, server::BindError> {
    server::bind(config.listen, "ORDERS_LISTEN").await
}

/// Opens the database and serves on a listener bound already.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    config: &Config,
    catalog: CatalogClient,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = App::open_with(&config.database_url, catalog)
        .await?
        .with_body_limit(config.body_limit);
    server::serve(listener, app.into_router(), shutdown).await?;
    Ok(())
}
