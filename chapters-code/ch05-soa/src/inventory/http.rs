//! The inventory HTTP API.
//!
//! - `POST /v1/reservations` → 201, all lines reserved, or 409 naming the short line
//! - `POST /v1/reservations/{order_id}/confirm` and `/release` → 200
//! - `GET /v1/reservations/{order_id}` → the reservation and its lines
//! - `GET /v1/stock/{book_id}` → the quantity on hand

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::model::{NewReservation, Reservation, Status};
use super::store::{InventoryStore, ReserveError};
use ch01_autonomy::health::{self, Health};
use ch01_autonomy::json::JsonBody;
use ch01_autonomy::problem::{FieldError, Problem};

pub fn router(store: InventoryStore) -> Router {
    Router::new()
        .route("/v1/reservations", post(reserve))
        .route("/v1/reservations/{order_id}", get(reservation))
        .route("/v1/reservations/{order_id}/confirm", post(confirm))
        .route("/v1/reservations/{order_id}/release", post(release))
        .route("/v1/stock/{book_id}", get(stock))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .with_state(store)
}

async fn reserve(
    State(store): State<InventoryStore>,
    JsonBody(request): JsonBody<NewReservation>,
) -> Result<Response, Problem> {
    request.validate().map_err(Problem::invalid_fields)?;
    let reservation = store.reserve(&request.order_id, &request.lines).await?;
    Ok((StatusCode::CREATED, Json(reservation)).into_response())
}

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

#[derive(Debug, Serialize, Deserialize)]
pub struct StatusBody {
    pub order_id: String,
    pub status: Status,
}

async fn confirm(
    State(store): State<InventoryStore>,
    Path(order_id): Path<String>,
) -> Result<Json<StatusBody>, Problem> {
    let status = store.confirm(&order_id).await?;
    Ok(Json(StatusBody { order_id, status }))
}

async fn release(
    State(store): State<InventoryStore>,
    Path(order_id): Path<String>,
) -> Result<Json<StatusBody>, Problem> {
    let status = store.release(&order_id).await?;
    Ok(Json(StatusBody { order_id, status }))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Stock {
    pub book_id: i64,
    pub quantity: i64,
}

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
