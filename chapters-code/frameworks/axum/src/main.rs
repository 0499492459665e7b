//! `catalog-axum`: the slice as a process, on chapter 1's flags.

use ch01_autonomy::catalog::{BookStore, Config};
use ch01_autonomy::{server, telemetry};
use clap::Parser;

// ANCHOR: main
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = Config::parse();
    let store = BookStore::open(&config.database_url).await?;
    let listener = server::bind(config.listen, "CATALOG_LISTEN").await?;
    server::serve(
        listener,
        frameworks_axum::app(store),
        server::shutdown_signal(),
    )
    .await?;
    Ok(())
}
// ANCHOR_END: main
