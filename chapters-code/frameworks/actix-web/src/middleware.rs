//! Chapter 1's tower layers, written again as actix-web middleware:
//! `from_fn` turns an async function into one.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use ch01_autonomy::problem::Problem;
use futures_util::FutureExt;
use tracing::Instrument;

use crate::ApiError;

/// Longest a request may take before the client gets a 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

// ANCHOR: request_id
/// Keeps the caller's `x-request-id` or makes one, runs the request in a
/// span that carries it, and copies it onto the response.
pub async fn request_id_and_span(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = match request.headers().get(&REQUEST_ID) {
        Some(id) => id.clone(),
        None => HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())?,
    };
    request.headers_mut().insert(REQUEST_ID, id.clone());
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        uri = %request.uri(),
        request_id = id.to_str().unwrap_or("-"),
    );
    let started = Instant::now();
    let mut response = next.call(request).instrument(span.clone()).await?;
    span.in_scope(|| {
        let latency = started.elapsed().as_millis();
        tracing::info!(
            status = response.status().as_u16(),
            latency,
            "finished processing request"
        );
    });
    response.headers_mut().insert(REQUEST_ID, id);
    Ok(response)
}
// ANCHOR_END: request_id

// ANCHOR: timeout
/// A 503 problem when the handler takes longer than [`REQUEST_TIMEOUT`].
///
/// It leaves as an error: to build a response here the middleware would
/// need the `HttpRequest`, and a clone of it held while the router runs
/// makes actix-web panic. So this 503 skips the request-id middleware.
pub async fn timeout(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.call(request)).await {
        Ok(response) => response,
        Err(_elapsed) => Err(ApiError(Problem::unavailable("the request took too long")).into()),
    }
}
// ANCHOR_END: timeout

/// A 500 problem when a handler panics, instead of a dropped connection;
/// an error too, for the same reason as the timeout's.
pub async fn catch_panic(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    match AssertUnwindSafe(next.call(request)).catch_unwind().await {
        Ok(response) => response,
        Err(_panic) => {
            tracing::error!("a handler panicked");
            Err(ApiError(Problem::internal()).into())
        }
    }
}
