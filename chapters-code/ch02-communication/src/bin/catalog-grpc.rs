//! Chapter 2's catalog, `catalog-grpc`: chapter 1's catalog plus a gRPC API
//! on the same port. (A new name, so it does not overwrite chapter 1's binary.)

use ch01_autonomy::{catalog, server, telemetry};
use ch02_communication::catalog_grpc;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = catalog::Config::parse();
    catalog_grpc::run(config, server::shutdown_signal()).await
}
