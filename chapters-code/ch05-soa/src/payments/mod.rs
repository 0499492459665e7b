//! The **payments** service, simulated: it approves or declines a charge
//! (at a failure rate you set), optionally slowly, and refunds. One
//! payment per order, so a retried charge never charges twice.

pub mod http;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use ch01_autonomy::server;
use ch03_registry::services::{Registered, serve_registered};

pub use store::PaymentStore;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "payments",
    about = "The Bookshop payments service (simulated)",
    version
)]
pub struct Config {
    /// Address to listen on; use port 0 to let the OS pick a free port.
    #[arg(long, env = "PAYMENTS_LISTEN", default_value = "127.0.0.1:8005")]
    pub listen: SocketAddr,

    /// The payments service's own database; created and migrated on start.
    #[arg(
        long,
        env = "PAYMENTS_DATABASE_URL",
        default_value = "sqlite://data/payments.sqlite"
    )]
    pub database_url: String,

    /// Share of new charges that are declined, from 0.0 to 1.0.
    #[arg(long, env = "PAYMENTS_FAILURE_RATE", default_value_t = 0.0)]
    pub failure_rate: f64,

    /// Extra milliseconds every charge takes (a slow bank).
    #[arg(long, env = "PAYMENTS_LATENCY_MS", default_value_t = 0)]
    pub latency_ms: u64,
}

/// How the simulated bank behaves.
#[derive(Debug, Clone, Copy)]
pub struct Simulation {
    pub failure_rate: f64,
    pub latency: Duration,
}

pub async fn app(
    database_url: &str,
    simulation: Simulation,
) -> anyhow::Result<(PaymentStore, Router)> {
    if !(0.0..=1.0).contains(&simulation.failure_rate) {
        anyhow::bail!(
            "the failure rate must be between 0.0 and 1.0 (--failure-rate or PAYMENTS_FAILURE_RATE)"
        );
    }
    let store = PaymentStore::open(database_url)
        .await
        .with_context(|| format!("cannot open the payments database {database_url}"))?;
    let router = server::with_common_layers(http::router(store.clone(), simulation), 16 * 1024);
    Ok((store, router))
}

pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = server::bind(config.listen, "PAYMENTS_LISTEN").await?;
    serve(listener, config, shutdown).await
}

/// [`run`] on a listener bound elsewhere.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let simulation = Simulation {
        failure_rate: config.failure_rate,
        latency: Duration::from_millis(config.latency_ms),
    };
    let (_store, router) = app(&config.database_url, simulation).await?;
    server::serve(listener, router, shutdown).await?;
    Ok(())
}

/// Payments in the running system: registered, so orders finds it.
pub type RegisteredConfig = Registered<Config>;

pub async fn run_registered(
    config: RegisteredConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = server::bind(config.service.listen, "PAYMENTS_LISTEN").await?;
    let service = config.service;
    serve_registered(listener, &config.registry, "payments", shutdown, |l, s| {
        serve(l, service, s)
    })
    .await
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_lines_are_well_formed() {
        super::Config::command().debug_assert();
        super::RegisteredConfig::command().debug_assert();
    }
}
