//! Deciding what to do with a `POST /v1/orders` that carries an
//! `Idempotency-Key`.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// What the client asked for (after validation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderRequest {
    pub customer: String,
    pub book_ids: Vec<i64>,
}

/// What was stored the first time a key was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstUse {
    pub order_id: i64,
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Never seen: process it and remember the key.
    Process,
    /// Seen with the same request: answer with the order made then.
    Replay { order_id: i64 },
    /// Seen with a different request: a client bug, answer 409.
    Conflict,
}

/// A stable fingerprint of a request: the same request, the same string.
pub fn fingerprint(request: &OrderRequest) -> String {
    let bytes = serde_json::to_vec(request).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ANCHOR: solution
/// `first_use` is what the store found for the request's key, if anything.
pub fn decide(first_use: Option<&FirstUse>, request: &OrderRequest) -> Decision {
    match first_use {
        None => Decision::Process,
        Some(first) if first.fingerprint == fingerprint(request) => Decision::Replay {
            order_id: first.order_id,
        },
        Some(_) => Decision::Conflict,
    }
}
// ANCHOR_END: solution
