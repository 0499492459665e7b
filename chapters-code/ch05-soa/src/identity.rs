//! The **identity** service, chapter 5 version: chapter 4's identity,
//! publishing its contract. The handlers are chapter 4's, annotated there
//! behind the `openapi` feature.

use std::future::Future;

use axum::Router;
use ch04_gateway::identity::{self, http};
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::contract;

fn api() -> OpenApiRouter<http::AppState> {
    OpenApiRouter::new()
        .routes(routes!(http::sign_up))
        .routes(routes!(http::token))
        .routes(routes!(http::jwks))
}

/// Identity's OpenAPI document.
pub fn openapi() -> OpenApi {
    contract::document(api(), "identity")
}

/// The routes that publish it, to merge beside identity's own.
pub fn published() -> Router {
    contract::serve(Router::new(), openapi())
}

/// Identity in the running system: registered, with its contract at
/// `/openapi.json` and the docs at `/docs`.
pub async fn run(
    config: identity::ProcessConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    identity::run_with(config, shutdown, published()).await
}
