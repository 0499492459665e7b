//! Orders in chapter 6: chapter 5's orders, whose database now has an
//! outbox, and a relay beside the API that publishes it. Nothing in the
//! checkout changed: the triggers write the events, the relay sends them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ch02_communication::catalog_client::{CatalogClient, Locate};
use ch03_registry::discovery::cache::Discovery;
use ch03_registry::services::{self as chapter3, RegistryFlags};
use ch05_soa::background::BackgroundTasks;
use ch05_soa::orders::{self as chapter5, App, Extensions, StockRelease};

use crate::broker::BrokerFlags;
use crate::outbox::relay::{self, RelayConfig, Wake};
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

    /// What wakes the relay when the outbox is empty: only its poll, every
    /// 50 ms (`poll`), or also each commit of a new event (`commit`,
    /// chapter 7), with the poll kept as a safety net.
    #[arg(long, env = "ORDERS_RELAY_WAKE", value_enum, default_value = "poll")]
    pub relay_wake: Wake,
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

/// Where orders finds the services it calls.
#[derive(Debug, Clone)]
struct Providers {
    catalog: CatalogClient,
    inventory: Arc<dyn Locate>,
    payments: Arc<dyn Locate>,
}

// ANCHOR: serve
/// Opens orders with the outbox migration, and serves it with the relay
/// running beside it.
async fn serve(
    listener: tokio::net::TcpListener,
    config: &chapter5::Config,
    events: &EventFlags,
    providers: Providers,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let extensions = Extensions {
        migrations: Some(&MIGRATOR),
        stock_release: events.stock_release,
    };
    let Providers {
        catalog,
        inventory,
        payments,
    } = providers;
    let app = App::open_with(config, catalog, inventory, payments, extensions).await?;
    let outbox = Outbox::open(&config.orders.database_url)
        .await
        .context("cannot open the outbox")?;
    let relay = RelayConfig {
        wake: events.relay_wake,
        ..RelayConfig::from_flags(&events.broker)
    };
    let tasks = BackgroundTasks::new();
    tasks.spawn("outbox relay", |stop| relay::run(outbox, relay, stop));
    let retry = Duration::from_millis(config.saga_retry_ms);
    chapter5::serve_with(listener, app, retry, tasks, shutdown).await
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
    let providers = Providers {
        catalog: CatalogClient::new(&config.orders.orders.catalog_client_config())
            .context("cannot set up the catalog client")?,
        inventory: Arc::new(config.orders.inventory_url.clone()),
        payments: Arc::new(config.orders.payments_url.clone()),
    };
    serve(
        listener,
        &config.orders,
        &config.events,
        providers,
        shutdown,
    )
    .await
}

/// Orders in the running system: registered, and finding catalog,
/// inventory and payments through the registry (the URL flags are not
/// used).
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
    let registry = config.registry.client().await?;
    let discover = |service: &str| Arc::new(Discovery::start(registry.clone(), service));
    let providers = Providers {
        catalog: CatalogClient::with_locator(
            &config.orders.orders.catalog_client_config(),
            discover("catalog"),
        )
        .context("cannot set up the catalog client")?,
        inventory: discover("inventory"),
        payments: discover("payments"),
    };
    tracing::info!("orders finds catalog, inventory and payments through the registry");
    let (orders, events) = (config.orders, config.events);
    chapter3::serve_registered(
        listener,
        &config.registry,
        "orders",
        shutdown,
        |l, s| async move { serve(l, &orders, &events, providers, s).await },
    )
    .await
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
