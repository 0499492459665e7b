//! The inventory HTTP API.
//!
//! - `POST /v1/reservations` → 201, all lines reserved, or 409 naming the short line
//! - `POST /v1/reservations/{order_id}/confirm` and `/release` → 200
//! - `GET /v1/reservations/{order_id}` → the reservation and its lines
//! - `GET /v1/stock/{book_id}` → the quantity on hand

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::{NewReservation, Reservation, Status};
use super::store::{InventoryStore, ReserveError};
use crate::contract;
use ch01_autonomy::health::{self, Health};
use ch01_autonomy::json::JsonBody;
use ch01_autonomy::problem::{FieldError, Problem};

// ANCHOR: api
/// The inventory's API: routes and their OpenAPI description in one place.
pub fn api() -> OpenApiRouter<InventoryStore> {
    OpenApiRouter::new()
        .routes(routes!(reserve))
        .routes(routes!(reservation))
        .routes(routes!(confirm))
        .routes(routes!(release))
        .routes(routes!(stock))
}

pub fn router(store: InventoryStore) -> Router {
    let health = Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .with_state(store.clone());
    contract::publish(api().with_state(store), "inventory").merge(health)
}
// ANCHOR_END: api

/// The inventory's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    contract::document(api(), "inventory")
}

// ANCHOR: annotated
/// Reserve stock for every line of an order, or for none.
#[utoipa::path(
    post,
    path = "/v1/reservations",
    request_body = NewReservation,
    responses(
        (status = 201, description = "Every line is reserved (or was, by an earlier identical request)", body = Reservation),
        (status = 409, description = "A line is short of stock (nothing was reserved), or the order was released before", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn reserve(
    State(store): State<InventoryStore>,
    JsonBody(request): JsonBody<NewReservation>,
) -> Result<Response, Problem> {
    request.validate().map_err(Problem::invalid_fields)?;
    let reservation = store
        .reserve(&request.order_id, &request.merged_lines())
        .await?;
    Ok((StatusCode::CREATED, Json(reservation)).into_response())
}
// ANCHOR_END: annotated

/// A reservation as it stands.
#[utoipa::path(
    get,
    path = "/v1/reservations/{order_id}",
    params(("order_id" = String, Path, description = "The order the stock is held for")),
    responses((status = 200, description = "The reservation", body = Reservation)),
)]
async fn reservation(
    State(store): State<InventoryStore>,
    Path(order_id): Path<String>,
) -> Result<Json<Reservation>, Problem> {
    store
        .reservation(&order_id)
        .await?
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("no reservation for order {order_id}")))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusBody {
    pub order_id: String,
    pub status: Status,
}

/// Reserved → confirmed (sold). Confirming twice is fine.
#[utoipa::path(
    post,
    path = "/v1/reservations/{order_id}/confirm",
    params(("order_id" = String, Path, description = "The order the stock is held for")),
    responses(
        (status = 200, description = "Confirmed", body = StatusBody),
        (status = 409, description = "The reservation was released", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn confirm(
    State(store): State<InventoryStore>,
    Path(order_id): Path<String>,
) -> Result<Json<StatusBody>, Problem> {
    let status = store.confirm(&order_id).await?;
    Ok(Json(StatusBody { order_id, status }))
}

/// Reserved → released, the stock given back. Releasing twice, or
/// releasing what was never reserved, is fine.
#[utoipa::path(
    post,
    path = "/v1/reservations/{order_id}/release",
    params(("order_id" = String, Path, description = "The order the stock is held for")),
    responses(
        (status = 200, description = "Released", body = StatusBody),
        (status = 409, description = "The reservation was confirmed: sold is sold", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn release(
    State(store): State<InventoryStore>,
    Path(order_id): Path<String>,
) -> Result<Json<StatusBody>, Problem> {
    let status = store.release(&order_id).await?;
    Ok(Json(StatusBody { order_id, status }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Stock {
    pub book_id: i64,
    pub quantity: i64,
}

/// Copies of a book on hand, not counting reserved ones.
#[utoipa::path(
    get,
    path = "/v1/stock/{book_id}",
    params(("book_id" = String, Path, description = "The catalog's book id")),
    responses((status = 200, description = "The quantity on hand", body = Stock)),
)]
async fn stock(
    State(store): State<InventoryStore>,
    Path(book_id): Path<String>,
) -> Result<Json<Stock>, Problem> {
    let not_found = || Problem::not_found(format!("no stock is kept for book {book_id}"));
    let id: i64 = book_id.parse().map_err(|_| not_found())?;
    let quantity = store.stock(id).await?.ok_or_else(not_found)?;
    Ok(Json(Stock {
        book_id: id,
        quantity,
    }))
}

async fn ready(State(store): State<InventoryStore>) -> Result<Json<Health>, Problem> {
    health::ready_if(store.ping(), "the inventory database").await
}

impl From<ReserveError> for Problem {
    fn from(err: ReserveError) -> Self {
        match err {
            ReserveError::Short { line, book_id } => Problem {
                errors: vec![FieldError::new(
                    format!("lines[{line}].quantity"),
                    format!("not enough stock for book {book_id}"),
                )],
                ..Problem::new(
                    StatusCode::CONFLICT,
                    format!("not enough stock for book {book_id}; nothing was reserved"),
                )
            },
            ReserveError::Conflict(_) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, err.to_string())
            }
            ReserveError::Unknown(_) => Problem::not_found(err.to_string()),
            ReserveError::WrongState { .. } => Problem::new(StatusCode::CONFLICT, err.to_string()),
            ReserveError::Store(store) => store.into(),
        }
    }
}
