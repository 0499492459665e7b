//! The payments HTTP API.
//!
//! - `POST /v1/payments` `{order_id, amount_cents}` → 201 with
//!   `status: approved | declined` (a decline is an answer, not an error)
//! - `POST /v2/payments` `{order_id, amount: {cents, currency}}`: the same,
//!   with a currency; `/v1` is deprecated and answers with `Sunset`
//! - `POST /v1/payments/{order_id}/refund` → 200
//! - `GET /v1/payments/{order_id}`

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Simulation;
use super::store::{Payment, PaymentStatus, PaymentStore};
use crate::contract;
use ch01_autonomy::health::{self, Health};
use ch01_autonomy::json::JsonBody;
use ch01_autonomy::problem::{FieldError, Problem};
use ch01_autonomy::text::trim_blank;

#[derive(Debug, Clone)]
struct AppState {
    store: PaymentStore,
    simulation: Simulation,
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(charge))
        .routes(routes!(charge_v2))
        .routes(routes!(payment))
        .routes(routes!(refund))
}

pub fn router(store: PaymentStore, simulation: Simulation) -> Router {
    let state = AppState { store, simulation };
    let health = Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .with_state(state.clone());
    let (router, _) = api().with_state(state).split_for_parts();
    contract::serve(router, openapi()).merge(health)
}

/// The payments service's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = contract::document(api(), "payments");
    mark_v1_deprecated(&mut document);
    document
}

/// Marks `POST /v1/payments` deprecated in the document.
fn mark_v1_deprecated(document: &mut utoipa::openapi::OpenApi) {
    if let Some(operation) = document
        .paths
        .paths
        .get_mut("/v1/payments")
        .and_then(|item| item.post.as_mut())
    {
        operation.deprecated = Some(utoipa::openapi::Deprecated::True);
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Charge {
    #[schema(max_length = 64, pattern = r"[^\t\n\f\r ]")]
    pub order_id: String,
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub amount_cents: i64,
}

// ANCHOR: v1
/// Charge an order once. A decline is an answer (201, `declined`), not an
/// error; asking again for the same order gets the first answer.
///
/// Deprecated: `/v2/payments` names the currency. `/v1` stays until the
/// date in its `Sunset` header.
#[utoipa::path(
    post,
    path = "/v1/payments",
    request_body = Charge,
    responses(
        (status = 201, description = "Approved or declined", body = Payment,
            headers(
                ("Deprecation" = String, description = "When /v1 was deprecated (RFC 9745)"),
                ("Sunset" = String, description = "When /v1 goes away (RFC 8594)"),
            )),
        (status = 409, description = "The order was voided (refunded before it was charged), or charged before with another amount", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn charge(
    State(state): State<AppState>,
    JsonBody(charge): JsonBody<Charge>,
) -> Result<Response, Problem> {
    let payment = settle(
        &state,
        &charge.order_id,
        charge.amount_cents,
        "amount_cents",
    )
    .await?;
    let mut response = (StatusCode::CREATED, Json(payment)).into_response();
    let headers = response.headers_mut();
    headers.insert("deprecation", HeaderValue::from_static(V1_DEPRECATED_AT));
    headers.insert("sunset", HeaderValue::from_static(V1_SUNSET));
    headers.insert(
        header::LINK,
        HeaderValue::from_static("</v2/payments>; rel=\"successor-version\""),
    );
    Ok(response)
}
// ANCHOR_END: v1

/// `Deprecation: @<unix seconds>`: 2026-12-01T00:00:00Z.
const V1_DEPRECATED_AT: &str = "@1796083200";
/// Six months later.
const V1_SUNSET: &str = "Tue, 01 Jun 2027 00:00:00 GMT";

// ANCHOR: v2
// ANCHOR: v2_types
/// An amount with its currency: the breaking change that needed `/v2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub cents: i64,
    /// ISO 4217 code; this bank settles in EUR only, and says so.
    #[schema(pattern = "^EUR$")]
    pub currency: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChargeV2 {
    #[schema(max_length = 64, pattern = r"[^\t\n\f\r ]")]
    pub order_id: String,
    pub amount: Money,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaymentV2 {
    pub order_id: String,
    pub amount: Money,
    pub status: PaymentStatus,
}
// ANCHOR_END: v2_types

// ANCHOR: v2_handler
/// Charge an order once, in a named currency.
#[utoipa::path(
    post,
    path = "/v2/payments",
    request_body = ChargeV2,
    responses(
        (status = 201, description = "Approved or declined", body = PaymentV2),
        (status = 409, description = "The order was voided (refunded before it was charged), or charged before with another amount", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn charge_v2(
    State(state): State<AppState>,
    JsonBody(charge): JsonBody<ChargeV2>,
) -> Result<Response, Problem> {
    if charge.amount.currency != "EUR" {
        return Err(Problem::invalid_fields(vec![FieldError::new(
            "amount.currency",
            "this bank settles in EUR only",
        )]));
    }
    let payment = settle(
        &state,
        &charge.order_id,
        charge.amount.cents,
        "amount.cents",
    )
    .await?;
    let body = PaymentV2 {
        order_id: payment.order_id,
        amount: Money {
            cents: payment.amount_cents,
            currency: charge.amount.currency,
        },
        status: payment.status,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
// ANCHOR_END: v2_handler
// ANCHOR_END: v2

/// What both versions do: one payment per order, decided once.
async fn settle(
    state: &AppState,
    order_id: &str,
    amount_cents: i64,
    amount_field: &str,
) -> Result<Payment, Problem> {
    let mut errors = Vec::new();
    if trim_blank(order_id).is_empty() || order_id.chars().count() > 64 {
        errors.push(FieldError::new("order_id", "1 to 64 characters"));
    }
    if !(1..=100_000_000).contains(&amount_cents) {
        errors.push(FieldError::new(amount_field, "between 1 and 100000000"));
    }
    if !errors.is_empty() {
        return Err(Problem::invalid_fields(errors));
    }
    // A retried charge gets the first answer, without asking the bank again.
    if let Some(first) = state.store.get(order_id).await? {
        if first.status == PaymentStatus::Voided {
            return Err(voided());
        }
        if first.amount_cents != amount_cents {
            // A conflict with an earlier request, not a bad field: 409.
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "this order was charged before with another amount",
            ));
        }
        return Ok(first);
    }
    tokio::time::sleep(state.simulation.latency).await;
    let declined = fastrand::f64() < state.simulation.failure_rate;
    let status = if declined {
        PaymentStatus::Declined
    } else {
        PaymentStatus::Approved
    };
    let payment = state.store.record(order_id, amount_cents, status).await?;
    if payment.status == PaymentStatus::Voided {
        // The refund overtook this charge while the bank was thinking.
        return Err(voided());
    }
    tracing::info!(order_id = %payment.order_id, status = ?payment.status, "charge");
    Ok(payment)
}

/// The payment for an order.
#[utoipa::path(
    get,
    path = "/v1/payments/{order_id}",
    params(("order_id" = String, Path, description = "The order charged")),
    responses((status = 200, description = "The payment", body = Payment)),
)]
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
#[utoipa::path(
    post,
    path = "/v1/payments/{order_id}/refund",
    params(("order_id" = String, Path, description = "The order to refund")),
    responses((status = 200, description = "Refunded, or left as it was (declined), or voided (never charged)", body = Payment)),
)]
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
