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
use crate::backoff::Backoff;
use crate::broker::{BrokerError, BrokerFlags, close, confirmed_channel, within};
use crate::topology::Topology;
use ch01_autonomy::{outgoing, sqlite};
use lapin::types::FieldTable;

use crate::headers::{self, Kind};
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
    /// Whether a commit in this process ends that sleep early.
    pub wake: Wake,
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
            wake: Wake::Poll,
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

// ANCHOR: wake
/// What ends the relay's sleep when the outbox is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Wake {
    /// Only the clock: a new event waits up to `idle` (this chapter).
    #[default]
    Poll,
    /// Also a commit announced in this process
    /// ([`announce_commit`](ch01_autonomy::sqlite::announce_commit)), with
    /// the clock as the safety net (chapter 7).
    Commit,
}
// ANCHOR_END: wake

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
    let mut backoff = Backoff::new(FIRST_BACKOFF, config.max_backoff);
    while !stop.is_cancelled() {
        let ended = session(&outbox, &config, &mut backoff, &stop).await;
        let delay = backoff.next_delay();
        if let Err(err) = ended {
            let waiting = outbox.pending_count().await.unwrap_or(-1);
            tracing::warn!(%err, waiting, retry_in = ?delay, "relay is not publishing");
        }
        if sleep_unless_stopped(delay, &stop).await {
            break;
        }
    }
}
// ANCHOR_END: run

const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// One connection's worth of publishing: returns when the connection or
/// the channel fails, or, between two batches, when `stop` is cancelled.
async fn session(
    outbox: &Outbox,
    config: &RelayConfig,
    backoff: &mut Backoff,
    stop: &CancellationToken,
) -> Result<(), RelayError> {
    // Before each attempt to connect, so that while the broker is away the
    // backlog gauges keep growing instead of showing the last good look.
    let oldest = outbox.pending(1).await?;
    record_backlog(outbox, &oldest, 1).await;
    let (connection, channel) = confirmed_channel(&config.amqp_addr).await?;
    config.topology.declare_exchanges(&channel).await?;
    tracing::info!("relay connected to the broker");
    backoff.reset(); // the next outage starts waiting short again
    // ANCHOR: session_wake
    while !stop.is_cancelled() {
        // Listening before looking: a commit made while we look still wakes us.
        let mut commit = std::pin::pin!(sqlite::next_commit());
        commit.as_mut().enable();
        let events = outbox.pending(config.batch).await?;
        record_backlog(outbox, &events, config.batch).await;
        if events.is_empty() {
            match config.wake {
                Wake::Poll => {
                    sleep_unless_stopped(config.idle, stop).await;
                }
                Wake::Commit => {
                    tokio::select! {
                        _ = sleep_unless_stopped(config.idle, stop) => {}
                        () = commit => {}
                    }
                }
            }
            continue;
        }
        publish_batch(outbox, &channel, &config.topology, &events).await?;
    }
    // ANCHOR_END: session_wake
    close(&connection, &channel).await;
    Ok(())
}

// ANCHOR: backlog
/// The outbox's backlog as gauges (chapter 7 alerts on them): how many
/// events wait, and how long the oldest has waited. Counting costs a
/// query, so only when the batch is full and more may wait.
async fn record_backlog(outbox: &Outbox, events: &[PendingEvent], batch: u32) {
    let waiting = match events.len() {
        n if n < batch as usize => i64::try_from(n).unwrap_or(i64::MAX),
        _ => outbox.pending_count().await.unwrap_or(i64::MAX),
    };
    let oldest = events
        .first()
        .and_then(|event| event.created_at.parse::<jiff::Timestamp>().ok())
        .map_or(0.0, |at| {
            jiff::Timestamp::now().duration_since(at).as_secs_f64()
        });
    metrics::gauge!("outbox_pending_events").set(waiting as f64);
    metrics::gauge!("outbox_oldest_pending_age_seconds").set(oldest.max(0.0));
}
// ANCHOR_END: backlog

// ANCHOR: producer_span
/// A PRODUCER span for publishing `event`, continuing the trace of the
/// transaction that wrote it, and the headers that carry the span on in
/// the message (OpenTelemetry's messaging conventions name the attributes).
fn producer_span(topology: &Topology, event: &PendingEvent) -> (tracing::Span, FieldTable) {
    let span = headers::message_span(
        Kind::Producer,
        &topology.events,
        &event.routing_key,
        &event.event_id,
    );
    if let Some(traceparent) = event.traceparent.as_deref() {
        outgoing::continue_in(&span, &headers::traceparent(traceparent));
    }
    let carried = span.in_scope(outgoing::headers);
    (span, headers::to_amqp(&carried))
}
// ANCHOR_END: producer_span

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
        let (span, trace_headers) = producer_span(topology, event);
        let properties = BasicProperties::default()
            .with_delivery_mode(2) // persistent: written to disk
            .with_content_type("application/cloudevents+json".into())
            .with_message_id(event.event_id.as_str().into())
            .with_type(event.routing_key.as_str().into())
            .with_headers(trace_headers);
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
        confirms.push((event.id, confirm, span));
    }
    // ANCHOR_END: publish_all
    // ANCHOR: collect_confirms
    let mut sent = Vec::with_capacity(events.len());
    for (id, confirm, _span) in confirms {
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
    metrics::counter!("outbox_published_total").increment(sent.len() as u64);
    if sent.len() < events.len() {
        // Do not spin on events nobody can take yet.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
    // ANCHOR_END: collect_confirms
}
// ANCHOR_END: publish_batch
