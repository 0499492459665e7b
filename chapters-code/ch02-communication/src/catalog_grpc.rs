//! The catalog's gRPC API, served on the same port as its HTTP API.
//!
//! axum serves HTTP/1.1 and HTTP/2 on one listener; gRPC is HTTP/2 with
//! protobuf bodies, so the gRPC service is just more routes in the router.

use std::future::Future;

use axum::Router;
use ch01_autonomy::catalog::{self, App, BookStore};
use tonic::{Request, Response, Status};

use crate::proto::catalog_server::{Catalog, CatalogServer};
use crate::proto::{BookPrice, GetPricesRequest, GetPricesResponse};

/// More ids than this in one call is a client bug, not a shopping cart.
pub const MAX_IDS_PER_CALL: usize = 100;

// ANCHOR: grpc_service
/// The gRPC service: one method, backed by chapter 1's `BookStore`.
#[derive(Debug, Clone)]
pub struct CatalogGrpc {
    store: BookStore,
}

#[tonic::async_trait]
impl Catalog for CatalogGrpc {
    async fn get_prices(
        &self,
        request: Request<GetPricesRequest>,
    ) -> Result<Response<GetPricesResponse>, Status> {
        let ids = request.into_inner().book_ids;
        if ids.len() > MAX_IDS_PER_CALL {
            return Err(Status::invalid_argument(format!(
                "at most {MAX_IDS_PER_CALL} ids per call, got {}",
                ids.len()
            )));
        }
        let mut response = GetPricesResponse::default();
        for id in ids {
            match self.store.get(id).await {
                Ok(Some(book)) => response.prices.push(BookPrice {
                    book_id: book.id,
                    title: book.title,
                    price_cents: book.price_cents,
                }),
                Ok(None) => response.missing.push(id),
                Err(err) if err.is_unavailable() => {
                    return Err(Status::unavailable("the catalog database is unavailable"));
                }
                Err(err) => {
                    tracing::error!(%err, "database error");
                    return Err(Status::internal("the catalog failed to look up prices"));
                }
            }
        }
        Ok(Response::new(response))
    }
}
// ANCHOR_END: grpc_service

// ANCHOR: grpc_routes
/// The gRPC service as axum routes, to merge into the catalog's router.
pub fn routes(store: BookStore) -> Router {
    tonic::service::Routes::new(CatalogServer::new(CatalogGrpc { store })).into_axum_router()
}

/// Chapter 1's catalog process, plus the gRPC API on the same port.
pub async fn run(
    config: catalog::Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    catalog::run_with(config, shutdown, |app: &App| routes(app.store().clone())).await
}
// ANCHOR_END: grpc_routes
