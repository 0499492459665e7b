//! Headers a service passes on when it calls another service.
//!
//! Every client in the book (reqwest to catalog, inventory and payments,
//! tonic to catalog, the gateway's proxy) asks here for the headers to add
//! to an outgoing request. Nothing is added until a later chapter installs
//! a propagator: chapter 7 adds the W3C `traceparent` of the current span
//! and the request id, so one request can be followed across services.

use std::sync::OnceLock;

use axum::http::HeaderMap;

static PROPAGATOR: OnceLock<fn(&mut HeaderMap)> = OnceLock::new();

/// Installs `propagate`, which writes what travels with every outgoing
/// call. Returns `false` (and changes nothing) if one was installed before.
pub fn install(propagate: fn(&mut HeaderMap)) -> bool {
    PROPAGATOR.set(propagate).is_ok()
}

/// Adds the headers that travel with an outgoing call to `headers`.
pub fn add_to(headers: &mut HeaderMap) {
    if let Some(propagate) = PROPAGATOR.get() {
        propagate(headers);
    }
}

/// The headers that travel with an outgoing call (empty until installed).
pub fn headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    add_to(&mut headers);
    headers
}

// ANCHOR: call_span
/// A span around one call to `service`. Chapter 7 exports it as a CLIENT
/// span, whose child is the callee's server span; until then it is an
/// ordinary `tracing` span.
pub fn call_span(service: &str, method: &str) -> tracing::Span {
    tracing::info_span!(
        "call",
        otel.name = %format_args!("{method} {service}"),
        otel.kind = "client",
        peer.service = service,
    )
}
// ANCHOR_END: call_span
