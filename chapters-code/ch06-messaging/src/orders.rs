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
use ch05_soa::orders::{self as chapter5, App};

use crate::outbox::relay::{self, RelayConfig};
use crate::outbox::{MIGRATOR, Outbox};

#[derive(Debug, Clone, clap::Args)]
pub struct BrokerFlags {
    /// The RabbitMQ broker the relay publishes to. Orders works without
    /// it: events wait in the outbox until it answers.
    #[arg(
        long,
        env = "AMQP_ADDR",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f",
        hide_env_values = true
    )]
    pub amqp_addr: String,
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
    pub broker: BrokerFlags,
}

// ANCHOR: serve
/// Opens orders with the outbox migration, and serves it with the relay
/// running beside it.
async fn serve(
    listener: tokio::net::TcpListener,
    config: &chapter5::Config,
    broker: &BrokerFlags,
    catalog: CatalogClient,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let inventory: Arc<dyn Locate> = Arc::new(config.inventory_url.clone());
    let payments: Arc<dyn Locate> = Arc::new(config.payments_url.clone());
    let app = App::open_with(config, catalog, inventory, payments, Some(&MIGRATOR)).await?;
    let outbox = Outbox::open(&config.orders.database_url)
        .await
        .context("cannot open the outbox")?;
    let relay = tokio::spawn(relay::run(outbox, RelayConfig::new(&broker.amqp_addr)));
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
    let catalog = CatalogClient::new(&config.orders.orders.catalog_client_config())
        .context("cannot set up the catalog client")?;
    serve(listener, &config.orders, &config.broker, catalog, shutdown).await
}

/// Orders in the running system: registered, the catalog found through
/// the registry.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "ch06-orders", version)]
pub struct RegisteredConfig {
    #[command(flatten)]
    pub orders: chapter5::Config,
    #[command(flatten)]
    pub broker: BrokerFlags,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

pub async fn run_registered(
    config: RegisteredConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = ch02_communication::orders::bind(&config.orders.orders).await?;
    let bound = listener.local_addr()?;
    let registry = config.registry.client()?;
    let catalogs = Arc::new(Discovery::start(registry.clone(), "catalog"));
    let catalog =
        CatalogClient::with_locator(&config.orders.orders.catalog_client_config(), catalogs)
            .context("cannot set up the catalog client")?;
    let registration = config.registry.registration("orders", bound);
    let shutdown = register_until(registry, registration, shutdown);
    serve(listener, &config.orders, &config.broker, catalog, shutdown).await
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
