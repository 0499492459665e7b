//! Chapter 6's inventory as a process of its own.

use ch01_autonomy::{server, telemetry};
use ch06_messaging::inventory;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = inventory::Config::parse();
    inventory::run(config, server::shutdown_signal()).await
}
