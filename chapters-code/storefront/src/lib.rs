//! The **storefront**: Bookshop's pages for people, as a backend for
//! frontend (BFF).
//!
//! A browser asks one question per page ("show me this book"); the
//! storefront turns it into the calls that page needs (the catalog for
//! the book, inventory for its stock), makes them in parallel, and
//! answers with HTML. It owns no data: everything it shows belongs to
//! another service, and when one of them is slow or down, the page says
//! so instead of failing ([`compose`]).

pub mod compose;
pub mod pages;
pub mod security;
pub mod upstream;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use ch01_autonomy::{health, server};
use ch02_communication::catalog_client::Locate;
use ch03_registry::discovery::cache::Discovery;
use ch03_registry::services::{self as chapter3, RegistryFlags};

use self::compose::Shop;
use self::upstream::{Catalog, Inventory, Upstream};

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on; use port 0 to let the OS pick a free port.
    #[arg(long, env = "STOREFRONT_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,

    /// The catalog's base URL. Without it, the catalog is found in the
    /// registry, like every other service finds the services it calls.
    #[arg(long, env = "STOREFRONT_CATALOG_URL")]
    pub catalog_url: Option<String>,

    /// Inventory's base URL; found in the registry when absent.
    #[arg(long, env = "STOREFRONT_INVENTORY_URL")]
    pub inventory_url: Option<String>,

    /// Milliseconds a page waits for the catalog before it gives up.
    #[arg(long, env = "STOREFRONT_CATALOG_TIMEOUT_MS", default_value_t = 2000)]
    pub catalog_timeout_ms: u64,

    /// Milliseconds a book page waits for its stock. Past it, the page is
    /// sent without: "stock unknown" beats no page.
    #[arg(long, env = "STOREFRONT_STOCK_BUDGET_MS", default_value_t = 300)]
    pub stock_budget_ms: u64,
}

/// Where the storefront finds the services it reads from.
#[derive(Debug, Clone)]
pub struct Upstreams {
    pub catalog: Arc<dyn Locate>,
    pub inventory: Arc<dyn Locate>,
}

/// The storefront's routes inside the common layers of every service.
pub fn router(config: &Config, upstreams: Upstreams) -> anyhow::Result<Router> {
    let catalog_timeout = Duration::from_millis(config.catalog_timeout_ms);
    let stock_budget = Duration::from_millis(config.stock_budget_ms);
    let shop = Shop {
        catalog: Catalog(Upstream::new(
            "catalog",
            upstreams.catalog,
            catalog_timeout,
        )?),
        // The client's own timeout is a backstop; the page's budget is
        // shorter and is what the shopper waits.
        inventory: Inventory(Upstream::new(
            "inventory",
            upstreams.inventory,
            catalog_timeout,
        )?),
        stock_budget,
    };
    let health = Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready));
    let pages = security::with_browser_headers(pages::routes(Arc::new(shop)));
    Ok(server::with_common_layers(pages.merge(health), 16 * 1024))
}

/// Ready as soon as it answers: the storefront keeps nothing of its own,
/// and a page without one of its sources still renders.
async fn ready() -> axum::Json<health::Health> {
    axum::Json(health::Health { status: "ready" })
}

/// The storefront process: its own settings plus how to reach the
/// registry (to register, and to find the catalog and inventory).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "storefront",
    about = "The Bookshop storefront: pages for people",
    version
)]
pub struct ProcessConfig {
    #[command(flatten)]
    pub storefront: Config,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

/// Runs a storefront process, registered, until `shutdown` completes.
pub async fn run(
    config: ProcessConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = server::bind(config.storefront.listen, "STOREFRONT_LISTEN").await?;
    let registry = config.registry.client().await?;
    let locate = |fixed: &Option<String>, service: &str| -> Arc<dyn Locate> {
        match fixed {
            Some(url) => Arc::new(url.clone()),
            None => Arc::new(Discovery::start(registry.clone(), service)),
        }
    };
    let upstreams = Upstreams {
        catalog: locate(&config.storefront.catalog_url, "catalog"),
        inventory: locate(&config.storefront.inventory_url, "inventory"),
    };
    let router = router(&config.storefront, upstreams)?;
    chapter3::serve_registered(
        listener,
        &config.registry,
        "storefront",
        shutdown,
        |l, s| async move {
            server::serve(l, router, s).await?;
            Ok(())
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::ProcessConfig::command().debug_assert();
    }
}
