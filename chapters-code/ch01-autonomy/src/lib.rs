//! Chapter 1 of *Microservices in Rust, Step by Step*: **autonomy**.
//!
//! # Layout
//!
//! - [`catalog`]: the catalog service. It owns its data (books, authors,
//!   prices) in its own SQLite database and is reachable only over HTTP.
//! - [`problem`]: errors as `application/problem+json` bodies (RFC 9457),
//!   the one error format every Bookshop service speaks.
//! - [`health`]: `/health/live` and `/health/ready`, the same in every service.
//! - [`json`]: a JSON body extractor whose rejections are problems too.
//! - [`server`]: the building blocks every service binary shares: the
//!   common tower layers (request id, tracing, panics, body limit), the
//!   fallback for unknown routes, and serving with graceful shutdown.
//! - [`outgoing`]: what a service passes on when it calls another one:
//!   nothing here; chapter 7 installs trace context and the request id.
//! - [`sqlite`]: opening a service's own SQLite database and migrating it.
//! - [`telemetry`]: `tracing` set up once per process, pretty or JSON.
//! - [`text`]: what "blank" means, the same in the code and the documents.
//!
//! Later chapters reuse this crate through its library: they call
//! [`catalog::App`] and [`server::serve`] instead of copying them.

pub mod catalog;
pub mod health;
pub mod json;
pub mod outgoing;
pub mod problem;
pub mod server;
pub mod sqlite;
pub mod telemetry;
pub mod text;
