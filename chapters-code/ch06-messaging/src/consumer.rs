//! A reliable consumer: manual acks, a prefetch limit, bounded retries,
//! dead letters with a reason, and reconnection that declares the topology
//! again.
//!
//! The one rule behind all of it: a message is acked only after what it
//! asked for is done, or after it was handed on (retried or dead-lettered)
//! with a publisher confirm. Until then the broker keeps it, and a crash
//! means a redelivery, never a loss.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Confirmation};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::backoff::Backoff;
use crate::broker::{BrokerError, BrokerFlags, close, confirmed_channel, within};
use crate::events::{Envelope, ORDER_CANCELLED, ORDER_CONFIRMED, ORDER_PLACED};
use crate::headers::{self, Kind};
use crate::topology::Topology;
use ch01_autonomy::outgoing;
use ch05_soa::background::sleep_unless_stopped;

/// Header counting how often a message was tried and failed.
pub const ATTEMPTS_HEADER: &str = "x-attempts";
/// Header saying why a message was dead-lettered.
pub const REASON_HEADER: &str = "x-reason";

// ANCHOR: handler
/// What a consumer does with one event.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, event: &Envelope) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// Why an event was not handled, sorted by what to do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// The message can never be handled (not an envelope, a field
    /// missing): dead-letter it at once, and go on with the next.
    #[error("malformed: {0}")]
    Malformed(String),
    /// Handling failed this time (the database was busy, say): try again,
    /// a bounded number of times.
    #[error("failed: {0}")]
    Failed(String),
}
// ANCHOR_END: handler

/// Why a consumer session ended.
#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    #[error(transparent)]
    Broker(#[from] BrokerError),
    #[error("a retry or dead letter was not confirmed by the broker")]
    NotHandedOn,
    #[error("the connection to the broker is gone")]
    ConnectionLost,
}

impl From<lapin::Error> for ConsumeError {
    fn from(err: lapin::Error) -> Self {
        ConsumeError::Broker(err.into())
    }
}

/// Which events the consumer takes, and how.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub amqp_addr: String,
    pub topology: Topology,
    pub queue: String,
    pub routing_keys: Vec<String>,
    /// Unacked messages the broker may push ahead of the consumer.
    pub prefetch: u16,
    /// Tries before a failing message is dead-lettered.
    pub max_attempts: u32,
    pub max_backoff: Duration,
    /// Extra arguments for the queue (e.g. `x-expires` for a throwaway one).
    pub queue_arguments: FieldTable,
}

impl ConsumerConfig {
    pub fn new(amqp_addr: impl Into<String>, queue: impl Into<String>) -> Self {
        Self {
            amqp_addr: amqp_addr.into(),
            topology: Topology::default(),
            queue: queue.into(),
            routing_keys: [ORDER_PLACED, ORDER_CONFIRMED, ORDER_CANCELLED]
                .map(str::to_owned)
                .to_vec(),
            prefetch: 20,
            max_attempts: 5,
            max_backoff: Duration::from_secs(5),
            queue_arguments: FieldTable::default(),
        }
    }

    /// A consumer of `queue` on the broker and exchanges `broker` names.
    pub fn from_flags(broker: &BrokerFlags, queue: impl Into<String>) -> Self {
        Self {
            topology: broker.topology(),
            queue_arguments: broker.queue_type.arguments(),
            ..Self::new(&broker.amqp_addr, queue)
        }
    }

    /// Only for throwaway queues (tests, demos): the broker deletes the
    /// queue after `expires_ms` without a consumer. A real service's queue
    /// must outlive its consumer, or events are lost while it is down.
    pub fn expiring(mut self, expires_ms: Option<u32>) -> Self {
        if let Some(expires) = expires_ms {
            self.queue_arguments
                .insert("x-expires".into(), AMQPValue::LongUInt(expires));
        }
        self
    }
}

// ANCHOR: run
// ANCHOR: reconnect
/// Consumes until `stop` is cancelled, reconnecting with backoff.
/// `connected` says whether a session is running (readiness reports it).
pub async fn run<H: Handler>(
    handler: Arc<H>,
    config: ConsumerConfig,
    connected: Arc<AtomicBool>,
    stop: CancellationToken,
) {
    let mut backoff = Backoff::new(Duration::from_millis(100), config.max_backoff);
    while !stop.is_cancelled() {
        let ended = session(handler.as_ref(), &config, &connected, &stop).await;
        if connected.swap(false, Ordering::SeqCst) {
            backoff.reset(); // it was up: start short again
        }
        let delay = backoff.next_delay();
        match ended {
            Ok(Ended::Stopped) => break,
            Ok(Ended::ByBroker) => tracing::warn!("the broker closed the consumer"),
            Err(err) => tracing::warn!(%err, retry_in = ?delay, "consumer disconnected"),
        }
        if sleep_unless_stopped(delay, &stop).await {
            break;
        }
    }
}
// ANCHOR_END: reconnect

