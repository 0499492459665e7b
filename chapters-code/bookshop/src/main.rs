//! `cargo run -p bookshop`: the Bookshop system as built so far, on
//! localhost, each service in its own OS process.
//!
//! The launcher starts each service by running *itself* again with a hidden
//! `service <name>` subcommand, so one `cargo run` builds everything it needs
//! and each service still gets a process, a port and a database of its own.

mod launcher;
mod services;

use std::path::PathBuf;

use ch01_autonomy::{catalog, server, telemetry};
use ch02_communication::{catalog_grpc, orders};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "bookshop",
    about = "Runs every Bookshop service on localhost",
    version
)]
struct Cli {
    #[command(subcommand)]
    service: Option<ServiceCommand>,

    /// Where the services keep their SQLite files (created on first run).
    #[arg(long, env = "BOOKSHOP_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,

    /// Port of the catalog service (HTTP and gRPC).
    #[arg(long, env = "BOOKSHOP_CATALOG_PORT", default_value_t = 8002)]
    catalog_port: u16,

    /// Port of the orders service.
    #[arg(long, env = "BOOKSHOP_ORDERS_PORT", default_value_t = 8003)]
    orders_port: u16,
}

/// Run one service in this process (what the launcher runs for each child).
#[derive(Debug, Subcommand)]
enum ServiceCommand {
    #[command(hide = true)]
    Service {
        #[command(subcommand)]
        service: Service,
    },
}

#[derive(Debug, Subcommand)]
enum Service {
    Catalog(catalog::Config),
    Orders(orders::Config),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.service {
        Some(ServiceCommand::Service { service }) => {
            telemetry::init();
            match service {
                // The catalog as of chapter 2: HTTP plus gRPC on one port.
                Service::Catalog(config) => {
                    catalog_grpc::run(config, server::shutdown_signal()).await
                }
                Service::Orders(config) => orders::run(config, server::shutdown_signal()).await,
            }
        }
        None => {
            let ports = services::Ports {
                catalog: cli.catalog_port,
                orders: cli.orders_port,
            };
            let plan = services::plan(&cli.data_dir, ports);
            launcher::run(&cli.data_dir, plan).await
        }
    }
}
