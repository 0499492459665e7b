//! The relay: publishes the outbox's pending events to RabbitMQ, and marks
//! each one sent only after the broker confirmed it.
//!
//! What it guarantees: every committed event reaches the exchange at least
//! once, across broker outages and relay crashes. What it does not: exactly
//! once. If the relay dies after the broker confirmed but before the row is
//! marked, the event is published again on restart; consumers deduplicate
//! by the envelope's `id`.

use std::time::Duration;

use lapin::options::BasicPublishOptions;
use lapin::{BasicProperties, Channel, Confirmation};
use tokio_util::sync::CancellationToken;

use super::{Outbox, PendingEvent};
use crate::broker::{BrokerError, BrokerFlags, close, confirmed_channel, within};
use crate::topology::Topology;
use ch05_soa::background::sleep_unless_stopped;

/// How the relay runs.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub amqp_addr: String,
    pub topology: Topology,
    /// Events published before waiting for their confirms.
    pub batch: u32,
    /// How long to sleep when the outbox is empty.
    pub idle: Duration,
    /// The longest wait between reconnection attempts.
    pub max_backoff: Duration,
}

impl RelayConfig {
    pub fn new(amqp_addr: impl Into<String>) -> Self {
        Self {
            amqp_addr: amqp_addr.into(),
            topology: Topology::default(),
            batch: 100,
            idle: Duration::from_millis(50),
            max_backoff: Duration::from_secs(5),
        }
    }

    /// A relay to the broker and events exchange `broker` names.
    pub fn from_flags(broker: &BrokerFlags) -> Self {
        Self {
            topology: broker.topology(),
            ..Self::new(&broker.amqp_addr)
        }
    }
}

/// Why a connected session of the relay ended.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Broker(#[from] BrokerError),
    #[error("the outbox: {0}")]
    Outbox(#[from] super::StoreError),
}

impl From<lapin::Error> for RelayError {
    fn from(err: lapin::Error) -> Self {
        RelayError::Broker(err.into())
    }
}

// ANCHOR: run
/// Runs until `stop` is cancelled: connect, publish until something
/// breaks, wait, connect again. Nothing is lost while it waits: the events
/// stay in the outbox. Told to stop, it finishes the batch in hand (its
/// confirms, and marking it sent), closes the channel, and returns.
pub async fn run(outbox: Outbox, config: RelayConfig, stop: CancellationToken) {
    let mut backoff = FIRST_BACKOFF;
    while !stop.is_cancelled() {
        match session(&outbox, &config, &mut backoff, &stop).await {
            Ok(()) => {}
            Err(err) => {
                let waiting = outbox.pending_count().await.unwrap_or(-1);
                tracing::warn!(%err, waiting, retry_in = ?backoff, "relay is not publishing");
            }
        }
        if sleep_unless_stopped(backoff, &stop).await {
            break;
        }
        backoff = (backoff * 2).min(config.max_backoff);
    }
}
// ANCHOR_END: run

const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// One connection's worth of publishing: returns when the connection or
/// the channel fails, or, between two batches, when `stop` is cancelled.
async fn session(
    outbox: &Outbox,
    config: &RelayConfig,
    backoff: &mut Duration,
    stop: &CancellationToken,
) -> Result<(), RelayError> {
    let (connection, channel) = confirmed_channel(&config.amqp_addr).await?;
    config.topology.declare_exchanges(&channel).await?;
    tracing::info!("relay connected to the broker");
    *backoff = FIRST_BACKOFF; // the next outage starts waiting short again
    while !stop.is_cancelled() {
        let events = outbox.pending(config.batch).await?;
        if events.is_empty() {
            sleep_unless_stopped(config.idle, stop).await;
            continue;
        }
        publish_batch(outbox, &channel, &config.topology, &events).await?;
    }
    close(&connection, &channel).await;
    Ok(())
}

// ANCHOR: publish_batch
// ANCHOR: publish_all
/// Publishes a batch, then waits for every confirm. Only events the broker
/// acked, and did not return as unroutable, are marked sent.
async fn publish_batch(
    outbox: &Outbox,
    channel: &Channel,
    topology: &Topology,
    events: &[PendingEvent],
) -> Result<(), RelayError> {
    let mut confirms = Vec::with_capacity(events.len());
    for event in events {
        let properties = BasicProperties::default()
            .with_delivery_mode(2) // persistent: written to disk
            .with_content_type("application/cloudevents+json".into())
            .with_message_id(event.event_id.as_str().into())
            .with_type(event.routing_key.as_str().into());
        let confirm = channel
            .basic_publish(
                topology.events.as_str().into(),
                event.routing_key.as_str().into(),
                BasicPublishOptions {
                    mandatory: true, // unroutable comes back instead of vanishing
                    ..Default::default()
                },
                event.envelope.as_bytes(),
                properties,
            )
            .await?;
        confirms.push((event.id, confirm));
    }
    // ANCHOR_END: publish_all
    // ANCHOR: collect_confirms
    let mut sent = Vec::with_capacity(events.len());
    for (id, confirm) in confirms {
        match within("publisher confirm", confirm).await? {
            Confirmation::Ack(None) => sent.push(id),
            Confirmation::Ack(Some(returned)) => {
                tracing::warn!(id, reply = %returned.reply_text, "no queue for this event yet; kept");
                outbox.mark_failed(id).await?;
            }
            Confirmation::Nack(_) => {
                tracing::warn!(id, "the broker refused the event; kept");
                outbox.mark_failed(id).await?;
            }
            Confirmation::NotRequested => sent.push(id),
        }
    }
    outbox.mark_sent(&sent).await?;
    if sent.len() < events.len() {
        // Do not spin on events nobody can take yet.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
    // ANCHOR_END: collect_confirms
}
// ANCHOR_END: publish_batch
