//! Chapter 3's catalog: chapter 2's, registering itself with the registry.

use ch01_autonomy::{server, telemetry};
use ch03_registry::services;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = services::CatalogConfig::parse();
    services::run_catalog(config, server::shutdown_signal()).await
}
