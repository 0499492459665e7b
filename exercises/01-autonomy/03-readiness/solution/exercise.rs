//! A readiness endpoint that says "ready" only when the database answers.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use ch01_autonomy::catalog::BookStore;
use ch01_autonomy::problem::Problem;
use serde::Serialize;

/// How long readiness waits for the database before it says "not ready".
pub const READY_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
}

pub fn router(store: BookStore) -> Router {
    Router::new()
        .route("/health/ready", get(ready))
        .with_state(store)
}

// ANCHOR: solution
/// 200 `{"status":"ready"}` only when the database answers within
/// `READY_TIMEOUT`; otherwise a 503 problem.
async fn ready(State(store): State<BookStore>) -> Result<Json<Health>, Problem> {
    match tokio::time::timeout(READY_TIMEOUT, store.ping()).await {
        Ok(Ok(())) => Ok(Json(Health { status: "ready" })),
        _ => Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the database does not answer",
        )),
    }
}
// ANCHOR_END: solution
