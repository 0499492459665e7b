//! Inventory in chapter 6: chapter 5's inventory, plus a consumer that
//! gives the stock of a cancelled order back when it hears
//! `order.cancelled`. Reserving stays a request: checkout must know at
//! once whether the books are there. Releasing is something that
//! happened to the order, and inventory can act on it in its own time.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use ch01_autonomy::server;
use ch03_registry::services::{Registered, serve_registered};
use ch05_soa::background::BackgroundTasks;
use ch05_soa::inventory::store::ReserveError;
use ch05_soa::inventory::{self as chapter5, InventoryStore};

use crate::broker::BrokerFlags;
use crate::consumer::{self, ConsumerConfig, Handler, HandlerError};
use crate::events::{Envelope, ORDER_CANCELLED};

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "ch06-inventory",
    about = "The Bookshop inventory service, releasing stock on order.cancelled",
    version
)]
#[group(id = "stock_events")]
pub struct Config {
    #[command(flatten)]
    pub inventory: chapter5::Config,

    #[command(flatten)]
    pub broker: BrokerFlags,

    /// The inventory's queue for order events (declared, with its
    /// dead-letter queue, at start).
    #[arg(long, env = "INVENTORY_QUEUE", default_value = "inventory.orders")]
    pub queue: String,

    /// Delete the queue after this many milliseconds without a consumer;
    /// only for throwaway queues (tests, demos).
    #[arg(long, env = "INVENTORY_QUEUE_EXPIRES_MS")]
    pub queue_expires_ms: Option<u32>,
}

impl Config {
    pub fn consumer(&self) -> ConsumerConfig {
        let mut consumer =
            ConsumerConfig::from_flags(&self.broker, &self.queue).expiring(self.queue_expires_ms);
        consumer.routing_keys = vec![ORDER_CANCELLED.to_owned()];
        consumer
    }
}

// ANCHOR: release_on_cancel
/// Gives back the stock of a cancelled order. No inbox table here:
/// chapter 5 made release idempotent by order id, so a redelivered event
/// finds the reservation released and changes nothing.
#[derive(Debug, Clone)]
pub struct ReleaseOnCancel {
    pub store: InventoryStore,
}

impl Handler for ReleaseOnCancel {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        if event.kind != ORDER_CANCELLED {
            return Err(HandlerError::Malformed(format!(
                "inventory does not handle {}",
                event.kind
            )));
        }
        // Inventory knows a reservation by the order id its caller gave
        // (inventory's own contract): the event's `order_id`, as text.
        let order_id = event.data["order_id"]
            .as_i64()
            .ok_or_else(|| HandlerError::Malformed("data.order_id is missing".to_owned()))?;
        match self.store.release(&order_id.to_string()).await {
            Ok(_) => Ok(()),
            // Sold and cancelled at once: retrying cannot fix that, a
            // person must look. The dead-letter queue keeps it for them.
            Err(err @ ReserveError::WrongState { .. }) => {
                Err(HandlerError::Malformed(err.to_string()))
            }
            Err(err) => Err(HandlerError::Failed(err.to_string())),
        }
    }
}
// ANCHOR_END: release_on_cancel

/// Runs inventory: chapter 5's API and the consumer beside it.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = server::bind(config.inventory.listen, "INVENTORY_LISTEN").await?;
    serve(listener, config, shutdown).await
}

// ANCHOR: serve
/// [`run`] on a listener bound elsewhere (a test's, say). Readiness stays
/// chapter 5's: inventory takes reservations with or without the broker;
/// releases wait in its queue until it is back.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (store, router) = chapter5::app(&config.inventory.database_url).await?;
    let tasks = BackgroundTasks::new();
    let handler = Arc::new(ReleaseOnCancel { store });
    let connected = Arc::new(AtomicBool::new(false));
    let consumer = config.consumer();
    tasks.spawn("order events consumer", |stop| {
        consumer::run(handler, consumer, connected, stop)
    });
    tasks.serve_until_stopped(listener, router, shutdown).await
}
// ANCHOR_END: serve

/// Inventory in the running system: registered, so orders finds it.
pub type RegisteredConfig = Registered<Config>;

pub async fn run_registered(
    config: RegisteredConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = server::bind(config.service.inventory.listen, "INVENTORY_LISTEN").await?;
    let service = config.service;
    serve_registered(listener, &config.registry, "inventory", shutdown, |l, s| {
        serve(l, service, s)
    })
    .await
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_lines_are_well_formed() {
        super::Config::command().debug_assert();
        super::RegisteredConfig::command().debug_assert();
    }
}
