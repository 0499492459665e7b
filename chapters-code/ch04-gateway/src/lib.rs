//! Chapter 4 of *Microservices in Rust, Step by Step*: **the API gateway**.
//!
//! # Layout
//!
//! - [`identity`]: the identity service: users with Argon2id password
//!   hashes, short-lived JWTs signed with an Ed25519 key (EdDSA), and the
//!   public key published as a JWKS for anyone who verifies tokens.
//!
//! - [`gateway`]: the one public entrance: a route table, discovery and
//!   two-choices balancing, streaming forwarding, JWT verification with the
//!   JWKS, rate limiting, GET caching, retries and circuit breaking.
//!
//! - [`orders`]: chapter 2's orders, next version: behind the gateway it
//!   takes the customer from the caller the gateway vouched for, and shows
//!   each caller only their own orders.
//!
//! - [`caller`]: a building block every service behind the gateway
//!   shares: who the caller is, and the trust boundary that makes the
//!   answer believable.

pub mod caller;
pub mod gateway;
pub mod identity;
pub mod orders;
