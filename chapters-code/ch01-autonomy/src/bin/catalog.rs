//! The catalog service as a process of its own.

use ch01_autonomy::{catalog, server, telemetry};
use clap::Parser;

// ANCHOR: main
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = catalog::Config::parse();
    catalog::run(config, server::shutdown_signal()).await
}
// ANCHOR_END: main
