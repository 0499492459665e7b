//! Chapter 2 of *Microservices in Rust, Step by Step*: **lightweight
//! communication**. The orders service asks the catalog for prices, over
//! HTTP/JSON or over gRPC.
//!
//! # Layout
//!
//! - [`orders`]: the orders service: its own SQLite database, `POST` and
//!   `GET /v1/orders`, idempotency keys.
//! - [`catalog_client`]: how orders talks to catalog: timeouts as a
//!   budget, a pooled client, consumer-owned DTOs (tolerant reader), and
//!   every failure mapped to a problem the caller can act on.
//! - [`catalog_grpc`]: the catalog's next version: chapter 1's catalog plus
//!   a gRPC API on the same port.
//! - [`proto`]: the code tonic generates from `proto/catalog.proto`.
//!
//! The catalog itself is not copied: [`catalog_grpc`] extends chapter 1's
//! library through its `run_with` extension point.

pub mod catalog_client;
pub mod catalog_grpc;
pub mod orders;

/// Generated from `proto/catalog.proto` by `build.rs`.
pub mod proto {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("bookshop.catalog.v1");
}
