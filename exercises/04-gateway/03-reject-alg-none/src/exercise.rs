//! The first look a gateway takes at a JWT: its header. Today it accepts
//! any algorithm the token names, including `none` (no signature at all)
//! and `HS256` (a shared secret the attacker may guess).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[derive(Debug, PartialEq, Eq)]
pub enum HeaderError {
    Malformed,
    /// The algorithm is not the one this gateway's keys are for.
    WrongAlgorithm(String),
    /// No `kid`: we cannot tell which key to check it with.
    NoKeyId,
}

/// Returns the token's `kid` if its header is acceptable: `alg` must be
/// exactly `EdDSA`, and a `kid` must be present.
pub fn check_header(token: &str) -> Result<String, HeaderError> {
    let header = token.split('.').next().ok_or(HeaderError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| HeaderError::Malformed)?;
    let json: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| HeaderError::Malformed)?;
    // TODO: the token does not get to choose the algorithm.
    json["kid"]
        .as_str()
        .map(str::to_owned)
        .ok_or(HeaderError::NoKeyId)
}
