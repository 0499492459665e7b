//! `cargo run -p bookshop`: the Bookshop system as built so far, on
//! localhost, each service in its own OS process.
//!
//! The launcher starts each service by running *itself* again with a hidden
//! `service <name>` subcommand, so one `cargo run` builds everything it needs
//! and each service still gets a process, a port and a database of its own.

mod launcher;
mod services;

use std::path::PathBuf;

use ch03_registry::discovery::any::Backend;
use ch07_operations::telemetry::ENDPOINT_ENV as OTLP_ENDPOINT_ENV;
use ch08_deployment::services::ImageService;
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

    /// Send every service's traces to this OpenTelemetry collector (OTLP
    /// over gRPC, e.g. http://127.0.0.1:4317). Unset: no traces leave.
    #[arg(long, env = OTLP_ENDPOINT_ENV)]
    otlp_endpoint: Option<String>,

    /// Run more catalog instances: `--scale catalog=3` (the extra ones on
    /// the catalog's port + 100, + 200…, each with its own database).
    #[arg(long, value_name = "catalog=N", value_parser = services::parse_scale, default_value = "catalog=1")]
    scale: services::Scale,

    /// Port of the notifications service.
    #[arg(long, env = "BOOKSHOP_NOTIFICATIONS_PORT", default_value_t = 8006)]
    notifications_port: u16,

    /// Port of the storefront (shoppers reach it through the gateway, at
    /// /shop).
    #[arg(long, env = "BOOKSHOP_STOREFRONT_PORT", default_value_t = 8000)]
    storefront_port: u16,

    /// Where the services register and discover each other: our registry
    /// (`http`), or etcd (`etcd`, as in production; chapter 8). The
    /// registry starts either way.
    #[arg(long, env = "BOOKSHOP_DISCOVERY", value_enum, default_value = "http")]
    discovery: Backend,

    /// etcd's client URLs, comma-separated, for `--discovery etcd`.
    #[arg(
        long,
        env = "BOOKSHOP_ETCD_ENDPOINTS",
        default_value = "http://127.0.0.1:2379"
    )]
    etcd_endpoints: String,
}

/// Run one service in this process (what the launcher runs for each child).
#[derive(Debug, Subcommand)]
enum ServiceCommand {
    #[command(hide = true)]
    Service {
        /// Every service the image runs (chapter 8's list).
        #[command(subcommand)]
        service: ImageService,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.service {
        // Chapter 7's services (the earlier chapters' code, with trace
        // context, `/metrics` and traces when OTEL_EXPORTER_OTLP_ENDPOINT
        // is set) and the storefront, exactly as the image runs them.
        Some(ServiceCommand::Service { service }) => service.run_observed().await,
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
                storefront: cli.storefront_port,
            };
            // A fresh secret per run: only the services started here may write.
            let registry_token = uuid::Uuid::new_v4().simple().to_string();
            let mut plan = services::plan(&cli.data_dir, ports, cli.scale, &registry_token);
            if let Some(endpoint) = cli.otlp_endpoint {
                for spec in &mut plan {
                    spec.envs
                        .push((OTLP_ENDPOINT_ENV.to_owned(), endpoint.clone()));
                }
            }
            if cli.discovery == Backend::Etcd {
                for spec in &mut plan {
                    spec.envs.push(("DISCOVERY".to_owned(), "etcd".to_owned()));
                    spec.envs
                        .push(("ETCD_ENDPOINTS".to_owned(), cli.etcd_endpoints.clone()));
                }
            }
            launcher::run(&cli.data_dir, plan).await
        }
    }
}
