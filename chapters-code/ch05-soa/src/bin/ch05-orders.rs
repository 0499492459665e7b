//! Chapter 5's orders service, with checkout, as a process of its own.

use ch01_autonomy::{server, telemetry};
use ch05_soa::orders;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = orders::Config::parse();
    orders::run(config, server::shutdown_signal()).await
}
