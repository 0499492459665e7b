//! The registry's HTTP API. Writes need the bearer token; reads are open.
//!
//! - `POST /v1/registrations` → 201 with a lease
//! - `PUT /v1/leases/{id}` (heartbeat) → 200, or 404 for an unknown lease
//! - `DELETE /v1/leases/{id}` → 204, or 404
//! - `GET /v1/services` → every service with live instances, and how many
//! - `GET /v1/services/{service}?index=N&wait=S` → the instances; with
//!   `index`, a blocking query that waits up to `wait` seconds for a change

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::model::{Instance, Lease, Registration, is_name};
use super::store::{Snapshot, Store, StoreError};
use ch01_autonomy::json::JsonBody;
use ch01_autonomy::problem::{FieldError, Problem};

/// The header that carries a service's index, as Consul's `X-Consul-Index`.
pub const INDEX_HEADER: &str = "x-registry-index";
/// The longest a blocking query may wait.
pub const MAX_WAIT_SECS: u64 = 60;
const DEFAULT_WAIT_SECS: u64 = 30;

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub token: Arc<str>,
    /// Turns true when the server starts shutting down: blocking queries
    /// answer at once instead of holding the shutdown up.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

// ANCHOR: router
pub fn router(state: AppState) -> Router {
    let writes = Router::new()
        .route("/v1/registrations", post(register))
        .route("/v1/leases/{lease_id}", put(heartbeat).delete(deregister))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    let reads = Router::new()
        .route("/v1/services", get(services))
        .route("/v1/services/{service}", get(instances))
        .route("/health/live", get(health))
        .route("/health/ready", get(health));
    writes.merge(reads).with_state(state)
}

/// 401 without a bearer token, 403 with the wrong one.
async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        None => Problem::new(
            StatusCode::UNAUTHORIZED,
            "writes need `Authorization: Bearer <token>`",
        )
        .into_response(),
        Some(token) if !same_secret(token.as_bytes(), state.token.as_bytes()) => Problem::new(
            StatusCode::FORBIDDEN,
            "that token may not write to this registry",
        )
        .into_response(),
        Some(_) => next.run(request).await,
    }
}
// ANCHOR_END: router

/// Compares in time that depends only on the length, not on where the
/// first difference is, so the token cannot be guessed byte by byte.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// The body of `GET /v1/services`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ServiceList {
    /// Instances per service name.
    pub services: std::collections::BTreeMap<String, usize>,
}

async fn services(State(state): State<AppState>) -> Json<ServiceList> {
    Json(ServiceList {
        services: state.store.services(),
    })
}

async fn register(
    State(state): State<AppState>,
    JsonBody(registration): JsonBody<Registration>,
) -> Result<Response, Problem> {
    registration.validate().map_err(Problem::invalid_fields)?;
    let lease = state.store.register(&registration, Instant::now());
    tracing::info!(
        service = %registration.service,
        instance_id = %registration.instance_id,
        address = %registration.address,
        "registered"
    );
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/leases/{}", lease.lease_id)) {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, Json(lease)).into_response())
}

async fn heartbeat(
    State(state): State<AppState>,
    Path(lease_id): Path<String>,
) -> Result<Json<Lease>, Problem> {
    let lease = state.store.heartbeat(&lease_id, Instant::now())?;
    Ok(Json(lease))
}

async fn deregister(
    State(state): State<AppState>,
    Path(lease_id): Path<String>,
) -> Result<StatusCode, Problem> {
    state.store.deregister(&lease_id)?;
    Ok(StatusCode::NO_CONTENT)
}

impl From<StoreError> for Problem {
    fn from(err: StoreError) -> Self {
        Problem::not_found(err.to_string())
    }
}

#[derive(Debug, Deserialize)]
pub struct WatchParams {
    /// Wait until the service's index is above this one.
    pub index: Option<u64>,
    /// Seconds to wait at most (default 30, at most 60).
    pub wait: Option<u64>,
}

/// Body of `GET /v1/services/{service}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInstances {
    pub service: String,
    pub index: u64,
    pub instances: Vec<Instance>,
}

// ANCHOR: blocking_query
async fn instances(
    State(state): State<AppState>,
    Path(service): Path<String>,
    params: Result<Query<WatchParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(params) = params.map_err(|rejection| Problem::bad_request(rejection.body_text()))?;
    if !is_name(&service, 63, false) {
        return Err(Problem::invalid_fields(vec![FieldError::new(
            "service",
            "1 to 63 characters: lowercase letters, digits and '-'",
        )]));
    }
    let wait = Duration::from_secs(params.wait.unwrap_or(DEFAULT_WAIT_SECS).min(MAX_WAIT_SECS));
    let deadline = tokio::time::Instant::now() + wait;
    // Subscribe before looking, so no change can slip in between.
    let mut changes = state.store.changes();
    let mut stopping = state.stopping.clone();
    let snapshot = loop {
        let snapshot = state.store.snapshot(&service);
        let newer = params.index.is_none_or(|seen| snapshot.index > seen);
        if newer {
            break snapshot;
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { break snapshot },
            _ = stopping.wait_for(|stopping| *stopping) => break snapshot,
            () = tokio::time::sleep_until(deadline) => break snapshot,
        }
    };
    Ok(listing(service, snapshot))
}
// ANCHOR_END: blocking_query

fn listing(service: String, snapshot: Snapshot) -> Response {
    let index = snapshot.index;
    let mut response = Json(ServiceInstances {
        service,
        index,
        instances: snapshot.instances,
    })
    .into_response();
    response.headers_mut().insert(
        HeaderName::from_static(INDEX_HEADER),
        HeaderValue::from(index),
    );
    response
}

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
}

/// The registry keeps everything in memory: alive means ready.
async fn health() -> Json<Health> {
    Json(Health { status: "ready" })
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_compare_by_content() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        assert!(!same_secret(b"s3cret", b"s3creT"));
        assert!(!same_secret(b"s3cret", b"s3cre"));
    }
}
