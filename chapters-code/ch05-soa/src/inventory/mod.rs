//! The **inventory** service: how many copies of each book are on hand,
//! and reservations that hold copies for an order until it is confirmed
//! (sold) or released (given back).

pub mod http;
pub mod model;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use ch01_autonomy::server;

pub use store::InventoryStore;

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "inventory", about = "The Bookshop inventory service", version)]
pub struct Config {
    /// Address to listen on; use port 0 to let the OS pick a free port.
    #[arg(long, env = "INVENTORY_LISTEN", default_value = "127.0.0.1:8004")]
    pub listen: SocketAddr,

    /// The inventory's own database; created and migrated on start.
    #[arg(
        long,
        env = "INVENTORY_DATABASE_URL",
        default_value = "sqlite://data/inventory.sqlite"
    )]
    pub database_url: String,
}

/// The inventory's routes in the common layers.
pub async fn app(database_url: &str) -> anyhow::Result<(InventoryStore, Router)> {
    let store = InventoryStore::open(database_url)
        .await
        .with_context(|| format!("cannot open the inventory database {database_url}"))?;
    let router = server::with_common_layers(http::router(store.clone()), 64 * 1024);
    Ok((store, router))
}

pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = server::bind(config.listen, "INVENTORY_LISTEN").await?;
    let (_store, router) = app(&config.database_url).await?;
    server::serve(listener, router, shutdown).await?;
    Ok(())
}
