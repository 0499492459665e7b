//! Exchanges and queues. Declaring is idempotent in AMQP (the same
//! declaration twice is a no-op), so every side declares what it relies on
//! at start, and again after each reconnect: the publisher its exchange, a
//! consumer its queue, its bindings and its dead-letter queue.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, ExchangeKind};

/// The names of the two exchanges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// Topic exchange for events, routed by key (`order.confirmed`, …).
    pub events: String,
    /// Direct exchange where consumers' rejected messages go.
    pub dead_letter: String,
}

impl Default for Topology {
    fn default() -> Self {
        Self {
            events: "bookshop.events".to_owned(),
            dead_letter: "bookshop.dead-letter".to_owned(),
        }
    }
}

fn durable_exchange() -> ExchangeDeclareOptions {
    ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    }
}

impl Topology {
    // ANCHOR: declare_exchanges
    /// Both exchanges, durable: they survive a broker restart.
    pub async fn declare_exchanges(&self, channel: &Channel) -> lapin::Result<()> {
        channel
            .exchange_declare(
                self.events.as_str().into(),
                ExchangeKind::Topic,
                durable_exchange(),
                FieldTable::default(),
            )
            .await?;
        channel
            .exchange_declare(
                self.dead_letter.as_str().into(),
                ExchangeKind::Direct,
                durable_exchange(),
                FieldTable::default(),
            )
            .await
    }
    // ANCHOR_END: declare_exchanges

    // ANCHOR: declare_queue
    // ANCHOR: queue_dead_letter
    /// A consumer's durable queue, bound to `keys` on the events exchange,
    /// with its dead-letter queue `<queue>.dead-letter`: what the consumer
    /// rejects goes there instead of being lost or redelivered for ever.
    pub async fn declare_queue(
        &self,
        channel: &Channel,
        queue: &str,
        keys: &[&str],
        mut arguments: FieldTable,
    ) -> lapin::Result<()> {
        self.declare_exchanges(channel).await?;
        let dead = dead_letter_queue(queue);
        channel
            .queue_declare(dead.as_str().into(), durable_queue(), arguments.clone())
            .await?;
        channel
            .queue_bind(
                dead.as_str().into(),
                self.dead_letter.as_str().into(),
                queue.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        // ANCHOR_END: queue_dead_letter
        // ANCHOR: queue_bound
        arguments.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(self.dead_letter.as_str().into()),
        );
        arguments.insert(
            "x-dead-letter-routing-key".into(),
            AMQPValue::LongString(queue.into()),
        );
        channel
            .queue_declare(queue.into(), durable_queue(), arguments)
            .await?;
        for key in keys {
            channel
                .queue_bind(
                    queue.into(),
                    self.events.as_str().into(),
                    (*key).into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        Ok(())
        // ANCHOR_END: queue_bound
    }
    // ANCHOR_END: declare_queue
}

/// Where `queue`'s rejected messages wait for a human.
// ANCHOR: queue_type
/// How a queue keeps its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum QueueType {
    /// One node holds the queue (mirrored or not): this chapter's default,
    /// and what a single broker needs.
    #[default]
    Classic,
    /// Replicated on a majority of a cluster's nodes with Raft (chapter 8):
    /// one node can go without losing a message. A message delivered
    /// [`DELIVERY_LIMIT`] times is dead-lettered, whatever the consumer does.
    Quorum,
}

/// Deliveries of one message a quorum queue allows before it gives up
/// on it (the consumer dead-letters after its own 5 attempts first).
pub const DELIVERY_LIMIT: i64 = 20;

impl QueueType {
    /// The declaration arguments that make a queue this type.
    pub fn arguments(self) -> FieldTable {
        let mut arguments = FieldTable::default();
        if self == QueueType::Quorum {
            arguments.insert(
                "x-queue-type".into(),
                AMQPValue::LongString("quorum".into()),
            );
            arguments.insert(
                "x-delivery-limit".into(),
                AMQPValue::LongLongInt(DELIVERY_LIMIT),
            );
        }
        arguments
    }
}
// ANCHOR_END: queue_type

pub fn dead_letter_queue(queue: &str) -> String {
    format!("{queue}.dead-letter")
}

fn durable_queue() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..Default::default()
    }
}
