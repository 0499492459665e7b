//! The inventory service as a process of its own.

use ch01_autonomy::{server, telemetry};
use ch05_soa::inventory;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = inventory::Config::parse();
    inventory::run(config, server::shutdown_signal()).await
}
