//! The identity service as a process of its own.

use ch01_autonomy::{server, telemetry};
use ch04_gateway::identity;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = identity::ProcessConfig::parse();
    identity::run(config, server::shutdown_signal()).await
}
