//! The catalog's HTTP API: `/v1/books` and the health endpoints.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::model::{Book, NewBook};
use super::store::BookQuery;
use super::{AppState, BookStore};
use crate::health::{self, Health};
use crate::json::JsonBody;
use crate::problem::{FieldError, Problem};

pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;

// ANCHOR: router
/// The catalog's routes, without the common layers (see [`crate::server`]).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/books", get(list_books).post(create_book))
        .route("/v1/books/{id}", get(get_book))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .with_state(state)
}
// ANCHOR_END: router

/// Query string of `GET /v1/books`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ListParams {
    /// Books whose author contains this (case-insensitive); blank means any.
    pub author: Option<String>,
    /// Books whose title or author contains this; blank means any.
    pub q: Option<String>,
    /// Page size; more than 100 is answered with 100.
    #[cfg_attr(
        feature = "openapi",
        param(value_type = Option<u64>, minimum = 1, maximum = 4_294_967_295_u64)
    )]
    pub limit: Option<u32>,
    /// Books to skip.
    #[cfg_attr(
        feature = "openapi",
        param(value_type = Option<u64>, minimum = 0, maximum = 4_294_967_295_u64)
    )]
    pub offset: Option<u32>,
}

/// Body of `GET /v1/books`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookList {
    pub books: Vec<Book>,
    pub total: i64,
    pub limit: u32,
    pub offset: u32,
}

/// Books, filtered and paged.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/v1/books",
    params(ListParams),
    responses(
        (status = 200, description = "One page, and how many books match", body = BookList),
        (status = 400, description = "A query parameter is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` is 0", body = Problem, content_type = "application/problem+json"),
    ),
))]
// ANCHOR: list_books
pub async fn list_books(
    State(state): State<AppState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<BookList>, Problem> {
    let Query(params) = params.map_err(|rejection| Problem::bad_request(rejection.body_text()))?;
    list_page(&state.store, params).await.map(Json)
}

/// One page of books, as a query string asks for it. Nothing here is
/// axum's, so a service on another framework pages the same way.
pub async fn list_page(store: &BookStore, params: ListParams) -> Result<BookList, Problem> {
    let limit = match params.limit {
        Some(0) => {
            return Err(Problem::invalid_fields(vec![FieldError::new(
                "limit",
                "must be at least 1",
            )]));
        }
        // A client may ask for more, but never gets more than one bounded page.
        Some(limit) => limit.min(MAX_PAGE_SIZE),
        None => DEFAULT_PAGE_SIZE,
    };
    let query = BookQuery {
        author: non_blank(params.author),
        text: non_blank(params.q),
        limit,
        offset: params.offset.unwrap_or(0),
    };
    let page = store.list(&query).await?;
    Ok(BookList {
        books: page.books,
        total: page.total,
        limit: query.limit,
        offset: query.offset,
    })
}
// ANCHOR_END: list_books

fn non_blank(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

// ANCHOR: get_book
/// One book.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/v1/books/{id}",
    params(("id" = String, Path, description = "The book id")),
    responses((status = 200, description = "The book", body = Book)),
))]
pub async fn get_book(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Book>, Problem> {
    find_book(&state.store, &id).await.map(Json)
}

/// The book `id` names, or a 404 problem that repeats the id.
pub async fn find_book(store: &BookStore, id: &str) -> Result<Book, Problem> {
    let not_found = || Problem::not_found(format!("there is no book with id {id}"));
    let numeric_id: i64 = id.parse().map_err(|_| not_found())?;
    store.get(numeric_id).await?.ok_or_else(not_found)
}
// ANCHOR_END: get_book

// ANCHOR: create_book
/// Add a book.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/v1/books",
    request_body = NewBook,
    responses((
        status = 201,
        description = "Created",
        body = Book,
        headers(("location" = String, description = "Where the new book is")),
    )),
))]
pub async fn create_book(
    State(state): State<AppState>,
    JsonBody(new_book): JsonBody<NewBook>,
) -> Result<Response, Problem> {
    let book = add_book(&state.store, new_book).await?;
    let location = HeaderValue::from_str(&location(&book)).map_err(|_| Problem::internal())?;
    let mut headers = HeaderMap::new();
    headers.insert(header::LOCATION, location);
    Ok((StatusCode::CREATED, headers, Json(book)).into_response())
}

/// Validates `new_book` and stores it: a 422 naming every bad field, or the book.
pub async fn add_book(store: &BookStore, new_book: NewBook) -> Result<Book, Problem> {
    let new_book = new_book.validate().map_err(Problem::invalid_fields)?;
    let book = store.create(&new_book).await?;
    tracing::info!(book_id = book.id, "book created");
    Ok(book)
}

/// Where a book lives: the `Location` of a 201.
pub fn location(book: &Book) -> String {
    format!("/v1/books/{}", book.id)
}
// ANCHOR_END: create_book

// ANCHOR: ready
/// Ready means "send me traffic": only when the database answers, and quickly.
async fn ready(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    health::ready_if(state.store.ping(), "the catalog database").await
}
// ANCHOR_END: ready
