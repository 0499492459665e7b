//! The catalog slice in poem. Its own middleware gives the request id,
//! the trace span and the panic catcher; the timeout is tower's, through
//! poem's adapter, which works for layers generic over the request type
//! and not for tower-http's, which want an `http::Request`.

use std::time::Duration;

use ch01_autonomy::catalog::BookStore;
use ch01_autonomy::catalog::http::{self as catalog, BookList, ListParams};
use ch01_autonomy::health::{self, Health};
use ch01_autonomy::json;
use ch01_autonomy::problem::{PROBLEM_JSON, Problem};
use poem::http::{StatusCode, header};
use poem::middleware::{
    AddData, CatchPanic, RequestId, ReuseId, SizeLimit, TowerLayerCompatExt, Tracing,
};
use poem::web::{Data, Json, Path};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler};

/// Longest a request may take before it is cut off.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request body, as in chapter 1.
pub const BODY_LIMIT: usize = 64 * 1024;

// ANCHOR: app
/// The slice's routes, every error as a problem, inside the middleware.
pub fn app(store: BookStore) -> impl Endpoint {
    Route::new()
        // Only where a body is read: `SizeLimit` answers 411 to any
        // request without a `Content-Length`, every GET included.
        .at(
            "/v1/books",
            get(list_books).post(create_book.with(SizeLimit::new(BODY_LIMIT))),
        )
        .at("/v1/books/:id", get(get_book))
        .at("/health/live", get(live))
        .at("/health/ready", get(ready))
        .with(AddData::new(store))
        .with(tower::timeout::TimeoutLayer::new(REQUEST_TIMEOUT).compat())
        .catch_all_error(as_problem)
        .with(CatchPanic::new())
        .with(Tracing)
        .with(RequestId::default().reuse_id(ReuseId::Use))
}
// ANCHOR_END: app

// ANCHOR: problem
/// A [`Problem`] as a poem error (a new type: both are foreign here).
#[derive(Debug)]
pub struct ApiError(pub Problem);

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        Self(problem)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.detail)
    }
}

impl std::error::Error for ApiError {}

impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn as_response(&self) -> Response {
        let mut response = Response::builder()
            .status(self.status())
            .content_type(PROBLEM_JSON);
        if let Some(seconds) = self.0.retry_after {
            response = response.header(header::RETRY_AFTER, seconds);
        }
        response.body(serde_json::to_vec(&self.0).unwrap_or_default())
    }
}

/// Our problems as they are; poem's own errors (no route, a body too
/// large, the timeout) as a problem with their status and message.
async fn as_problem(error: poem::Error) -> Response {
    if error.is::<ApiError>() {
        return error.into_response();
    }
    let status = error.status();
    let problem = Problem {
        status: status.as_u16(),
        ..Problem::internal()
    };
    let title = status.canonical_reason().unwrap_or("Error").to_owned();
    let detail = error.to_string();
    poem::Error::from(ApiError(Problem {
        title,
        detail,
        ..problem
    }))
    .into_response()
}
// ANCHOR_END: problem

// ANCHOR: handlers
#[handler]
async fn list_books(
    Data(store): Data<&BookStore>,
    request: &Request,
) -> Result<Json<BookList>, ApiError> {
    let params: ListParams = request
        .params()
        .map_err(|err| Problem::bad_request(err.to_string()))?;
    Ok(Json(catalog::list_page(store, params).await?))
}

#[handler]
async fn get_book(
    Data(store): Data<&BookStore>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(catalog::find_book(store, &id).await?).into_response())
}

#[handler]
async fn create_book(
    Data(store): Data<&BookStore>,
    request: &Request,
    body: Vec<u8>,
) -> Result<Response, ApiError> {
    let book = catalog::add_book(store, json::from_body(request.content_type(), &body)?).await?;
    let location = catalog::location(&book);
    Ok(Json(book)
        .with_status(StatusCode::CREATED)
        .with_header(header::LOCATION, location)
        .into_response())
}

#[handler]
fn live() -> Json<Health> {
    Json(Health::LIVE)
}

#[handler]
async fn ready(Data(store): Data<&BookStore>) -> Result<Json<Health>, ApiError> {
    Ok(Json(
        health::readiness(store.ping(), "the catalog database").await?,
    ))
}
// ANCHOR_END: handlers
