//! Chapter 4 of *Microservices in Rust, Step by Step*: **the API gateway**.
//!
//! # Layout
//!
//! - [`identity`]: the identity service: users with Argon2id password
//!   hashes, short-lived JWTs signed with an Ed25519 key (EdDSA), and the
//!   public key published as a JWKS for anyone who verifies tokens.
//!
//! The gateway itself (routing, forwarding, JWT verification, rate limits,
//! caching, retries and circuit breaking) builds on this module.

pub mod gateway;
pub mod identity;
