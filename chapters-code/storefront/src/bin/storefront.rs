//! The storefront as a process of its own.

use ch01_autonomy::{server, telemetry};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = storefront::ProcessConfig::parse();
    storefront::run(config, server::shutdown_signal()).await
}
