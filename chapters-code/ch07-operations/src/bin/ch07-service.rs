//! Any Bookshop service, observed: `ch07-service <service> [flags]`.
//!
//! One binary for the eight services (the launcher does the same): on two
//! cores, linking eight binaries of the whole stack costs more than it
//! teaches.

use ch07_operations::services::{Service, run_observed};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "ch07-service",
    about = "Runs one Bookshop service, observed",
    version
)]
struct Cli {
    #[command(subcommand)]
    service: Service,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    run_observed(Cli::parse().service).await
}
