//! The services as of chapter 3: the catalog and orders of chapters 1
//! and 2, now registering themselves, and orders finding the catalog
//! through the registry instead of a fixed URL.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use ch01_autonomy::{catalog, server};
use ch02_communication::catalog_client::{CatalogClient, Locate};
use ch02_communication::{catalog_grpc, orders};

use crate::discovery::Registration;
use crate::discovery::any::{AnyRegistry, Backend};
use crate::discovery::cache::Discovery;
use crate::discovery::etcd::{self, EtcdRegistry};
use crate::discovery::http::HttpRegistry;
use crate::registration::SelfRegistration;

/// How a service reaches the registry.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryFlags {
    /// Where the registry answers.
    #[arg(long, env = "REGISTRY_URL", default_value = "http://127.0.0.1:8500")]
    pub registry_url: String,

    /// The registry's bearer token (writes need it).
    #[arg(long, env = "REGISTRY_TOKEN", hide_env_values = true)]
    pub registry_token: String,

    /// The URL others reach this instance at, when it is not the address
    /// it binds: behind a port mapping, a proxy, or in a pod (its IP).
    #[arg(long, env = "ADVERTISE_URL")]
    pub advertise_url: Option<String>,

    /// Seconds the registry keeps this instance without a heartbeat.
    #[arg(long, env = "REGISTRATION_TTL_SECS", default_value_t = 10)]
    pub registration_ttl_secs: u64,

    /// Where instances register and are found: our registry, or etcd
    /// (chapter 8).
    #[arg(long, env = "DISCOVERY", value_enum, default_value = "http")]
    pub discovery: Backend,

    /// etcd's client URLs, comma-separated (with `--discovery etcd`).
    #[arg(
        long,
        env = "ETCD_ENDPOINTS",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:2379"
    )]
    pub etcd_endpoints: Vec<String>,

    /// The etcd key every instance is registered under (with `--discovery
    /// etcd`): one per system sharing the cluster.
    #[arg(long, env = "ETCD_PREFIX", default_value = etcd::ROOT)]
    pub etcd_prefix: String,
}

impl RegistryFlags {
    // ANCHOR: client
    /// A client of the registry these flags name.
    pub async fn client(&self) -> anyhow::Result<Arc<AnyRegistry>> {
        let client = match self.discovery {
            Backend::Http => AnyRegistry::Http(
                HttpRegistry::new(&self.registry_url, &self.registry_token)
                    .context("cannot set up the registry client")?,
            ),
            Backend::Etcd => AnyRegistry::Etcd(Box::new(
                EtcdRegistry::connect_under(&self.etcd_endpoints, &self.etcd_prefix)
                    .await
                    .with_context(|| format!("cannot reach etcd at {:?}", self.etcd_endpoints))?,
            )),
        };
        Ok(Arc::new(client))
    }
    // ANCHOR_END: client

