//! `bookshop-service <service> [flags]`: what the image runs. Chapter 7's
//! services with their telemetry, under the name the deployment files use.

use ch07_operations::services::run_observed;
use ch08_deployment::cross_check::ServiceCli;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    run_observed(ServiceCli::parse().service).await
}
