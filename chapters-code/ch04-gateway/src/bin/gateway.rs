//! The gateway as a process of its own.

use ch01_autonomy::{server, telemetry};
use ch04_gateway::gateway;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = gateway::Config::parse();
    gateway::run(config, server::shutdown_signal()).await
}