/// How a session that did not fail ended.
enum Ended {
    /// Told to stop: the delivery in hand was settled, the channel closed,
    /// and what the broker had sent ahead goes back to the queue.
    Stopped,
    ByBroker,
}

// ANCHOR: session_setup
async fn session<H: Handler>(
    handler: &H,
    config: &ConsumerConfig,
    connected: &AtomicBool,
    stop: &CancellationToken,
) -> Result<Ended, ConsumeError> {
    let (connection, channel) = confirmed_channel(&config.amqp_addr).await?;
    channel
        .basic_qos(config.prefetch, BasicQosOptions::default())
        .await?;
    let keys: Vec<&str> = config.routing_keys.iter().map(String::as_str).collect();
    config
        .topology
        .declare_queue(
            &channel,
            &config.queue,
            &keys,
            config.queue_arguments.clone(),
        )
        .await?;
    let mut deliveries = channel
        .basic_consume(
            config.queue.as_str().into(),
            "".into(),                      // the broker names the consumer
            BasicConsumeOptions::default(), // manual acks
            FieldTable::default(),
        )
        .await?;
    connected.store(true, Ordering::SeqCst);
    tracing::info!(queue = %config.queue, "consuming");
    // ANCHOR_END: session_setup
    // ANCHOR: session_loop
    // The stream ends or errs when the connection drops, as a rule; the
    // check every second covers the rare drop it misses, which would
    // otherwise leave the consumer waiting for ever.
    let mut check = tokio::time::interval(CONNECTION_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // Stopping is looked at only here, between two deliveries: the
        // one in hand is always handled and settled first.
        let next = tokio::select! {
            biased;
            () = stop.cancelled() => {
                close(&connection, &channel).await;
                tracing::info!(queue = %config.queue, "stopped consuming");
                return Ok(Ended::Stopped);
            }
            next = deliveries.next() => next,
            _ = check.tick() => {
                if connection.status().connected() {
                    continue;
                }
                return Err(ConsumeError::ConnectionLost);
            }
        };
        match next {
            Some(delivery) => {
                let delivery = delivery?;
                let span = consumer_span(config, &delivery);
                process(handler, config, &channel, delivery)
                    .instrument(span)
                    .await?;
            }
            None => return Ok(Ended::ByBroker),
        }
    }
    // ANCHOR_END: session_loop
}

/// How often an idle consumer checks that its connection is still there.
const CONNECTION_CHECK: Duration = Duration::from_secs(1);
// ANCHOR_END: run

// ANCHOR: process
async fn process<H: Handler>(
    handler: &H,
    config: &ConsumerConfig,
    channel: &Channel,
    delivery: Delivery,
) -> Result<(), ConsumeError> {
    let outcome = match serde_json::from_slice::<Envelope>(&delivery.data) {
        Ok(event) => handler
            .handle(&event)
            .await
            .inspect(|()| aged(config, &event)),
        Err(err) => Err(HandlerError::Malformed(format!(
            "not an event envelope: {err}"
        ))),
    };
    match outcome {
        Ok(()) => counted(config, &delivery, "handled"),
        Err(HandlerError::Malformed(reason)) => {
            tracing::warn!(%reason, "dead-lettering a malformed message");
            dead_letter(config, channel, &delivery, &reason).await?;
        }
        Err(HandlerError::Failed(reason)) => {
            let attempts = attempts(&delivery) + 1;
            if attempts >= config.max_attempts {
                let reason = format!("failed {attempts} times, last: {reason}");
                tracing::warn!(%reason, "dead-lettering");
                dead_letter(config, channel, &delivery, &reason).await?;
            } else {
                tracing::info!(attempts, %reason, "will retry");
                tokio::time::sleep(Duration::from_millis(50) * attempts).await;
                retry(config, channel, &delivery, attempts).await?;
            }
        }
    }
    // Only now: the work is done, or the message is safely somewhere else.
    within("ack", delivery.ack(BasicAckOptions::default())).await?;
    Ok(())
}
// ANCHOR_END: process

