//! Chapter 3's orders: it registers itself and finds the catalog through
//! the registry.

use ch01_autonomy::{server, telemetry};
use ch03_registry::services;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = services::OrdersConfig::parse();
    services::run_orders(config, server::shutdown_signal()).await
}
