//! `bookshop-service <service> [flags]`: what the image runs. Chapter 7's
//! services with their telemetry, and the storefront, under the names the
//! deployment files use.

use ch08_deployment::cross_check::ServiceCli;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    ServiceCli::parse().service.run_observed().await
}
