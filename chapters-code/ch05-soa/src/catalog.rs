//! The **catalog**, chapter 5 version: chapters 1 to 3's catalog (HTTP,
//! gRPC, registered), now publishing its contract. The handlers are
//! chapter 1's, annotated there behind the `openapi` feature, so the
//! document is generated from the code that answers.

use std::future::Future;

use axum::Router;
use ch01_autonomy::catalog::{self, http};
use ch03_registry::services::{self as chapter3, CatalogConfig};
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::contract;

// ANCHOR: published
fn api() -> OpenApiRouter<catalog::AppState> {
    OpenApiRouter::new()
        .routes(routes!(http::list_books, http::create_book))
        .routes(routes!(http::get_book))
}

/// The catalog's OpenAPI document.
pub fn openapi() -> OpenApi {
    contract::document(api(), "catalog")
}

/// The routes that publish it: `/openapi.json` and `/docs`, to merge
/// beside the catalog's own (`App::into_router_with`).
pub fn published() -> Router {
    contract::serve(Router::new(), openapi())
}
// ANCHOR_END: published

/// The catalog in the running system: registered, HTTP and gRPC, and its
/// contract at `/openapi.json` with the docs at `/docs`.
pub async fn run_registered(
    config: CatalogConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    chapter3::run_catalog_with(config, shutdown, published()).await
}
