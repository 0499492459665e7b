//! What every request leaves behind: a server span in the caller's trace,
//! and the RED metrics (rate, errors, duration) of its route.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use opentelemetry::context::FutureExt as _;
use tracing::Instrument as _;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::metrics;
use crate::trace_context::{self, RequestId};

// ANCHOR: every_service
/// What chapter 7 adds to every service: `GET /metrics`, and [`observe`]
/// around every route. Installed with chapter 1's
/// [`add_to_every_service`](ch01_autonomy::server::add_to_every_service).
pub fn add_to_service(routes: Router) -> Router {
    routes
        .route("/metrics", axum::routing::get(metrics::render))
        .layer(middleware::from_fn(observe))
}
// ANCHOR_END: every_service

// ANCHOR: observe
/// Runs one request inside a server span whose parent is the caller's
/// span, and records its duration and status class under its route
/// template (`/v1/books/{id}`, never `/v1/books/42`).
pub async fn observe(route: Option<MatchedPath>, request: Request, next: Next) -> Response {
    let route = route
        .as_ref()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().clone();
    let context = trace_context::extract(request.headers());
    let span = server_span(&method, &route, &context);
    let started = Instant::now();
    let response = next
        .run(request)
        .instrument(span.clone())
        .with_context(context)
        .await;
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    let took = started.elapsed();
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            took_ms = took.as_millis(),
            "served"
        )
    });
    metrics::request_finished(&method, &route, status, took);
    response
}
// ANCHOR_END: observe

// ANCHOR: server_span
/// A span named and shaped as OpenTelemetry's HTTP conventions ask: kind
/// server, `{method} {route}`, with the ids logs print beside it.
fn server_span(method: &Method, route: &str, parent: &opentelemetry::Context) -> tracing::Span {
    let request_id = parent.get::<RequestId>().map_or("-", |id| id.0.as_str());
    let span = tracing::info_span!(
        "HTTP request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = %method,
        http.route = route,
        http.response.status_code = Empty,
        request_id,
        trace_id = Empty,
        span_id = Empty,
    );
    // Fails only when traces are not exported: the span then has no
    // OpenTelemetry side, and the caller's ids are the ones to log.
    let own = match span.set_parent(parent.clone()) {
        Ok(()) => span.context(),
        Err(_) => parent.clone(),
    };
    if let Some((trace_id, span_id)) = trace_context::ids(&own) {
        span.record("trace_id", trace_id);
        span.record("span_id", span_id);
    }
    span
}
// ANCHOR_END: server_span

/// `2xx`, `4xx`, `5xx`…: the label the error rate is computed from.
pub fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}
