//! Caching GET responses at the gateway, honouring `Cache-Control`.
//! moka does the storage (bounded by bytes, evicting the least used);
//! the HTTP rules about *what* may be cached are written out here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, Response, StatusCode};
use axum::middleware::Next;
use http_body_util::BodyExt;

use super::edge::declared_length;
use super::routes::Resolved;

/// Larger responses stream through, uncached.
pub const MAX_CACHED_BODY: u64 = 256 * 1024;
/// The cache's size bound, in bytes of bodies.
pub const MAX_CACHE_BYTES: u64 = 32 * 1024 * 1024;
pub const CACHE_HEADER: &str = "x-cache";

#[derive(Debug, Clone)]
struct Entry {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    expires: Instant,
}

#[derive(Debug, Clone)]
pub struct ResponseCache {
    entries: moka::future::Cache<String, Entry>,
}

impl Default for ResponseCache {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseCache {
    pub fn new() -> Self {
        let entries = moka::future::Cache::builder()
            .weigher(|_key: &String, entry: &Entry| {
                u32::try_from(entry.body.len()).unwrap_or(u32::MAX)
            })
            .max_capacity(MAX_CACHE_BYTES)
            .time_to_live(Duration::from_secs(3600))
            .build();
        Self { entries }
    }

    /// A fresh cached answer for `key`, marked as a hit.
    pub async fn get(&self, key: &str) -> Option<Response<Body>> {
        let lookups = |result: &'static str| {
            metrics::counter!("gateway_cache_lookups_total", "result" => result).increment(1);
        };
        let Some(entry) = self.entries.get(key).await else {
            lookups("miss");
            return None;
        };
        if entry.expires <= Instant::now() {
            self.entries.invalidate(key).await;
            lookups("miss");
            return None;
        }
        lookups("hit");
        let mut response = Response::new(Body::from(entry.body));
        *response.status_mut() = entry.status;
        *response.headers_mut() = entry.headers;
        response
            .headers_mut()
            .insert(CACHE_HEADER, HeaderValue::from_static("hit"));
        Some(response)
    }

    // ANCHOR: store
    /// Stores `response` under `key` for at most `route_ttl`, if HTTP says
    /// it may be shared; returns the response to send either way.
    pub async fn store(
        &self,
        key: String,
        route_ttl: Duration,
        response: Response<Body>,
    ) -> Response<Body> {
        let Some(ttl) = shareable_for(&response, route_ttl) else {
            return mark(response, "miss");
        };
        let (parts, body) = response.into_parts();
        let Ok(collected) = body.collect().await else {
            return mark(Response::from_parts(parts, Body::empty()), "miss");
        };
        let body = collected.to_bytes();
        // Per-response headers are not part of what is shared: each hit
        // gets its own request id (and `Date`) from the layers around us.
        let mut headers = parts.headers.clone();
        headers.remove("x-request-id");
        headers.remove(header::DATE);
        self.entries
            .insert(
                key,
                Entry {
                    status: parts.status,
                    headers,
                    body: body.clone(),
                    expires: Instant::now() + ttl,
                },
            )
            .await;
        mark(Response::from_parts(parts, Body::from(body)), "miss")
    }
    // ANCHOR_END: store
}

// ANCHOR: layer
/// Shared answers only: an anonymous GET on a route with a cache TTL is
/// answered from the cache when it can be, and its answer kept if HTTP
/// allows; everything else passes through untouched.
pub async fn serve_from_cache(
    State(cache): State<Arc<ResponseCache>>,
    Resolved(route): Resolved,
    request: Request,
    next: Next,
) -> Response<Body> {
    let ttl = match route.cache_ttl_secs {
        Some(ttl)
            if request.method() == Method::GET
                && !route.auth
                && route.session_cookie.is_none()
                && !request.headers().contains_key(header::AUTHORIZATION) =>
        {
            Duration::from_secs(ttl)
        }
        _ => return next.run(request).await,
    };
    // The upstream path and query, as the route layer rewrote them.
    let key = format!("{} {}", route.service, request.uri());
    if let Some(hit) = cache.get(&key).await {
        return hit;
    }
    let response = next.run(request).await;
    cache.store(key, ttl, response).await
}
// ANCHOR_END: layer

// ANCHOR: shareable
/// How long a response may be kept in a shared cache, if at all: a 200
/// of known, small size, without `Vary`, `Set-Cookie`, `private`,
/// `no-store` or `no-cache`; `max-age` can shorten the route's TTL.
fn shareable_for(response: &Response<Body>, route_ttl: Duration) -> Option<Duration> {
    let headers = response.headers();
    let small = declared_length(headers).is_some_and(|len| len <= MAX_CACHED_BODY);
    if response.status() != StatusCode::OK
        || !small
        || headers.contains_key(header::VARY)
        || headers.contains_key(header::SET_COOKIE)
    {
        return None;
    }
    let mut ttl = route_ttl;
    let directives = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|d| d.trim().to_ascii_lowercase());
    for directive in directives {
        match directive.as_str() {
            "private" | "no-store" | "no-cache" => return None,
            d => {
                if let Some(seconds) = d
                    .strip_prefix("max-age=")
                    .and_then(|s| s.parse::<u64>().ok())
                {
                    ttl = ttl.min(Duration::from_secs(seconds));
                }
            }
        }
    }
    (!ttl.is_zero()).then_some(ttl)
}
// ANCHOR_END: shareable

fn mark(mut response: Response<Body>, how: &'static str) -> Response<Body> {
    response
        .headers_mut()
        .insert(CACHE_HEADER, HeaderValue::from_static(how));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(cache_control: Option<&str>) -> Response<Body> {
        let mut response = Response::new(Body::from("{}"));
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("2"));
        if let Some(value) = cache_control {
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_str(value).unwrap());
        }
        response
    }

    #[test]
    fn cache_control_decides() {
        let ttl = Duration::from_secs(30);
        assert_eq!(shareable_for(&response(None), ttl), Some(ttl));
        assert_eq!(
            shareable_for(&response(Some("public, max-age=5")), ttl),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            shareable_for(&response(Some("private, max-age=60")), ttl),
            None
        );
        assert_eq!(shareable_for(&response(Some("no-store")), ttl), None);
        assert_eq!(shareable_for(&response(Some("max-age=0")), ttl), None);
    }
}
