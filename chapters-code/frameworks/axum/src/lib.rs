//! The catalog slice in axum: list, get, create and health, over the
//! catalog's own store. Every layer is the one chapter 1 puts around
//! every service, unchanged.

use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use ch01_autonomy::catalog::BookStore;
use ch01_autonomy::catalog::http::{self as catalog, BookList, ListParams};
use ch01_autonomy::catalog::model::{Book, NewBook};
use ch01_autonomy::health::{self, Health};
use ch01_autonomy::json::JsonBody;
use ch01_autonomy::problem::Problem;
use ch01_autonomy::server;
use tower_http::timeout::TimeoutLayer;

/// Longest a request may take before the client gets a 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request body, as in chapter 1.
pub const BODY_LIMIT: usize = 64 * 1024;

// ANCHOR: app
/// The slice's routes inside our tower stack: request id, trace span and
/// panic catcher from `with_common_layers`, and a timeout.
pub fn app(store: BookStore) -> Router {
    let routes = Router::new()
        .route("/v1/books", get(list_books).post(create_book))
        .route("/v1/books/{id}", get(get_book))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .with_state(store)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ));
    server::with_common_layers(routes, BODY_LIMIT)
}
// ANCHOR_END: app

// ANCHOR: handlers
async fn list_books(
    State(store): State<BookStore>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<BookList>, Problem> {
    let Query(params) = params.map_err(|rejection| Problem::bad_request(rejection.body_text()))?;
    catalog::list_page(&store, params).await.map(Json)
}

async fn get_book(
    State(store): State<BookStore>,
    Path(id): Path<String>,
) -> Result<Json<Book>, Problem> {
    catalog::find_book(&store, &id).await.map(Json)
}

async fn create_book(
    State(store): State<BookStore>,
    JsonBody(new_book): JsonBody<NewBook>,
) -> Result<Response, Problem> {
    let book = catalog::add_book(&store, new_book).await?;
    let location = [(header::LOCATION, catalog::location(&book))];
    Ok((StatusCode::CREATED, location, Json(book)).into_response())
}

async fn ready(State(store): State<BookStore>) -> Result<Json<Health>, Problem> {
    health::ready_if(store.ping(), "the catalog database").await
}
// ANCHOR_END: handlers
