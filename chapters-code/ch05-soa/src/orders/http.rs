//! The orders HTTP API in chapter 5: placing an order now runs checkout.
//!
//! - `POST /v1/orders` → 201 with the order as checkout left it:
//!   `confirmed`, `cancelled` with a `cancel_reason`, or `pending` while a
//!   provider is down (the sweeper finishes it later)
//! - `GET /v1/orders/{id}`, `GET /v1/orders`: the caller's own, as
//!   chapter 4's orders decides (someone else's order is a 404)

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::saga::{Checkout, Progress};
use super::store::SagaStore;
use crate::contract;
use ch01_autonomy::health::{self, Health};
use ch01_autonomy::json::JsonBody;
use ch01_autonomy::problem::Problem;
use ch02_communication::orders::AppState as OrdersState;
use ch02_communication::orders::http::{created_response, place};
use ch02_communication::orders::model::{NewOrder, Order};
use ch04_gateway::caller::Caller;
use ch04_gateway::orders::{ListParams, caller_orders, check_customer, own_order};

#[derive(Debug, Clone)]
pub struct AppState {
    pub orders: OrdersState,
    pub sagas: SagaStore,
    pub checkout: Arc<Checkout>,
}

// ANCHOR: order_view
/// An order as chapter 5 shows it: chapter 2's order, plus why it was
/// cancelled. An added, optional field: an additive change, still `/v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderView {
    #[serde(flatten)]
    pub order: Order,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
}
// ANCHOR_END: order_view

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderList {
    pub orders: Vec<OrderView>,
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orders, place_order))
        .routes(routes!(get_order))
}

pub fn router(state: AppState) -> Router {
    let health = Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .with_state(state.clone());
    contract::publish(api().with_state(state), "orders").merge(health)
}

/// The orders service's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    contract::document(api(), "orders")
}

// ANCHOR: place_order
/// Place an order for the caller and check it out.
#[utoipa::path(
    post,
    path = "/v1/orders",
    request_body = NewOrder,
    params(
        Caller,
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$",
         description = "Send the same key when you retry: the order is placed once"),
    ),
    responses(
        (status = 201, description = "Placed; `status` says how checkout ended (`pending`: still running)", body = OrderView),
        (status = 403, description = "`customer` is not the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A line names a book the catalog does not have, or the Idempotency-Key was used for another order", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The catalog answered badly", body = Problem, content_type = "application/problem+json"),
    ),
)]
// ANCHOR: place_order_handler
async fn place_order(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(order): JsonBody<NewOrder>,
) -> Result<Response, Problem> {
    // Chapter 4's rule: only for yourself.
    check_customer(&caller, &order)?;
    // Chapter 2's steps: validate, replay or price, store as `pending`.
    let placed = place(&state.orders, &headers, order).await?;
    // Chapter 5's: check out. A replayed request finds the saga finished,
    // or finishes it.
    match state.checkout.run(placed.order.id).await? {
        Progress::WillRetry(why) => {
            tracing::warn!(order_id = placed.order.id, %why, "checkout continues in the background");
        }
        Progress::Finished | Progress::Busy => {}
    }
    let order = state
        .orders
        .store
        .get(placed.order.id)
        .await?
        .ok_or_else(Problem::internal)?;
    let view = view(&state, order).await?;
    Ok(created_response(view.order.id, &view, placed.replayed))
}
// ANCHOR_END: place_order_handler
// ANCHOR_END: place_order

/// The order as chapter 5 shows it, with the reason if it was cancelled.
async fn view(state: &AppState, order: Order) -> Result<OrderView, Problem> {
    let cancel_reason = if order.status == "cancelled" {
        state.sagas.reason(order.id).await?
    } else {
        None
    };
    Ok(OrderView {
        order,
        cancel_reason,
    })
}

/// One of the caller's orders, with the reason if it was cancelled.
#[utoipa::path(
    get,
    path = "/v1/orders/{id}",
    params(Caller, ("id" = String, Path, description = "The order id")),
    responses((status = 200, description = "The order", body = OrderView)),
)]
async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, Problem> {
    let order = own_order(&state.orders, &caller, &id).await?;
    Ok(Json(view(&state, order).await?))
}

/// The caller's orders.
#[utoipa::path(
    get,
    path = "/v1/orders",
    params(Caller, ListParams),
    responses(
        (status = 200, description = "Newest first, at most 100", body = OrderList),
        (status = 400, description = "A query parameter is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`customer` names someone else", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn list_orders(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<OrderList>, Problem> {
    let Query(params) = params.map_err(|rejection| Problem::bad_request(rejection.body_text()))?;
    let found = caller_orders(&state.orders, &caller, params).await?;
    let mut orders = Vec::with_capacity(found.len());
    for order in found {
        orders.push(view(&state, order).await?);
    }
    Ok(Json(OrderList { orders }))
}

async fn ready(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    health::ready_if(state.orders.store.ping(), "the orders database").await
}
