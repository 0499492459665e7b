//! The **registry** service: who is running, where, and still alive?
//! In memory and single-node: a restart forgets everything, and the
//! instances register again by themselves within one heartbeat.

pub mod expiry;
pub mod http;
pub mod model;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use ch01_autonomy::server;

pub use store::Store;

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "registry", about = "The Bookshop service registry", version)]
pub struct Config {
    /// Address to listen on; use port 0 to let the OS pick a free port.
    #[arg(long, env = "REGISTRY_LISTEN", default_value = "127.0.0.1:8500")]
    pub listen: SocketAddr,

    /// The bearer token that writes (register, heartbeat, deregister) need.
    #[arg(long, env = "REGISTRY_TOKEN", hide_env_values = true)]
    pub token: String,
}

/// A registry, ready to serve. Dropping it stops the expiry task.
#[derive(Debug)]
pub struct App {
    state: http::AppState,
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
    expiry: tokio::task::JoinHandle<()>,
}

impl App {
    /// Starts the expiry task; call inside a tokio runtime.
    pub fn new(token: &str) -> Self {
        let store = Arc::new(Store::new());
        let expiry = expiry::spawn(store.clone());
        let (stopping, stopping_seen) = tokio::sync::watch::channel(false);
        Self {
            state: http::AppState {
                store,
                token: Arc::from(token),
                stopping: stopping_seen,
            },
            stopping: Arc::new(stopping),
            expiry,
        }
    }

    /// `shutdown`, plus releasing the blocking queries in flight, so that
    /// graceful shutdown does not wait out their long polls.
    pub fn on_shutdown(
        &self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = ()> + Send + 'static {
        let stopping = self.stopping.clone();
        async move {
            shutdown.await;
            stopping.send_replace(true);
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.state.store
    }

    pub fn router(&self) -> Router {
        self.router_with(Router::new())
    }

    /// The registry's routes plus `extra` (a later chapter's), under the
    /// same common layers.
    pub fn router_with(&self, extra: Router) -> Router {
        let routes = http::router(self.state.clone()).merge(extra);
        server::with_common_layers(routes, 16 * 1024)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.expiry.abort();
    }
}

/// Runs a registry process until `shutdown` completes.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_with(config, shutdown, |_| Router::new()).await
}

/// [`run`], with the routes `extra` makes from the app (a later
/// chapter's) served beside the registry's own.
pub async fn run_with(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
    extra: impl FnOnce(&App) -> Router,
) -> anyhow::Result<()> {
    if config.token.trim().is_empty() {
        anyhow::bail!("the registry token must not be empty (--token or REGISTRY_TOKEN)");
    }
    let listener = server::bind(config.listen, "REGISTRY_LISTEN").await?;
    let app = App::new(&config.token);
    let router = app.router_with(extra(&app));
    server::serve(listener, router, app.on_shutdown(shutdown)).await?;
    Ok(())
}
