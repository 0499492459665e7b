//! The orders HTTP API: `POST /v1/orders`, `GET /v1/orders/{id}`,
//! `GET /v1/orders?customer=`, and the health endpoints.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::idempotency;
use super::model::{NewOrder, Order};
use super::store::CreateOutcome;
use crate::catalog_client::CatalogError;
use ch01_autonomy::health::{self, Health};
use ch01_autonomy::json::JsonBody;
use ch01_autonomy::problem::{FieldError, Problem};

const LIST_LIMIT: u32 = 100;
/// Seconds a client should wait before retrying after a 503.
pub const RETRY_AFTER_SECS: u32 = 1;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/orders", get(list_orders).post(place_order))
        .route("/v1/orders/{id}", get(get_order))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .with_state(state)
}

// ANCHOR: place_order
async fn place_order(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(order): JsonBody<NewOrder>,
) -> Result<Response, Problem> {
    let placed = place(&state, &headers, order).await?;
    Ok(created_response(
        placed.order.id,
        &placed.order,
        placed.replayed,
    ))
}

/// An order stored (or found again by its idempotency key).
#[derive(Debug, Clone)]
pub struct Placed {
    pub order: Order,
    /// True when an earlier request with the same key placed it.
    pub replayed: bool,
}

/// Validates, prices and stores an order: everything `POST /v1/orders`
/// does before it answers. Later chapters add steps after it.
pub async fn place(
    state: &AppState,
    headers: &HeaderMap,
    order: NewOrder,
) -> Result<Placed, Problem> {
    let order = order.validate().map_err(Problem::invalid_fields)?;
    let key = idempotency::key_from(headers)?;
    let fingerprint = idempotency::fingerprint(&order);
    if let Some(key) = &key
        && let Some(first) = replay(state, key, &fingerprint).await?
    {
        return Ok(first);
    }
    // ANCHOR_END: place_order

    // ANCHOR: place_lookup
    // The one remote call: prices come from the catalog, never the client.
    let prices = state.catalog.lookup(&order.book_ids()).await?;
    let unknown: Vec<FieldError> = order
        .lines
        .iter()
        .enumerate()
        .filter(|(_, line)| prices.missing.contains(&line.book_id))
        .map(|(index, line)| {
            FieldError::new(
                format!("lines[{index}].book_id"),
                format!("the catalog has no book {}", line.book_id),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(unknown_books(unknown));
    }
    // ANCHOR_END: place_lookup

    // ANCHOR: place_store
    let keyed = key.as_deref().map(|key| (key, fingerprint.as_str()));
    match state.store.create(&order, &prices, keyed).await? {
        CreateOutcome::Created(created) => {
            tracing::info!(
                order_id = created.id,
                total_cents = created.total_cents,
                "order placed"
            );
            Ok(Placed {
                order: created,
                replayed: false,
            })
        }
        // A concurrent request with the same key won the race: answer as it did.
        CreateOutcome::KeyTaken => {
            let key = key.as_deref().ok_or_else(Problem::internal)?;
            replay(state, key, &fingerprint)
                .await?
                .ok_or_else(Problem::internal)
        }
    }
    // ANCHOR_END: place_store
}

/// 409: the order is well formed, but names a book the catalog does not
/// have now. Not a 422: that means "your request breaks the rules", and
/// no rule a client can read (a schema) can know the catalog's books.
fn unknown_books(lines: Vec<FieldError>) -> Problem {
    let detail = lines
        .iter()
        .map(|line| line.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    Problem {
        errors: lines,
        ..Problem::new(StatusCode::CONFLICT, detail)
    }
}

// ANCHOR: replay
/// The first order placed with `key`, if it was used before with the same request.
async fn replay(state: &AppState, key: &str, fingerprint: &str) -> Result<Option<Placed>, Problem> {
    match state.store.find_by_key(key).await? {
        None => Ok(None),
        Some(first) if first.request_hash == fingerprint => Ok(Some(Placed {
            order: first.order,
            replayed: true,
        })),
        Some(_) => Err(idempotency::reused_with_other_body()),
    }
}
// ANCHOR_END: replay

/// 201 with the order, its `Location`, and `Idempotent-Replayed` on a replay.
pub fn created_response(id: i64, body: &impl Serialize, replayed: bool) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/orders/{id}")) {
        headers.insert(header::LOCATION, location);
    }
    if replayed {
        headers.insert(
            HeaderName::from_static("idempotent-replayed"),
            HeaderValue::from_static("true"),
        );
    }
    response
}

async fn get_order(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Order>, Problem> {
    let not_found = || Problem::not_found(format!("there is no order with id {id}"));
    let numeric_id: i64 = id.parse().map_err(|_| not_found())?;
    let order = state.store.get(numeric_id).await?.ok_or_else(not_found)?;
    Ok(Json(order))
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    pub customer: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct OrderList {
    pub orders: Vec<Order>,
}

async fn list_orders(
    State(state): State<AppState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<OrderList>, Problem> {
    let Query(params) = params.map_err(|rejection| Problem::bad_request(rejection.body_text()))?;
    let customer = params
        .customer
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Problem::bad_request("give the customer: GET /v1/orders?customer=<name>"))?;
    let orders = state.store.list_for_customer(&customer, LIST_LIMIT).await?;
    Ok(Json(OrderList { orders }))
}

/// Ready when orders' own database answers. The catalog being down does
/// not make orders unready: reads still work, and orders says 503 itself.
pub async fn ready(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    health::ready_if(state.store.ping(), "the orders database").await
}

// ANCHOR: error_mapping
impl From<CatalogError> for Problem {
    fn from(err: CatalogError) -> Self {
        tracing::warn!(%err, "catalog call failed");
        match err {
            CatalogError::Unavailable(_) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the catalog is not answering, so prices cannot be checked; try again shortly",
            )
            .with_retry_after(RETRY_AFTER_SECS),
            CatalogError::BadAnswer(_) => Problem::new(
                StatusCode::BAD_GATEWAY,
                "the catalog gave an answer orders cannot use",
            ),
            CatalogError::Misconfigured(_) => Problem::internal(),
        }
    }
}
// ANCHOR_END: error_mapping
