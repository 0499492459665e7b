//! The innermost layer: sends the request to one instance of its route's
//! service, reports the outcome to that instance's breaker, and tells the
//! retry layer around it how the attempt went.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ch01_autonomy::outgoing;
use ch01_autonomy::problem::Problem;
use tracing::Instrument as _;

use super::auth::VerifiedUser;
use super::proxy::{self, HttpClient};
use super::routes::Resolved;
use super::upstreams::Upstreams;

/// The response header naming the instance that answered: for operators.
pub const UPSTREAM_HEADER: &str = "x-bookshop-upstream";

/// Instances already tried for this request (set by the retry layer).
#[derive(Debug, Clone, Default)]
pub struct Tried(pub Vec<String>);

/// How an attempt went, on its response, for the retry layer.
#[derive(Debug, Clone)]
pub enum Attempt {
    Answered,
    /// A connection error, a timeout or a 5xx from this instance.
    Failed {
        instance_id: String,
    },
    /// Every instance was tried already or refused by its breaker.
    NoInstanceLeft,
}

/// What forwarding needs: where the instances are, and a pooled client.
#[derive(Debug)]
pub struct Forwarder {
    pub upstreams: Arc<Upstreams>,
    pub client: HttpClient,
}

// ANCHOR: forward
pub async fn forward(
    State(forwarder): State<Arc<Forwarder>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Resolved(route): Resolved,
    request: Request,
) -> Response {
    let tried = request
        .extensions()
        .get::<Tried>()
        .map_or(&[][..], |t| &t.0);
    let Some((instance, _in_flight)) = forwarder.upstreams.pick(&route.service, tried) else {
        let mut response = no_instance(&route.service);
        response.extensions_mut().insert(Attempt::NoInstanceLeft);
        return response;
    };
    let user = request
        .extensions()
        .get::<VerifiedUser>()
        .map(|u| u.0.clone());
    let timeout = route
        .timeout_ms
        .map_or(proxy::UPSTREAM_TIMEOUT, Duration::from_millis);
    let client = &forwarder.client;
    let (address, user) = (&instance.address, user.as_deref());
    let span = outgoing::call_span(&route.service, request.method().as_str());
    let result = proxy::forward(client, address, request, peer, user, timeout)
        .instrument(span)
        .await;
    // A 5xx, a timeout or no connection is the instance's failure; a body
    // that ran past the limit is the client's.
    let failed = match &result {
        Ok(response) => response.status().is_server_error(),
        Err(problem) => problem.status_code().is_server_error(),
    };
    forwarder.upstreams.report(&instance.instance_id, failed);
    answer(result, instance.instance_id, failed)
}
// ANCHOR_END: forward

/// The response to send back: named after the instance that gave it, and
/// marked with how the attempt went, for the retry layer.
fn answer(result: Result<Response, Problem>, instance_id: String, failed: bool) -> Response {
    let mut response = match result {
        Ok(mut response) => {
            if let Ok(id) = HeaderValue::from_str(&instance_id) {
                response.headers_mut().insert(UPSTREAM_HEADER, id);
            }
            response
        }
        Err(problem) => problem.into_response(),
    };
    let attempt = match failed {
        true => Attempt::Failed { instance_id },
        false => Attempt::Answered,
    };
    response.extensions_mut().insert(attempt);
    response
}

fn no_instance(service: &str) -> Response {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("no instance of {service} can serve right now"),
    )
    .with_retry_after(1)
    .into_response()
}
