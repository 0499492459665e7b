//! `cargo run -p bookshop`: the Bookshop system as built so far, on
//! localhost, each service in its own OS process.
//!
//! The launcher starts each service by running *itself* again with a hidden
//! `service <name>` subcommand, so one `cargo run` builds everything it needs
//! and each service still gets a process, a port and a database of its own.

mod launcher;
mod services;

use std::path::PathBuf;

use ch01_autonomy::{server, telemetry};
use ch03_registry::{registry, services as chapter3};
use ch04_gateway::{gateway, identity};
use ch05_soa::payments;
use ch06_messaging::{inventory, notifications, orders};
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

    /// Port of the registry (it starts first).
    #[arg(long, env = "BOOKSHOP_REGISTRY_PORT", default_value_t = 8500)]
    registry_port: u16,

    /// Port of the gateway, the public entrance (it starts last).
    #[arg(long, env = "BOOKSHOP_GATEWAY_PORT", default_value_t = 8080)]
    gateway_port: u16,

    /// Port of the identity service.
    #[arg(long, env = "BOOKSHOP_IDENTITY_PORT", default_value_t = 8001)]
    identity_port: u16,

    /// Port of the catalog service (HTTP and gRPC).
    #[arg(long, env = "BOOKSHOP_CATALOG_PORT", default_value_t = 8002)]
    catalog_port: u16,

    /// Port of the inventory service.
    #[arg(long, env = "BOOKSHOP_INVENTORY_PORT", default_value_t = 8004)]
    inventory_port: u16,

    /// Port of the payments service (simulated).
    #[arg(long, env = "BOOKSHOP_PAYMENTS_PORT", default_value_t = 8005)]
    payments_port: u16,

    /// Port of the orders service.
    #[arg(long, env = "BOOKSHOP_ORDERS_PORT", default_value_t = 8003)]
    orders_port: u16,

    /// Port of the notifications service.
    #[arg(long, env = "BOOKSHOP_NOTIFICATIONS_PORT", default_value_t = 8006)]
    notifications_port: u16,
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
    Registry(registry::Config),
    Identity(identity::ProcessConfig),
    Gateway(gateway::Config),
    Inventory(inventory::RegisteredConfig),
    Payments(payments::RegisteredConfig),
    Catalog(chapter3::CatalogConfig),
    Orders(orders::RegisteredConfig),
    Notifications(notifications::RegisteredConfig),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.service {
        Some(ServiceCommand::Service { service }) => {
            telemetry::init();
            let shutdown = server::shutdown_signal();
            match service {
                Service::Registry(config) => registry::run(config, shutdown).await,
                Service::Identity(config) => ch05_soa::identity::run(config, shutdown).await,
                Service::Gateway(config) => gateway::run(config, shutdown).await,
                // Chapter 6's inventory: releases stock on `order.cancelled`.
                Service::Inventory(config) => inventory::run_registered(config, shutdown).await,
                Service::Payments(config) => payments::run_registered(config, shutdown).await,
                // Chapter 3's catalog: HTTP + gRPC, registering itself.
                Service::Catalog(config) => {
                    ch05_soa::catalog::run_registered(config, shutdown).await
                }
                // Chapter 6's orders: chapter 5's checkout, its events
                // published through the outbox, the catalog found through
                // the registry.
                Service::Orders(config) => orders::run_registered(config, shutdown).await,
                Service::Notifications(config) => {
                    notifications::run_registered(config, shutdown).await
                }
            }
        }
        None => {
            let ports = services::Ports {
                registry: cli.registry_port,
                identity: cli.identity_port,
                gateway: cli.gateway_port,
                inventory: cli.inventory_port,
                payments: cli.payments_port,
                catalog: cli.catalog_port,
                orders: cli.orders_port,
                notifications: cli.notifications_port,
            };
            // A fresh secret per run: only the services started here may write.
            let registry_token = uuid::Uuid::new_v4().simple().to_string();
            let plan = services::plan(&cli.data_dir, ports, &registry_token);
            launcher::run(&cli.data_dir, plan).await
        }
    }
}
