//! The catalog slice in actix-web. The handlers call the same
//! framework-free functions as the axum version; the middleware is
//! written again, because actix-web has its own `Service` trait and no
//! tower layer fits it.

mod middleware;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use ch01_autonomy::catalog::BookStore;
use ch01_autonomy::catalog::http::{self as catalog, ListParams};
use ch01_autonomy::health::{self, Health};
use ch01_autonomy::json;
use ch01_autonomy::problem::{PROBLEM_JSON, Problem};

pub use middleware::{catch_panic, request_id_and_span, timeout};

/// Largest request body, as in chapter 1.
pub const BODY_LIMIT: usize = 64 * 1024;

// ANCHOR: routes
/// The slice's routes; `main` wraps them in the middleware.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .app_data(web::PayloadConfig::new(BODY_LIMIT))
        .route("/v1/books", web::get().to(list_books))
        .route("/v1/books", web::post().to(create_book))
        .route("/v1/books/{id}", web::get().to(get_book))
        .route("/health/live", web::get().to(live))
        .route("/health/ready", web::get().to(ready))
        .default_service(web::to(unknown_route));
}
// ANCHOR_END: routes

// ANCHOR: problem
/// A [`Problem`] as actix-web's error type (a new type: both are foreign here).
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

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Some(seconds) = self.0.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        let body = serde_json::to_vec(&self.0).unwrap_or_default();
        response.content_type(PROBLEM_JSON).body(body)
    }
}
// ANCHOR_END: problem

// ANCHOR: handlers
async fn list_books(
    store: web::Data<BookStore>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = web::Query::<ListParams>::from_query(request.query_string())
        .map_err(|err| Problem::bad_request(err.to_string()))?;
    let page = catalog::list_page(&store, params.into_inner()).await?;
    Ok(HttpResponse::Ok().json(page))
}

async fn get_book(
    store: web::Data<BookStore>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(catalog::find_book(&store, &id).await?))
}

async fn create_book(
    store: web::Data<BookStore>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let book = catalog::add_book(&store, json::from_body(content_type, &body)?).await?;
    let location = (header::LOCATION, catalog::location(&book));
    Ok(HttpResponse::Created().insert_header(location).json(book))
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health::LIVE)
}

async fn ready(store: web::Data<BookStore>) -> Result<HttpResponse, ApiError> {
    let health = health::readiness(store.ping(), "the catalog database").await?;
    Ok(HttpResponse::Ok().json(health))
}
// ANCHOR_END: handlers

async fn unknown_route(request: HttpRequest) -> HttpResponse {
    let detail = format!(
        "there is no route for {} {}",
        request.method(),
        request.path()
    );
    ApiError(Problem::not_found(detail)).error_response()
}
