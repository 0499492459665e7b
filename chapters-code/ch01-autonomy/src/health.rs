//! The two health endpoints every Bookshop service serves: `live` (the
//! process answers) and `ready` (it can do its job, so send it traffic).

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use serde::Serialize;

use crate::problem::Problem;

/// How long a readiness check may take before it counts as a "no".
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
}

impl Health {
    /// What `/health/live` answers.
    pub const LIVE: Health = Health { status: "live" };
}

/// `GET /health/live`: the process answers. Nothing else is checked, so
/// a slow dependency never gets a healthy process restarted.
pub async fn live() -> Json<Health> {
    Json(Health::LIVE)
}

// ANCHOR: ready_if
/// `GET /health/ready`: 200 when `check` (e.g. a database ping) succeeds
/// within [`READY_TIMEOUT`], otherwise a 503 problem naming `what`.
pub async fn ready_if<E: Display>(
    check: impl Future<Output = Result<(), E>>,
    what: &str,
) -> Result<Json<Health>, Problem> {
    readiness(check, what).await.map(Json)
}

/// The answer behind [`ready_if`], for any framework: the health to send,
/// or the 503 problem.
pub async fn readiness<E: Display>(
    check: impl Future<Output = Result<(), E>>,
    what: &str,
) -> Result<Health, Problem> {
    let detail = match tokio::time::timeout(READY_TIMEOUT, check).await {
        Ok(Ok(())) => return Ok(Health { status: "ready" }),
        Ok(Err(err)) => {
            tracing::warn!(%err, "not ready: {what} does not answer");
            format!("{what} does not answer")
        }
        Err(_elapsed) => format!("{what} is too slow to answer"),
    };
    Err(Problem::new(StatusCode::SERVICE_UNAVAILABLE, detail))
}
// ANCHOR_END: ready_if
