//! The payments HTTP API.
//!
//! - `POST /v1/payments` `{order_id, amount_cents}` → 201 with
//!   `status: approved | declined` (a decline is an answer, not an error)
//! - `POST /v1/payments/{order_id}/refund` → 200
//! - `GET /v1/payments/{order_id}`

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::Simulation;
use super::store::{Payment, PaymentStatus, PaymentStore};
use ch01_autonomy::health::{self, Health};
use ch01_autonomy::json::JsonBody;
use ch01_autonomy::problem::{FieldError, Problem};

#[derive(Debug, Clone)]
struct AppState {
    store: PaymentStore,
    simulation: Simulation,
}

pub fn router(store: PaymentStore, simulation: Simulation) -> Router {
    Router::new()
        .route("/v1/payments", post(charge))
        .route("/v1/payments/{order_id}", get(payment))
        .route("/v1/payments/{order_id}/refund", post(refund))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .with_state(AppState { store, simulation })
}

#[derive(Debug, Deserialize)]
pub struct Charge {
    pub order_id: String,
    pub amount_cents: i64,
}

async fn charge(
    State(state): State<AppState>,
    JsonBody(charge): JsonBody<Charge>,
) -> Result<Response, Problem> {
    let mut errors = Vec::new();
    if charge.order_id.trim().is_empty() || charge.order_id.len() > 64 {
        errors.push(FieldError::new("order_id", "1 to 64 characters"));
    }
    if !(1..=100_000_000).contains(&charge.amount_cents) {
        errors.push(FieldError::new("amount_cents", "between 1 and 100000000"));
    }
    if !errors.is_empty() {
        return Err(Problem::invalid_fields(errors));
    }
    // A retried charge gets the first answer, without asking the bank again.
    if let Some(first) = state.store.get(&charge.order_id).await? {
        if first.status == PaymentStatus::Voided {
            return Err(voided());
        }
        if first.amount_cents != charge.amount_cents {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "this order was charged before with another amount",
            ));
        }
        return Ok((StatusCode::CREATED, Json(first)).into_response());
    }
    tokio::time::sleep(state.simulation.latency).await;
    let declined = fastrand::f64() < state.simulation.failure_rate;
    let status = if declined {
        PaymentStatus::Declined
    } else {
        PaymentStatus::Approved
    };
    let payment = state
        .store
        .record(&charge.order_id, charge.amount_cents, status)
        .await?;
    if payment.status == PaymentStatus::Voided {
        // The refund overtook this charge while the bank was thinking.
        return Err(voided());
    }
    tracing::info!(order_id = %payment.order_id, status = ?payment.status, "charge");
    Ok((StatusCode::CREATED, Json(payment)).into_response())
}

async fn payment(
    State(state): State<AppState>,
    Path(order_id): Path<String>,
) -> Result<Json<Payment>, Problem> {
    let payment = state.store.get(&order_id).await?;
    payment
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("no payment for order {order_id}")))
}

/// Refunding is always safe to repeat, and a saga may compensate a
/// charge that never happened: that one comes back `voided`.
async fn refund(
    State(state): State<AppState>,
    Path(order_id): Path<String>,
) -> Result<Json<Payment>, Problem> {
    Ok(Json(state.store.refund(&order_id).await?))
}

async fn ready(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    health::ready_if(state.store.ping(), "the payments database").await
}

fn voided() -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "this order was cancelled before it was charged; it cannot be charged now",
    )
}