/// How often this message failed before.
pub fn attempts(delivery: &Delivery) -> u32 {
    let header = delivery
        .properties
        .headers()
        .as_ref()
        .and_then(|headers| headers.inner().get(ATTEMPTS_HEADER).cloned());
    match header {
        Some(AMQPValue::LongUInt(n)) => n,
        Some(AMQPValue::LongLongInt(n)) => u32::try_from(n).unwrap_or(u32::MAX),
        Some(AMQPValue::LongInt(n)) => u32::try_from(n).unwrap_or(0),
        _ => 0,
    }
}

fn with_header(delivery: &Delivery, key: &str, value: AMQPValue) -> BasicProperties {
    let mut headers = delivery.properties.headers().clone().unwrap_or_default();
    headers.insert(key.into(), value);
    delivery.properties.clone().with_headers(headers)
}

/// Back to the end of the queue, with the attempt counted.
async fn retry(
    config: &ConsumerConfig,
    channel: &Channel,
    delivery: &Delivery,
    attempts: u32,
) -> Result<(), ConsumeError> {
    counted(config, delivery, "retried");
    let properties = with_header(delivery, ATTEMPTS_HEADER, AMQPValue::LongUInt(attempts));
    publish_confirmed(channel, "", &config.queue, &delivery.data, properties).await
}

// ANCHOR: consumer_span
/// A CONSUMER span for handling `delivery`, continuing the trace its
/// producer put in the message's headers (chapter 7).
fn consumer_span(config: &ConsumerConfig, delivery: &Delivery) -> tracing::Span {
    let message_id = delivery
        .properties
        .message_id()
        .as_ref()
        .map(|id| id.to_string());
    let span = headers::message_span(
        Kind::Consumer(&config.queue),
        delivery.exchange.as_str(),
        delivery.routing_key.as_str(),
        message_id.as_deref().unwrap_or(""),
    );
    let carried = headers::from_amqp(delivery.properties.headers().as_ref());
    outgoing::continue_in(&span, &carried);
    span
}
// ANCHOR_END: consumer_span

// ANCHOR: counted
/// Counts a delivery by what became of it (`handled`, `retried`,
/// `dead_lettered`), and the broker's redeliveries (a consumer died or
/// lost its channel holding it). Through the `metrics` facade: nothing
/// happens until a process installs a recorder (chapter 7).
fn counted(config: &ConsumerConfig, delivery: &Delivery, outcome: &'static str) {
    let queue = config.queue.clone();
    metrics::counter!("consumer_deliveries_total", "queue" => queue.clone(), "outcome" => outcome)
        .increment(1);
    if delivery.redelivered {
        metrics::counter!("consumer_redeliveries_total", "queue" => queue).increment(1);
    }
}

/// How long after it happened an event was handled here: for
/// notifications, order committed → notification committed.
fn aged(config: &ConsumerConfig, event: &Envelope) {
    let Ok(happened) = event.time.parse::<jiff::Timestamp>() else {
        return;
    };
    let age = jiff::Timestamp::now()
        .duration_since(happened)
        .as_secs_f64();
    metrics::histogram!("event_age_seconds", "queue" => config.queue.clone()).record(age.max(0.0));
}
// ANCHOR_END: counted

/// To the dead-letter queue, with the reason.
async fn dead_letter(
    config: &ConsumerConfig,
    channel: &Channel,
    delivery: &Delivery,
    reason: &str,
) -> Result<(), ConsumeError> {
    counted(config, delivery, "dead_lettered");
    let properties = with_header(
        delivery,
        REASON_HEADER,
        AMQPValue::LongString(reason.into()),
    );
    let exchange = config.topology.dead_letter.clone();
    publish_confirmed(
        channel,
        &exchange,
        &config.queue,
        &delivery.data,
        properties,
    )
    .await
}

async fn publish_confirmed(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    body: &[u8],
    properties: BasicProperties,
) -> Result<(), ConsumeError> {
    let confirm = channel
        .basic_publish(
            exchange.into(),
            routing_key.into(),
            BasicPublishOptions {
                mandatory: true,
                ..Default::default()
            },
            body,
            properties,
        )
        .await?;
    match within("publisher confirm", confirm).await? {
        Confirmation::Ack(None) | Confirmation::NotRequested => Ok(()),
        // Not handed on: fail the session, so the message is not acked and
        // the broker delivers it again after the reconnect.
        _ => Err(ConsumeError::NotHandedOn),
    }
}
