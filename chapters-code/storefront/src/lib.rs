//! The **storefront**: Bookshop's pages for people, as a backend for
//! frontend (BFF).
//!
//! A browser asks one question per page ("show me this book"); the
//! storefront turns it into the calls that page needs (the catalog for
//! the book, inventory for its stock), makes them in parallel, and
//! answers with HTML. It owns no data: everything it shows belongs to
//! another service, and when one of them is slow or down, the page says
//! so instead of failing ([`compose`]).
//!
//! Shoppers sign in ([`account`]), fill a cart ([`cart`]) and place
//! orders ([`orders`]); every form is protected against cross-site
//! forgery ([`csrf`]) and every cookie is out of a script's reach
//! ([`session`]).

pub mod account;
pub mod cart;
pub mod compose;
pub mod csrf;
pub mod orders;
pub mod pages;
pub mod security;
pub mod session;
pub mod upstream;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use axum::routing::get;
use ch01_autonomy::{health, server};
use ch02_communication::catalog_client::Locate;
use ch03_registry::discovery::cache::Discovery;
use ch03_registry::services::{self as chapter3, RegistryFlags};

use tokio_util::sync::CancellationToken;

use self::compose::Shop;
use self::session::CookieSettings;
use self::upstream::{Catalog, Identity, Inventory, Notifications, Orders, Upstream};

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

    /// Identity's base URL (sign-up and sign-in); found in the registry when absent.
    #[arg(long, env = "STOREFRONT_IDENTITY_URL")]
    pub identity_url: Option<String>,

    /// Orders' base URL; found in the registry when absent.
    #[arg(long, env = "STOREFRONT_ORDERS_URL")]
    pub orders_url: Option<String>,

    /// Notifications' base URL; found in the registry when absent.
    #[arg(long, env = "STOREFRONT_NOTIFICATIONS_URL")]
    pub notifications_url: Option<String>,

    /// Send cookies over HTTPS only. Keep it on wherever the shop is
    /// served over HTTPS; the launcher turns it off for plain HTTP on
    /// loopback.
    #[arg(
        long,
        env = "STOREFRONT_COOKIE_SECURE",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub cookie_secure: bool,

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
    pub identity: Arc<dyn Locate>,
    pub orders: Arc<dyn Locate>,
    pub notifications: Arc<dyn Locate>,
}

/// The storefront's routes inside the common layers of every service.
/// `closing` ends the live streams when the storefront shuts down.
pub fn router(
    config: &Config,
    upstreams: Upstreams,
    closing: CancellationToken,
) -> anyhow::Result<Router> {
    let timeout = Duration::from_millis(config.catalog_timeout_ms);
    let upstream = |name, locate| Upstream::new(name, locate, timeout);
    let cookies = CookieSettings {
        secure: config.cookie_secure,
    };
    let shop = Shop {
        catalog: Catalog(upstream("catalog", upstreams.catalog)?),
        // The client's own timeout is a backstop; the page's budget is
        // shorter and is what the shopper waits.
        inventory: Inventory(upstream("inventory", upstreams.inventory)?),
        identity: Identity(upstream("identity", upstreams.identity)?),
        orders: Orders(upstream("orders", upstreams.orders)?),
        notifications: Notifications(upstream("notifications", upstreams.notifications)?),
        stock_budget: Duration::from_millis(config.stock_budget_ms),
        cookies,
        closing,
    };
    let health = Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready));
    let pages = pages::routes(Arc::new(shop))
        .layer(middleware::from_fn_with_state(cookies, csrf::issue_token));
    let pages = security::with_browser_headers(pages);
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
    let settings = &config.storefront;
    let upstreams = Upstreams {
        catalog: locate(&settings.catalog_url, "catalog"),
        inventory: locate(&settings.inventory_url, "inventory"),
        identity: locate(&settings.identity_url, "identity"),
        orders: locate(&settings.orders_url, "orders"),
        notifications: locate(&settings.notifications_url, "notifications"),
    };
    let closing = CancellationToken::new();
    let router = router(settings, upstreams, closing.clone())?;
    chapter3::serve_registered(
        listener,
        &config.registry,
        "storefront",
        shutdown,
        |l, s| async move {
            let stop = async move {
                s.await;
                closing.cancel();
            };
            server::serve(l, router, stop).await?;
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
