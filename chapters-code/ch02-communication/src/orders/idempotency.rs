//! `Idempotency-Key`: a client that retries a `POST` after a timeout must
//! not buy the same books twice.
//!
//! The client picks a unique key per logical request and sends it with
//! every retry. The first request with a key is processed; later ones with
//! the same key and the same body get the first result back; the same key
//! with a different body is a client bug and gets a 409 Conflict.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use super::model::NewOrder;
use ch01_autonomy::problem::{FieldError, Problem};

pub const HEADER: &str = "idempotency-key";
pub const MAX_KEY_LEN: usize = 255;

// ANCHOR: key
/// The key from the request headers, if any, checked for sanity.
pub fn key_from(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default().trim();
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Problem::invalid_fields(vec![FieldError::new(
            "Idempotency-Key",
            format!("must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
        )]));
    }
    Ok(Some(key.to_owned()))
}

/// A fingerprint of what the request asked for, after validation, so that
/// whitespace or key order in the JSON does not make two requests differ.
pub fn fingerprint(order: &NewOrder) -> String {
    let canonical = serde_json::to_vec(order).unwrap_or_default();
    let digest = Sha256::digest(&canonical);
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}
// ANCHOR_END: key

/// The 409 for a key reused with a different body: the request is well
/// formed, but the key already belongs to another one. (The IETF draft
/// suggests 422; a 422 would say the request itself breaks the rules,
/// which no schema a client reads can know.)
pub fn reused_with_other_body() -> Problem {
    Problem {
        kind: "https://bookshop.example/problems/idempotency-key-reused".to_owned(),
        title: "Idempotency-Key reused with a different request".to_owned(),
        ..Problem::new(
            axum::http::StatusCode::CONFLICT,
            "this Idempotency-Key was first used with a different body; \
             use a new key for a new order",
        )
    }
}
