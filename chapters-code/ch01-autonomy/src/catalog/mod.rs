//! The **catalog** service: books, authors and prices.
//!
//! It owns its data: its own SQLite database, created and migrated by the
//! service itself, which no other service touches. Other services learn
//! about books only through this HTTP API.

pub mod http;
pub mod model;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;

pub use http::router;
pub use store::{BookStore, StoreError};

use crate::server;

// ANCHOR: config
/// How a catalog process is configured: flags, with environment fallbacks.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "catalog", about = "The Bookshop catalog service", version)]
pub struct Config {
    /// Address to listen on; use port 0 to let the OS pick a free port.
    #[arg(long, env = "CATALOG_LISTEN", default_value = "127.0.0.1:8002")]
    pub listen: SocketAddr,

    /// The catalog's own database; created and migrated on start.
    #[arg(
        long,
        env = "CATALOG_DATABASE_URL",
        default_value = "sqlite://data/catalog.sqlite"
    )]
    pub database_url: String,

    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "CATALOG_BODY_LIMIT", default_value_t = 64 * 1024)]
    pub body_limit: usize,
}
// ANCHOR_END: config

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: BookStore,
}

// ANCHOR: app
/// A catalog, ready to serve: its store plus the settings of its router.
#[derive(Debug, Clone)]
pub struct App {
    state: AppState,
    body_limit: usize,
}

impl App {
    pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

    /// Opens the catalog's database (creating and migrating it).
    pub async fn open(database_url: &str) -> Result<Self, StoreError> {
        let store = BookStore::open(database_url).await?;
        Ok(Self {
            state: AppState { store },
            body_limit: Self::DEFAULT_BODY_LIMIT,
        })
    }

    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    pub fn store(&self) -> &BookStore {
        &self.state.store
    }

    /// The routes wrapped in the layers every service has.
    pub fn into_router(self) -> Router {
        self.into_router_with(Router::new())
    }

    /// The extension point for later chapters: the catalog's routes plus
    /// `extra` ones (e.g. a gRPC API), all inside the common layers.
    pub fn into_router_with(self, extra: Router) -> Router {
        server::with_common_layers(router(self.state).merge(extra), self.body_limit)
    }
}
// ANCHOR_END: app

// ANCHOR: run
/// Runs a catalog process until `shutdown` completes: what the `catalog`
/// binary and the `bookshop` launcher both call.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_with(config, shutdown, |_app| Router::new()).await
}

/// [`run`], with extra routes built from the opened [`App`].
pub async fn run_with(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
    extra_routes: impl FnOnce(&App) -> Router,
) -> anyhow::Result<()> {
    // Bind first: a taken port fails fast and leaves no database file behind.
    let listener = bind(&config).await?;
    serve_on(listener, config, shutdown, extra_routes).await
}
// ANCHOR_END: run

/// Binds the configured address, with an error that says how to change it.
pub async fn bind(config: &Config) -> Result<tokio::net::TcpListener, server::BindError> {
    server::bind(config.listen, "CATALOG_LISTEN").await
}

// ANCHOR: serve_on
/// Opens the database and serves on a listener bound already: for
/// callers that need the bound address first (to register it, say).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
    extra_routes: impl FnOnce(&App) -> Router,
) -> anyhow::Result<()> {
    let app = App::open(&config.database_url)
        .await
        .with_context(|| format!("cannot open the catalog database {}", config.database_url))?
        .with_body_limit(config.body_limit);
    let extra = extra_routes(&app);
    server::serve(listener, app.into_router_with(extra), shutdown).await?;
    Ok(())
}
// ANCHOR_END: serve_on
