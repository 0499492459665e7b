//! Every Bookshop service, as one command each: `ch07-service orders …`.
//!
//! The services are the earlier chapters' (chapter 6's orders, inventory
//! and notifications, chapter 5's payments and identity…), unchanged;
//! what chapter 7 adds comes from [`telemetry::init`](crate::telemetry::init).
//! The launcher (`cargo run -p bookshop`) runs its children through the
//! same enum.

use std::future::Future;

use ch03_registry::{registry, services as chapter3};
use ch04_gateway::{gateway, identity};
use ch05_soa::payments;
use ch06_messaging::{inventory, notifications, orders};

/// One Bookshop service and its command line.
#[derive(Debug, clap::Subcommand)]
pub enum Service {
    Registry(registry::Config),
    Identity(identity::ProcessConfig),
    Gateway(gateway::Config),
    Inventory(inventory::RegisteredConfig),
    Payments(payments::RegisteredConfig),
    Catalog(chapter3::CatalogConfig),
    Orders(orders::RegisteredConfig),
    Notifications(notifications::RegisteredConfig),
}

impl Service {
    /// The name the service registers under, and its spans' `service.name`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Registry(_) => "registry",
            Self::Identity(_) => "identity",
            Self::Gateway(_) => "gateway",
            Self::Inventory(_) => "inventory",
            Self::Payments(_) => "payments",
            Self::Catalog(_) => "catalog",
            Self::Orders(_) => "orders",
            Self::Notifications(_) => "notifications",
        }
    }

    /// Runs the service until `shutdown` completes.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        match self {
            // Chapter 3's registry, serving Prometheus's targets too.
            Self::Registry(config) => crate::scrape_targets::run_registry(config, shutdown).await,
            Self::Identity(config) => ch05_soa::identity::run(config, shutdown).await,
            Self::Gateway(config) => gateway::run(config, shutdown).await,
            // Chapter 6's inventory: releases stock on `order.cancelled`.
            Self::Inventory(config) => inventory::run_registered(config, shutdown).await,
            Self::Payments(config) => payments::run_registered(config, shutdown).await,
            // HTTP and gRPC on one port, registering itself.
            Self::Catalog(config) => ch05_soa::catalog::run_registered(config, shutdown).await,
            // Chapter 6's orders: the checkout, its events through the outbox.
            Self::Orders(config) => orders::run_registered(config, shutdown).await,
            Self::Notifications(config) => notifications::run_registered(config, shutdown).await,
        }
    }
}

/// Runs `service` with chapter 7's telemetry, flushing spans at the end.
pub async fn run_observed(service: Service) -> anyhow::Result<()> {
    let telemetry = crate::telemetry::init(service.name())?;
    let outcome = service.run(ch01_autonomy::server::shutdown_signal()).await;
    telemetry.shutdown().await;
    outcome
}
