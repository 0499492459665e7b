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

pub mod gateway;
pub mod identity;
