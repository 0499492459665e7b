//! `catalog-poem`: the slice as a process, on chapter 1's flags.

use anyhow::Context;
use ch01_autonomy::catalog::{BookStore, Config};
use ch01_autonomy::{server, telemetry};
use clap::Parser;
use poem::Server;
use poem::listener::TcpAcceptor;

// ANCHOR: main
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = Config::parse();
    let store = BookStore::open(&config.database_url).await?;
    let listener = server::bind(config.listen, "CATALOG_LISTEN").await?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    let acceptor = TcpAcceptor::from_tokio(listener).context("cannot use the listener")?;
    let app = frameworks_poem::app(store);
    let drain = Some(server::DRAIN_TIMEOUT);
    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app, server::shutdown_signal(), drain)
        .await?;
    Ok(())
}
// ANCHOR_END: main
