//! Context in a message's headers: the W3C `traceparent` (and the request
//! id) travel in AMQP headers as they do in HTTP's, as long strings.
//! Used from chapter 7 on; until a propagator is installed there is
//! nothing to carry.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use lapin::types::{AMQPValue, FieldTable};
use tracing::Span;

/// HTTP-style headers as an AMQP header table.
pub fn to_amqp(headers: &HeaderMap) -> FieldTable {
    let mut table = FieldTable::default();
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            table.insert(name.as_str().into(), AMQPValue::LongString(value.into()));
        }
    }
    table
}

/// The string-valued entries of an AMQP header table, as HTTP-style
/// headers (what a propagator reads).
pub fn from_amqp(table: Option<&FieldTable>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (key, value) in table.map(|t| t.inner().iter()).into_iter().flatten() {
        let text = match value {
            AMQPValue::LongString(text) => text.to_string(),
            AMQPValue::ShortString(text) => text.as_str().to_owned(),
            _ => continue,
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_str().as_bytes()),
            HeaderValue::from_str(&text),
        ) {
            headers.insert(name, value);
        }
    }
    headers
}

/// Which side of a message a span is on.
#[derive(Debug, Clone, Copy)]
pub enum Kind<'a> {
    /// Publishing it (to an exchange).
    Producer,
    /// Processing it, from this queue.
    Consumer(&'a str),
}

// ANCHOR: message_span
/// A span for one message, named and shaped as OpenTelemetry's messaging
/// conventions ask: `{exchange} publish` or `{queue} process`, of kind
/// PRODUCER or CONSUMER, with the system, destination, routing key and
/// message id. Exported from chapter 7 on; before, a plain `tracing` span.
pub fn message_span(kind: Kind<'_>, exchange: &str, routing_key: &str, id: &str) -> Span {
    let (name, otel_kind) = match kind {
        Kind::Producer => (format!("{exchange} publish"), "producer"),
        Kind::Consumer(queue) => (format!("{queue} process"), "consumer"),
    };
    tracing::info_span!(
        "message",
        otel.name = name,
        otel.kind = otel_kind,
        messaging.system = "rabbitmq",
        messaging.destination.name = exchange,
        messaging.rabbitmq.destination.routing_key = routing_key,
        messaging.message.id = id,
    )
}
// ANCHOR_END: message_span

/// A header map holding only `traceparent`.
pub fn traceparent(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert("traceparent", value);
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_survive_the_trip_through_a_message() {
        let mut headers = traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        headers.insert("x-request-id", HeaderValue::from_static("req-1"));
        assert_eq!(from_amqp(Some(&to_amqp(&headers))), headers);
        assert!(from_amqp(None).is_empty());
    }
}
