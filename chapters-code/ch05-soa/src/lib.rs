//! Chapter 5 of *Microservices in Rust, Step by Step*: **service-oriented
//! architecture**: contracts, composition, and the checkout saga.
//!
//! # Layout
//!
//! - [`inventory`]: the inventory service: stock per book, and
//!   reservations that take stock all or nothing, then are confirmed or
//!   released. Every step is idempotent by order id, because a saga
//!   retries.
//! - [`payments`]: the payments service, simulated: approvals and declines
//!   at a failure rate you set, refunds, one payment per order.
//! - [`orders`]: chapter 2's orders with checkout: an orchestrated saga
//!   (reserve → charge → confirm, or compensate and cancel) that survives
//!   a crash of orders itself.
//! - [`catalog`] and [`identity`]: chapters 1 and 4's services, now
//!   publishing their contracts too.
//! - [`contract`] and [`background`]: building blocks every service from
//!   here on shares: the OpenAPI document, and background tasks that stop
//!   cleanly at shutdown.

pub mod background;
pub mod catalog;
pub mod contract;
pub mod identity;
pub mod inventory;
pub mod orders;
pub mod payments;
