//! The first look a gateway takes at a JWT: its header. Only the
//! algorithm the gateway's keys are for is accepted.

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
    match json["alg"].as_str() {
        Some("EdDSA") => {}
        Some(other) => return Err(HeaderError::WrongAlgorithm(other.to_owned())),
        None => return Err(HeaderError::Malformed),
    }
    json["kid"]
        .as_str()
        .map(str::to_owned)
        .ok_or(HeaderError::NoKeyId)
}
