//! `catalog-salvo`: the slice as a process, on chapter 1's flags.

use anyhow::Context;
use ch01_autonomy::catalog::{BookStore, Config};
use ch01_autonomy::{server, telemetry};
use clap::Parser;
use salvo::Server;
use salvo::conn::tcp::TcpAcceptor;

// ANCHOR: main
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = Config::parse();
    let store = BookStore::open(&config.database_url).await?;
    let listener = server::bind(config.listen, "CATALOG_LISTEN").await?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    let acceptor = TcpAcceptor::try_from(listener).context("cannot use the listener")?;
    let server = Server::new(acceptor);
    let handle = server.handle();
    tokio::spawn(async move {
        server::shutdown_signal().await;
        handle.stop_graceful(server::DRAIN_TIMEOUT);
    });
    server.serve(frameworks_salvo::app(store)).await;
    Ok(())
}
// ANCHOR_END: main
