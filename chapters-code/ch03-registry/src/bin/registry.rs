//! The registry service as a process of its own.

use ch01_autonomy::{server, telemetry};
use ch03_registry::registry;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = registry::Config::parse();
    registry::run(config, server::shutdown_signal()).await
}
