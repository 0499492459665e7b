//! A metric with labels Prometheus can afford. Every distinct set of
//! label values is a series of its own, kept in memory and on disk for
//! as long as the data is: a label must take a handful of values, never
//! one per book, user or request.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// The counter this middleware adds to.
pub const REQUESTS: &str = "bookshop_requests_total";

// ANCHOR: solution
/// Counts every request in [`REQUESTS`], labelled with the route it took
/// (`route`) and how it went (`status`).
pub async fn count_requests(request: Request, next: Next) -> Response {
    // The template the router matched ("/books/{id}"), not the path
    // ("/books/7"): one value per route, whatever the ids.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let response = next.run(request).await;
    // "2xx" rather than 200, 201, 204…: five values at most.
    let status = match response.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::counter!(REQUESTS, "route" => route, "status" => status).increment(1);
    response
}
// ANCHOR_END: solution
