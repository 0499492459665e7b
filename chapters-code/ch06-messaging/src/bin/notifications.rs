//! The notifications service as a process of its own.

use ch01_autonomy::{server, telemetry};
use ch06_messaging::notifications;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = notifications::Config::parse();
    notifications::run(config, server::shutdown_signal()).await
}
