//! Orders in chapter 6: chapter 5's orders, whose database now has an
//! outbox, and a relay beside the API that publishes it. Nothing in the
//! checkout changed: the triggers write the events, the relay sends them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ch02_communication::catalog_client::{CatalogClient, Locate};
use ch03_registry::discovery::cache::Discovery;
use ch03_registry::services::{RegistryFlags, register_until};
use ch05_soa::orders::{self as chapter5, App, Extensions, StockRelease};

use crate::broker::BrokerFlags;
use crate::outbox::relay::{self, RelayConfig};
use crate::outbox::{MIGRATOR, Outbox};

/// What chapter 6 adds to chapter 5's orders' command line.
#[derive(Debug, Clone, clap::Args)]
pub struct EventFlags {
    #[command(flatten)]
    pub broker: BrokerFlags,

    /// Who gives the stock of a cancelled checkout back: inventory, when
    /// it hears `order.cancelled` (`event`), or the saga, by calling
    /// inventory as in chapter 5 (`call`). Use `call` with chapter 5's
    /// inventory, which does not listen.
    #[arg(
        long,
        env = "ORDERS_STOCK_RELEASE",
        value_enum,
        default_value = "event"
    )]
    pub stock_release: StockRelease,
}

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "ch06-orders",
    about = "The Bookshop orders service, publishing its events",
    version
)]
#[group(id = "outbox")]
pub struct Config {
    #[command(flatten)]
    pub orders: chapter5::Config,
    #[command(flatten)]
    pub events: EventFlags,
}

// ANCHOR: serve
/// Opens orders with the outbox migration, and serves it with the relay
/// running beside it.
async fn serve(
    listener: tokio::net::TcpListener,
    config: &chapter5::Config,
    events: &EventFlags,
    catalog: CatalogClient,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let inventory: Arc<dyn Locate> = Arc::new(config.inventory_url.clone());
    let payments: Arc<dyn Locate> = Arc::new(config.payments_url.clone());
    let extensions = Extensions {
        migrations: Some(&MIGRATOR),
        stock_release: events.stock_release,
    };
    let app = App::open_with(config, catalog, inventory, payments, extensions).await?;
    let outbox = Outbox::open(&config.orders.database_url)
        .await
        .context("cannot open the outbox")?;
    let relay = tokio::spawn(relay::run(outbox, RelayConfig::from_flags(&events.broker)));
    let retry = Duration::from_millis(config.saga_retry_ms);
    let served = chapter5::serve_on(listener, app, retry, shutdown).await;
    relay.abort();
    served
}
// ANCHOR_END: serve

/// Runs orders with fixed URLs for every provider.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = ch02_communication::orders::bind(&config.orders.orders).await?;
    serve_on(listener, config, shutdown).await
}

/// [`run`] on a listener bound elsewhere (a test's, say).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let catalog = CatalogClient::new(&config.orders.orders.catalog_client_config())
        .context("cannot set up the catalog client")?;
    serve(listener, &config.orders, &config.events, catalog, shutdown).await
}

/// Orders in the running system: registered, the catalog found through
/// the registry.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "ch06-orders", version)]
pub struct RegisteredConfig {
    #[command(flatten)]
    pub orders: chapter5::Config,
    #[command(flatten)]
    pub events: EventFlags,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

pub async fn run_registered(
    config: RegisteredConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = ch02_communication::orders::bind(&config.orders.orders).await?;
    serve_registered(listener, config, shutdown).await
}

/// [`run_registered`] on a listener bound elsewhere (a test's, say).
pub async fn serve_registered(
    listener: tokio::net::TcpListener,
    config: RegisteredConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let bound = listener.local_addr()?;
    let registry = config.registry.client()?;
    let catalogs = Arc::new(Discovery::start(registry.clone(), "catalog"));
    let catalog =
        CatalogClient::with_locator(&config.orders.orders.catalog_client_config(), catalogs)
            .context("cannot set up the catalog client")?;
    let registration = config.registry.registration("orders", bound);
    let shutdown = register_until(registry, registration, shutdown);
    serve(listener, &config.orders, &config.events, catalog, shutdown).await
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks a command's definition only when it parses: check both
    /// here, not when a reader first runs the binary.
    #[test]
    fn the_command_lines_are_well_formed() {
        super::Config::command().debug_assert();
        super::RegisteredConfig::command().debug_assert();
    }
}
