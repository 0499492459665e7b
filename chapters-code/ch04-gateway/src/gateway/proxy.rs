//! Forwarding a request to an upstream instance and its answer back,
//! streaming both bodies: the gateway never holds a whole body in memory.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Request, Response, StatusCode, Uri};
use ch01_autonomy::outgoing;
use ch01_autonomy::problem::Problem;
use http_body_util::LengthLimitError;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::auth::USER_HEADER;

pub type HttpClient = Client<HttpConnector, Body>;

/// How long an upstream may take to start answering, unless its route says.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

/// One pooled client for every upstream.
pub fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(Duration::from_millis(500)));
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

// ANCHOR: hop_by_hop
/// Headers that describe one connection, not the message (RFC 9110 §7.6.1):
/// they must not be forwarded, and neither may any header `Connection` names.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in HOP_BY_HOP.iter().chain(&named) {
        headers.remove(name);
    }
}
// ANCHOR_END: hop_by_hop

// ANCHOR: forward
/// Sends `request` to `base` (e.g. `http://127.0.0.1:8002`), at the path
/// it carries, as `user` if the gateway verified one.
pub async fn forward(
    client: &HttpClient,
    base: &str,
    mut request: Request<Body>,
    peer: SocketAddr,
    user: Option<&str>,
    timeout: Duration,
) -> Result<Response<Body>, Problem> {
    let path_and_query = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let uri: Uri = format!("{}{path_and_query}", base.trim_end_matches('/'))
        .parse()
        .map_err(|_| Problem::internal())?;
    *request.uri_mut() = uri;
    rewrite_headers(request.headers_mut(), peer, user);
    send(client, base, request, timeout).await
}
// ANCHOR_END: forward

// ANCHOR: rewrite

/// The request's headers as the upstream should see them.
fn rewrite_headers(headers: &mut HeaderMap, peer: SocketAddr, user: Option<&str>) {
    let original_host = headers.get(header::HOST).cloned();
    strip_hop_by_hop(headers);
    headers.remove(header::HOST); // hyper sets the upstream's
    headers.remove(USER_HEADER); // only the gateway may say who this is
    if let Some(user) = user.and_then(|u| HeaderValue::from_str(u).ok()) {
        headers.insert(USER_HEADER, user);
    }
    let forwarded_for = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(earlier) => format!("{earlier}, {}", peer.ip()),
        None => peer.ip().to_string(),
    };
    if let Ok(value) = HeaderValue::from_str(&forwarded_for) {
        headers.insert("x-forwarded-for", value);
    }
    headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
    if let Some(host) = original_host {
        headers.insert("x-forwarded-host", host);
    }
    outgoing::add_to(headers); // from chapter 7: the gateway's trace context
}
// ANCHOR_END: rewrite

// ANCHOR: forward_send
/// Sends the rewritten request under the route's timeout; the answer comes
/// back with its own hop-by-hop headers stripped.
async fn send(
    client: &HttpClient,
    base: &str,
    request: Request<Body>,
    timeout: Duration,
) -> Result<Response<Body>, Problem> {
    let answer = tokio::time::timeout(timeout, client.request(request)).await;
    let mut response = match answer {
        Ok(Ok(response)) => response.map(Body::new),
        // A streamed body has no length to check up front: the edge's
        // limit cuts it off mid-send. The client's fault, not the instance's.
        Ok(Err(err)) if ran_past_the_limit(&err) => {
            return Err(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the body grew past this gateway's limit while it streamed",
            ));
        }
        Ok(Err(err)) => {
            tracing::warn!(%err, %base, "upstream failed");
            return Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the service behind this route did not answer",
            )
            .with_retry_after(1));
        }
        Err(_) => {
            return Err(Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "the service behind this route took too long",
            ));
        }
    };
    strip_hop_by_hop(response.headers_mut());
    Ok(response)
}
// ANCHOR_END: forward_send

/// Whether sending failed because the request's body ran past the edge's
/// limit (`Limited`'s error, somewhere in the chain of causes).
fn ran_past_the_limit(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(error) = cause {
        if error.is::<LengthLimitError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_the_ones_connection_names_go() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret-hop"),
        );
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert("x-secret-hop", HeaderValue::from_static("1"));
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers.len(), 1);
        assert!(headers.contains_key(header::ACCEPT));
    }
}
