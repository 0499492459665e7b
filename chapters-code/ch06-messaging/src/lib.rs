//! Chapter 6 of *Microservices in Rust, Step by Step*: **message-oriented
//! middleware**: RabbitMQ with lapin.
//!
//! # Layout
//!
//! - [`backoff`]: how long to wait before reconnecting (capped, jittered).
//! - [`events`]: the envelope every event travels in (CloudEvents names).
//! - [`topology`]: the exchanges and queues, declared idempotently by the
//!   side that owns them.
//! - [`headers`]: context (chapter 7's trace) in a message's headers.
//! - [`outbox`]: orders' transactional outbox: the event rows written with
//!   the change they report, and the [`relay`](outbox::relay) that
//!   publishes them with publisher confirms.
//! - [`orders`]: chapter 5's orders with the outbox and the relay.
//! - [`consumer`]: a reliable consumer: manual acks, prefetch, bounded
//!   retries, dead letters, reconnects; the services give it a handler.
//! - [`notifications`]: the notifications service, a consumer with an
//!   inbox, so a redelivered event notifies once.
//! - [`inventory`]: chapter 5's inventory, releasing stock when it hears
//!   `order.cancelled` (choreography instead of a call from the saga).

pub mod backoff;
pub mod broker;
pub mod consumer;
pub mod events;
pub mod headers;
pub mod inventory;
pub mod notifications;
pub mod orders;
pub mod outbox;
pub mod topology;
