//! Trace context across services: what a request brings in and what a
//! call takes out.
//!
//! Two things travel: the W3C `traceparent` header (which trace, which
//! span called us) and the request id (`x-request-id`, chapter 1's), so
//! that logs of one request can be found in every service even when no
//! traces are exported.

use axum::http::{HeaderMap, HeaderValue};
use ch01_autonomy::server::REQUEST_ID;
use ch01_autonomy::sqlite::BoxedQuery;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, global};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use sqlx::SqliteConnection;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The request id, kept in the OpenTelemetry [`Context`] beside the span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Sets W3C trace context as the way spans travel between processes.
pub fn install_propagator() {
    global::set_text_map_propagator(TraceContextPropagator::new());
}

// ANCHOR: extract
/// The context a request arrives with: the caller's span (if it sent a
/// `traceparent`) and the request id (chapter 1's layer always sets one).
pub fn extract(headers: &HeaderMap) -> Context {
    let remote =
        global::get_text_map_propagator(|propagator| propagator.extract(&HeaderExtractor(headers)));
    match headers.get(REQUEST_ID).and_then(|id| id.to_str().ok()) {
        Some(id) => remote.with_value(RequestId(id.to_owned())),
        None => remote,
    }
}
// ANCHOR_END: extract

// ANCHOR: inject
/// Writes the current context on an outgoing call: `traceparent` for the
/// span the call is made from, and the request id. Installed into
/// chapter 1's [`ch01_autonomy::outgoing`], so every client uses it.
pub fn inject(headers: &mut HeaderMap) {
    let context = Context::current();
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut HeaderInjector(headers));
    });
    let request_id = context.get::<RequestId>();
    if let Some(value) = request_id.and_then(|id| HeaderValue::from_str(&id.0).ok()) {
        headers.insert(REQUEST_ID, value);
    }
}
// ANCHOR_END: inject

/// Makes `span` continue the context in `headers`: a message's, whose
/// producer span is then the span's parent.
pub fn adopt(span: &tracing::Span, headers: &HeaderMap) {
    // Fails only when traces are not exported; then there is nothing to join.
    let _ = span.set_parent(extract(headers));
}

// ANCHOR: remember
/// Keeps the current `traceparent` for the outbox rows this transaction
/// writes: a TEMP table holds it, and a TEMP trigger (both this
/// connection's own) copies it into each new row. The outbox's own
/// triggers, in chapter 6's migration, never learn of it.
pub fn remember_in_transaction(connection: &mut SqliteConnection) -> BoxedQuery<'_> {
    let mut headers = HeaderMap::new();
    inject(&mut headers);
    let traceparent = headers
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    Box::pin(async move {
        sqlx::query("CREATE TEMP TABLE IF NOT EXISTS trace_context (traceparent TEXT)")
            .execute(&mut *connection)
            .await?;
        sqlx::query("DELETE FROM temp.trace_context")
            .execute(&mut *connection)
            .await?;
        sqlx::query("INSERT INTO temp.trace_context (traceparent) VALUES (?1)")
            .bind(traceparent)
            .execute(&mut *connection)
            .await?;
        // Only where there is an outbox; elsewhere creating it fails, and
        // that is fine. (A trigger's UPDATE names its table unqualified.)
        let trigger = sqlx::query(
            "CREATE TEMP TRIGGER IF NOT EXISTS outbox_trace_context \
             AFTER INSERT ON main.outbox BEGIN \
             UPDATE outbox SET traceparent = (SELECT traceparent FROM trace_context) \
             WHERE id = NEW.id; END",
        );
        if let Err(err) = trigger.execute(&mut *connection).await {
            tracing::debug!(%err, "no outbox to keep the trace context for");
        }
        Ok(())
    })
}
// ANCHOR_END: remember

/// The trace and span ids of `context`, as logs and tests print them
/// (`None` when it holds no valid span).
pub fn ids(context: &Context) -> Option<(String, String)> {
    let span = context.span();
    let span_context = span.span_context();
    span_context.is_valid().then(|| {
        (
            span_context.trace_id().to_string(),
            span_context.span_id().to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_and_a_traceparent_come_in_and_go_out_unchanged() {
        install_propagator();
        let mut incoming = HeaderMap::new();
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        incoming.insert("traceparent", HeaderValue::from_static(parent));
        incoming.insert(REQUEST_ID, HeaderValue::from_static("req-1"));
        let context = extract(&incoming);
        let (trace, span) = ids(&context).unwrap();
        assert_eq!(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(span, "00f067aa0ba902b7");

        let _attached = context.attach();
        let mut outgoing = HeaderMap::new();
        inject(&mut outgoing);
        assert_eq!(outgoing["traceparent"], parent);
        assert_eq!(outgoing[REQUEST_ID], "req-1");
    }

    #[test]
    fn nothing_goes_out_when_nothing_came_in() {
        install_propagator();
        let mut outgoing = HeaderMap::new();
        inject(&mut outgoing);
        assert!(outgoing.is_empty(), "{outgoing:?}");
    }
}
