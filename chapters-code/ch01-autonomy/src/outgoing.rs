//! Headers a service passes on when it calls another service.
//!
//! Every client in the book (reqwest to catalog, inventory and payments,
//! tonic to catalog, the gateway's proxy) asks here for the headers to add
//! to an outgoing request. Nothing is added until a later chapter installs
//! a propagator: chapter 7 adds the W3C `traceparent` of the current span
//! and the request id, so one request can be followed across services.

use std::sync::OnceLock;

use axum::http::HeaderMap;

// ANCHOR: propagator
/// How context travels, once a later chapter says so (chapter 7: W3C
/// trace context and the request id).
#[derive(Debug, Clone, Copy)]
pub struct Propagator {
    /// Writes the current context into an outgoing call's headers.
    pub inject: fn(&mut HeaderMap),
    /// Makes `span` continue the context that arrived in `headers` (a
    /// message's, say: HTTP requests have chapter 7's layer for this).
    pub adopt: fn(&tracing::Span, &HeaderMap),
}
// ANCHOR_END: propagator

static PROPAGATOR: OnceLock<Propagator> = OnceLock::new();

/// Installs `propagator` for the whole process. Returns `false` (and
/// changes nothing) if one was installed before.
pub fn install(propagator: Propagator) -> bool {
    PROPAGATOR.set(propagator).is_ok()
}

/// Adds the headers that travel with an outgoing call to `headers`.
pub fn add_to(headers: &mut HeaderMap) {
    if let Some(propagator) = PROPAGATOR.get() {
        (propagator.inject)(headers);
    }
}

/// Makes `span` continue the context in `headers` (nothing until installed).
pub fn continue_in(span: &tracing::Span, headers: &HeaderMap) {
    if let Some(propagator) = PROPAGATOR.get() {
        (propagator.adopt)(span, headers);
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
