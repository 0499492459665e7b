//! The edge: the first of the gateway's own layers (inside chapter 1's
//! request id and tracing span). A body larger than the gateway forwards
//! is refused with a 413: at once when it declares its length, and as it
//! streams when it does not.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ch01_autonomy::problem::Problem;
use http_body_util::Limited;

/// The largest body forwarded, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub u64);

// ANCHOR: layer
pub async fn limit_body(
    State(BodyLimit(limit)): State<BodyLimit>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(length) = declared_length(request.headers())
        && length > limit
    {
        let detail = format!("the body is {length} bytes; this gateway forwards at most {limit}");
        return Problem::new(StatusCode::PAYLOAD_TOO_LARGE, detail).into_response();
    }
    // Chunked bodies have no Content-Length: count them as they stream.
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    next.run(request.map(|body| Body::new(Limited::new(body, cap))))
        .await
}
// ANCHOR_END: layer

/// The body's length as `Content-Length` declares it, if it does.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
}
