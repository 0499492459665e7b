//! The **orders** service, chapter 5 version: chapter 2's orders, plus
//! checkout. Placing an order now reserves stock, charges the payment and
//! confirms, or compensates and cancels: an orchestrated saga whose
//! progress lives in orders' own database.

pub mod clients;
pub mod http;
pub mod saga;
pub mod store;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use ch01_autonomy::server;
use ch02_communication::catalog_client::{CatalogClient, Locate};
use ch02_communication::orders::{self as chapter2, AppState as OrdersState};

use crate::background::BackgroundTasks;
use clients::{InventoryClient, PaymentsClient};
use saga::Checkout;
pub use saga::StockRelease;

// ANCHOR: config
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "ch05-orders",
    about = "The Bookshop orders service, with checkout",
    version
)]
#[group(id = "checkout")]
pub struct Config {
    #[command(flatten)]
    pub orders: chapter2::Config,

    /// Where the inventory service answers.
    #[arg(
        long,
        env = "ORDERS_INVENTORY_URL",
        default_value = "http://127.0.0.1:8004"
    )]
    pub inventory_url: String,

    /// Where the payments service answers.
    #[arg(
        long,
        env = "ORDERS_PAYMENTS_URL",
        default_value = "http://127.0.0.1:8005"
    )]
    pub payments_url: String,

    /// Budget for one call to inventory or payments, in milliseconds.
    #[arg(long, env = "ORDERS_STEP_TIMEOUT_MS", default_value_t = 2000)]
    pub step_timeout_ms: u64,

    /// How long checkout keeps retrying reserve and charge before it
    /// compensates and cancels, in seconds.
    #[arg(long, env = "ORDERS_SAGA_DEADLINE_SECS", default_value_t = 30)]
    pub saga_deadline_secs: u64,

    /// How often unfinished sagas are retried, in milliseconds.
    #[arg(long, env = "ORDERS_SAGA_RETRY_MS", default_value_t = 1000)]
    pub saga_retry_ms: u64,
}
// ANCHOR_END: config

/// What a later chapter changes in orders, without a copy of it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extensions<'a> {
    /// That chapter's migrations, run after this chapter's on the same
    /// database.
    pub migrations: Option<&'a sqlx::migrate::Migrator>,
    /// Who releases the stock of a cancelled checkout.
    pub stock_release: StockRelease,
}

/// An orders service with checkout, ready to serve.
#[derive(Debug, Clone)]
pub struct App {
    state: http::AppState,
    body_limit: usize,
}

impl App {
    /// Opens orders' database and sets up the clients for its providers.
    pub async fn open(config: &Config, catalog: CatalogClient) -> anyhow::Result<Self> {
        Self::open_with(
            config,
            catalog,
            Arc::new(config.inventory_url.clone()),
            Arc::new(config.payments_url.clone()),
            Extensions::default(),
        )
        .await
    }

    /// With locators for inventory and payments built elsewhere, and what
    /// a later chapter changes.
    pub async fn open_with(
        config: &Config,
        catalog: CatalogClient,
        inventory: Arc<dyn Locate>,
        payments: Arc<dyn Locate>,
        extensions: Extensions<'_>,
    ) -> anyhow::Result<Self> {
        let url = &config.orders.database_url;
        let (store, sagas) = store::open_with(url, extensions.migrations)
            .await
            .with_context(|| format!("cannot open the orders database {url}"))?;
        let timeout = Duration::from_millis(config.step_timeout_ms);
        let inventory = InventoryClient::new(inventory, timeout)
            .context("cannot set up the inventory client")?;
        let payments =
            PaymentsClient::new(payments, timeout).context("cannot set up the payments client")?;
        let checkout = Arc::new(
            Checkout::new(
                store.clone(),
                sagas.clone(),
                inventory,
                payments,
                Duration::from_secs(config.saga_deadline_secs),
            )
            .with_stock_release(extensions.stock_release),
        );
        Ok(Self {
            state: http::AppState {
                orders: OrdersState { store, catalog },
                sagas,
                checkout,
            },
            body_limit: config.orders.body_limit,
        })
    }

    pub fn checkout(&self) -> Arc<Checkout> {
        self.state.checkout.clone()
    }

    pub fn into_router(self) -> Router {
        server::with_common_layers(http::router(self.state), self.body_limit)
    }
}

// ANCHOR: serve
/// Serves on a bound listener, with the sweeper running beside the API
/// until `shutdown` completes.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    app: App,
    retry: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with(listener, app, retry, BackgroundTasks::new(), shutdown).await
}

/// [`serve_on`] with more background tasks beside the sweeper (chapter 6's
/// relay): after the HTTP requests drained, every task is told to stop
/// and waited for.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    app: App,
    retry: Duration,
    tasks: BackgroundTasks,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let checkout = app.checkout();
    tasks.spawn("saga sweeper", |stop| checkout.sweep_until(retry, stop));
    tasks
        .serve_until_stopped(listener, app.into_router(), shutdown)
        .await
}
// ANCHOR_END: serve

/// Runs an orders process with fixed URLs for every provider.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = chapter2::bind(&config.orders).await?;
    let catalog = CatalogClient::new(&config.orders.catalog_client_config())
        .context("cannot set up the catalog client")?;
    let app = App::open(&config, catalog).await?;
    tracing::info!(
        inventory = %config.inventory_url,
        payments = %config.payments_url,
        "orders checks out through inventory and payments"
    );
    serve_on(
        listener,
        app,
        Duration::from_millis(config.saga_retry_ms),
        shutdown,
    )
    .await
}
