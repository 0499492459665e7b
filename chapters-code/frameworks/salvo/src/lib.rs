//! The catalog slice in salvo. Chapter 1's tower-http layers (request
//! id, trace span, timeout) go in unchanged through salvo's adapter; the
//! panic catcher is salvo's own, since a handler runs outside the future
//! a tower layer wraps.

use std::time::Duration;

use ch01_autonomy::catalog::BookStore;
use ch01_autonomy::catalog::http::{self as catalog, BookList, ListParams};
use ch01_autonomy::catalog::model::Book;
use ch01_autonomy::health::{self, Health};
use ch01_autonomy::json;
use ch01_autonomy::problem::{PROBLEM_JSON, Problem};
use salvo::affix_state;
use salvo::http::header::{self, HeaderValue};
use salvo::prelude::*;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Longest a request may take before the client gets a 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request body, as in chapter 1.
pub const BODY_LIMIT: usize = 64 * 1024;

// ANCHOR: app
/// The slice's routes inside chapter 1's tower layers, outermost first.
pub fn app(store: BookStore) -> Service {
    let router = Router::new()
        .hoop(affix_state::inject(store))
        .push(
            Router::with_path("v1/books")
                .get(list_books)
                .post(create_book),
        )
        .push(Router::with_path("v1/books/{id}").get(get_book))
        .push(Router::with_path("health/live").get(live))
        .push(Router::with_path("health/ready").get(ready))
        .push(Router::with_path("{**rest}").goal(unknown_route));
    Service::new(router)
        .hoop(SetRequestIdLayer::x_request_id(MakeRequestUuid).compat())
        .hoop(TraceLayer::new_for_http().compat())
        .hoop(PropagateRequestIdLayer::x_request_id().compat())
        .hoop(CatchPanic::new())
        .hoop(
            TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT)
                .compat(),
        )
}
// ANCHOR_END: app

// ANCHOR: problem
/// A [`Problem`] as something salvo can write (a new type: both are foreign here).
#[derive(Debug)]
pub struct ApiError(pub Problem);

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        Self(problem)
    }
}

impl Scribe for ApiError {
    fn render(self, res: &mut Response) {
        res.status_code(
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = self.0.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Err(err) = res.write_body(serde_json::to_vec(&self.0).unwrap_or_default()) {
            tracing::error!(%err, "cannot write a problem");
        }
    }
}

/// Any path no route above takes, as a 404 problem. (A `Catcher` would
/// not see it: behind the adapted tower layers the response already has a
/// body, empty as it is, so salvo's catcher leaves it alone.)
#[handler]
async fn unknown_route(req: &Request, res: &mut Response) {
    let detail = format!(
        "there is no route for {} {}",
        req.method(),
        req.uri().path()
    );
    ApiError(Problem::not_found(detail)).render(res);
}

fn store(depot: &Depot) -> Result<&BookStore, ApiError> {
    depot
        .get_typed::<BookStore>()
        .map_err(|_| ApiError(Problem::internal()))
}
// ANCHOR_END: problem

// ANCHOR: handlers
#[handler]
async fn list_books(req: &mut Request, depot: &mut Depot) -> Result<Json<BookList>, ApiError> {
    let params: ListParams = req
        .parse_queries()
        .map_err(|err| Problem::bad_request(err.to_string()))?;
    Ok(Json(catalog::list_page(store(depot)?, params).await?))
}

#[handler]
async fn get_book(req: &mut Request, depot: &mut Depot) -> Result<Json<Book>, ApiError> {
    let id: String = req.param("id").unwrap_or_default();
    Ok(Json(catalog::find_book(store(depot)?, &id).await?))
}

#[handler]
async fn create_book(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> Result<(), ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = req
        .payload_with_max_size(BODY_LIMIT)
        .await
        .map_err(|err| Problem::bad_request(err.to_string()))?;
    let book = catalog::add_book(
        store(depot)?,
        json::from_body(content_type.as_deref(), body)?,
    )
    .await?;
    let location =
        HeaderValue::from_str(&catalog::location(&book)).map_err(|_| Problem::internal())?;
    res.headers_mut().insert(header::LOCATION, location);
    res.render_with_status(StatusCode::CREATED, Json(book));
    Ok(())
}

#[handler]
async fn live() -> Json<Health> {
    Json(Health::LIVE)
}

#[handler]
async fn ready(depot: &mut Depot) -> Result<Json<Health>, ApiError> {
    Ok(Json(
        health::readiness(store(depot)?.ping(), "the catalog database").await?,
    ))
}
// ANCHOR_END: handlers
