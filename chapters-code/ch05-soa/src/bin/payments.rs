//! The payments service as a process of its own.

use ch01_autonomy::{server, telemetry};
use ch05_soa::payments;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = payments::Config::parse();
    payments::run(config, server::shutdown_signal()).await
}
