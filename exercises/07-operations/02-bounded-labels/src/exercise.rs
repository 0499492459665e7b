//! A metric with labels Prometheus can afford. Every distinct set of
//! label values is a series of its own, kept in memory and on disk for
//! as long as the data is: a label must take a handful of values, never
//! one per book, user or request.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// The counter this middleware adds to.
pub const REQUESTS: &str = "bookshop_requests_total";

/// Counts every request in [`REQUESTS`], labelled with the route it took
/// (`route`) and how it went (`status`).
pub async fn count_requests(request: Request, next: Next) -> Response {
    let route = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "route" => route, "status" => status).increment(1);
    response
}