    // ANCHOR: registration
    /// This instance's registration: its real, bound address, unless
    /// `--advertise-url` names another.
    pub fn registration(&self, service: &str, bound: SocketAddr) -> Registration {
        Registration {
            service: service.to_owned(),
            instance_id: format!(
                "{service}-{}-{}",
                bound.port(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            address: self
                .advertise_url
                .clone()
                .unwrap_or_else(|| format!("http://{bound}")),
            metadata: BTreeMap::from([(
                "version".to_owned(),
                env!("CARGO_PKG_VERSION").to_owned(),
            )]),
            ttl: Duration::from_secs(self.registration_ttl_secs),
        }
    }
    // ANCHOR_END: registration
}

// ANCHOR: deregister_first
/// Starts `registration` now; when `shutdown` fires, deregisters before the
/// server drains, so no new caller is sent here while we finish.
pub fn register_until(
    registry: Arc<AnyRegistry>,
    registration: Registration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> impl Future<Output = ()> + Send + 'static {
    let running = SelfRegistration::start(registry, registration);
    async move {
        shutdown.await;
        running.stop().await;
    }
}
// ANCHOR_END: deregister_first

/// A service's own flags plus the registry's: the command line of that
/// service in the running system, where it registers itself.
#[derive(Debug, Clone, clap::Parser)]
pub struct Registered<S: clap::Args> {
    #[command(flatten)]
    pub service: S,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

// ANCHOR: serve_registered
/// The shutdown signal a registered service serves until: it deregisters
/// first, then fires.
pub type Shutdown = std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Runs a service registered as `service` at the address `listener` is
/// bound to: `serve` gets the listener and a shutdown signal that
/// deregisters before the server drains. Every service in the running
/// system is started this way, so every one of them can be discovered.
pub async fn serve_registered<Served>(
    listener: tokio::net::TcpListener,
    registry: &RegistryFlags,
    service: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
    serve: impl FnOnce(tokio::net::TcpListener, Shutdown) -> Served,
) -> anyhow::Result<()>
where
    Served: Future<Output = anyhow::Result<()>>,
{
    let registration = registry.registration(service, listener.local_addr()?);
    let shutdown = register_until(registry.client().await?, registration, shutdown);
    serve(listener, Box::pin(shutdown)).await
}
// ANCHOR_END: serve_registered

/// The catalog (HTTP + gRPC), registered as `catalog`.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "ch03-catalog",
    about = "The Bookshop catalog, registering itself",
    version
)]
pub struct CatalogConfig {
    #[command(flatten)]
    pub catalog: catalog::Config,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

pub async fn run_catalog(
    config: CatalogConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_catalog_with(config, shutdown, Router::new()).await
}

/// [`run_catalog`] with `extra` routes beside the HTTP and gRPC APIs (the
/// contract, from chapter 5).
pub async fn run_catalog_with(
    config: CatalogConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
    extra: Router,
) -> anyhow::Result<()> {
    let listener = catalog::bind(&config.catalog).await?;
    let bound = listener.local_addr()?;
    let app = catalog::App::open(&config.catalog.database_url)
        .await
        .context("cannot open the catalog database")?
        .with_body_limit(config.catalog.body_limit);
    let grpc = catalog_grpc::routes(app.store().clone()).merge(extra);
    // Register only once the database is open: listed means able to serve.
    let registration = config.registry.registration("catalog", bound);
    let shutdown = register_until(config.registry.client().await?, registration, shutdown);
    server::serve(listener, app.into_router_with(grpc), shutdown).await?;
    Ok(())
}

// ANCHOR: locate
/// Orders asks the discovery cache for a catalog before every lookup.
impl Locate for Discovery {
    fn locate(&self) -> Option<String> {
        self.round_robin().map(|instance| instance.address)
    }
}
// ANCHOR_END: locate

/// Orders, registered as `orders`, finding the catalog through the registry.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "ch03-orders",
    about = "The Bookshop orders service, with discovery",
    version
)]
pub struct OrdersConfig {
    #[command(flatten)]
    pub orders: orders::Config,
    #[command(flatten)]
    pub registry: RegistryFlags,
}

pub async fn run_orders(
    config: OrdersConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = orders::bind(&config.orders).await?;
    let bound = listener.local_addr()?;
    let registry = config.registry.client().await?;
    let catalogs = Arc::new(Discovery::start(registry.clone(), "catalog"));
    let client = CatalogClient::with_locator(&config.orders.catalog_client_config(), catalogs)
        .context("cannot set up the catalog client")?;
    let app = orders::App::open_with(&config.orders.database_url, client)
        .await?
        .with_body_limit(config.orders.body_limit);
    tracing::info!(registry = %config.registry.registry_url, "orders finds the catalog through the registry");
    let registration = config.registry.registration("orders", bound);
    let shutdown = register_until(registry, registration, shutdown);
    server::serve(listener, app.into_router(), shutdown).await?;
    Ok(())
}
