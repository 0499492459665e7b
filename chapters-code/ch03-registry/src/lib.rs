//! Chapter 3 of *Microservices in Rust, Step by Step*: **service registry
//! and discovery**.
//!
//! # Layout
//!
//! - [`registry`]: our own registry service: instances register with a
//!   TTL and get a lease, heartbeats renew it, a background task expires
//!   what stops heartbeating, and clients watch a service with blocking
//!   queries (long polls with an index, as Consul does).
//! - [`discovery`]: the client side. The [`discovery::Registry`] trait has
//!   two implementations, our registry over HTTP and **etcd** (leases and
//!   prefix watches), and one conformance suite runs against both. On top
//!   of it: a cache kept fresh by watching, and load balancing.
//! - [`registration`]: self-registration for a service process: register
//!   with its real address, heartbeat at a third of the TTL, register again
//!   when the registry forgot it, deregister on shutdown.
//! - [`services`]: catalog and orders as of this chapter: registering
//!   themselves, and orders finding the catalog through the registry.

pub mod discovery;
pub mod registration;
pub mod registry;
pub mod services;
