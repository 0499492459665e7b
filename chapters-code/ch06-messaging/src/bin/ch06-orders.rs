//! Chapter 6's orders service (checkout, and its events published through
//! the outbox) as a process of its own.

use ch01_autonomy::{server, telemetry};
use ch06_messaging::orders;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = orders::Config::parse();
    orders::run(config, server::shutdown_signal()).await
}
