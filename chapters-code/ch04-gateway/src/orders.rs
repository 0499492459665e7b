//! The **orders** service, chapter 4 version: chapter 2's orders behind
//! the gateway. The gateway decides *who* calls; orders decides what that
//! caller may do with orders' own data:
//!
//! - `POST /v1/orders` places an order for the caller only: a body whose
//!   `customer` is someone else is a 403;
//! - `GET /v1/orders/{id}` of another customer's order is a 404, exactly
//!   like an order that does not exist, so ids cannot be probed;
//! - `GET /v1/orders` lists the caller's orders (a `customer` query that
//!   names someone else is a 403);
//! - a request without a vouched caller is a 401.
//!
//! Everything else (validation, prices, idempotency, the store) is
//! chapter 2's, reused through its library.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::caller::Caller;
use ch01_autonomy::health;
use ch01_autonomy::json::JsonBody;
use ch01_autonomy::problem::Problem;
use ch01_autonomy::text::trim_blank;
use ch02_communication::orders::AppState;
use ch02_communication::orders::http::{OrderList, created_response, place, ready};
use ch02_communication::orders::model::{NewOrder, Order};

/// Orders a listing shows at most, newest first.
pub const LIST_LIMIT: u32 = 100;

/// Chapter 2's routes, each now asking who calls.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/orders", get(list_orders).post(place_order))
        .route("/v1/orders/{id}", get(get_order))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .with_state(state)
}

// ANCHOR: authorize
/// Refuses an order placed for someone other than the caller (403).
pub fn check_customer(caller: &Caller, order: &NewOrder) -> Result<(), Problem> {
    caller.acts_as(trim_blank(&order.customer))
}

/// The order `id` if it exists and is the caller's. Someone else's order
/// is answered like a missing one: 404, and the same words.
pub async fn own_order(state: &AppState, caller: &Caller, id: &str) -> Result<Order, Problem> {
    let not_found = || Problem::not_found(format!("there is no order with id {id}"));
    let numeric_id: i64 = id.parse().map_err(|_| not_found())?;
    let order = state.store.get(numeric_id).await?.ok_or_else(not_found)?;
    if caller.owns(&order.customer) {
        Ok(order)
    } else {
        tracing::info!(
            order_id = numeric_id,
            caller = caller.name(),
            "refused: not the caller's order"
        );
        Err(not_found())
    }
}
// ANCHOR_END: authorize

/// `GET /v1/orders[?customer=]`: the caller's orders. The query may name
/// the caller (chapter 2's clients send it), never anyone else.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ListParams {
    /// Optional; if given, the caller's own name.
    pub customer: Option<String>,
}

// ANCHOR: authorize_list
/// The caller's orders, newest first; a 403 if the query names someone else.
pub async fn caller_orders(
    state: &AppState,
    caller: &Caller,
    params: ListParams,
) -> Result<Vec<Order>, Problem> {
    if let Some(customer) = &params.customer {
        caller.acts_as(trim_blank(customer))?;
    }
    Ok(state
        .store
        .list_for_customer(caller.name(), LIST_LIMIT)
        .await?)
}
// ANCHOR_END: authorize_list

async fn place_order(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(order): JsonBody<NewOrder>,
) -> Result<Response, Problem> {
    check_customer(&caller, &order)?;
    let placed = place(&state, &headers, order).await?;
    Ok(created_response(
        placed.order.id,
        &placed.order,
        placed.replayed,
    ))
}

async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Order>, Problem> {
    Ok(Json(own_order(&state, &caller, &id).await?))
}

async fn list_orders(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<OrderList>, Problem> {
    let Query(params) = params.map_err(|rejection| Problem::bad_request(rejection.body_text()))?;
    let orders = caller_orders(&state, &caller, params).await?;
    Ok(Json(OrderList { orders }))
}
