//! Chapter 6 of *Microservices in Rust, Step by Step*: **message-oriented
//! middleware**: RabbitMQ with lapin.
//!
//! # Layout
//!
//! - [`events`]: the envelope every event travels in (CloudEvents names).
//! - [`topology`]: the exchanges and queues, declared idempotently by the
//!   side that owns them.
//! - [`outbox`]: orders' transactional outbox: the event rows written with
//!   the change they report, and the [`relay`](outbox::relay) that
//!   publishes them with publisher confirms.
//! - [`orders`]: chapter 5's orders with the outbox and the relay.
//! - [`notifications`]: the notifications service, a reliable consumer
//!   with an inbox: manual acks, prefetch, bounded retries, dead letters.

pub mod broker;
pub mod events;
pub mod notifications;
pub mod orders;
pub mod outbox;
pub mod topology;
