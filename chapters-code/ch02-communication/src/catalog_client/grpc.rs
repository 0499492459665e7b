//! The catalog over gRPC with tonic: every book in one `GetPrices` call.

use tonic::Code;
use tonic::transport::{Channel, Endpoint};

use super::{CatalogBook, CatalogError, ClientConfig, PriceList};
use crate::proto::GetPricesRequest;
use crate::proto::catalog_client::CatalogClient as GeneratedClient;

#[derive(Debug, Clone)]
pub struct GrpcCatalog {
    client: GeneratedClient<Channel>,
}

impl GrpcCatalog {
    // ANCHOR: grpc_client
    pub fn new(config: &ClientConfig) -> Result<Self, CatalogError> {
        let endpoint = Endpoint::from_shared(config.base_url.clone())
            .map_err(|err| CatalogError::Misconfigured(format!("bad catalog URL: {err}")))?
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout);
        // Lazy: orders starts even while catalog is down, and reconnects later.
        let channel = endpoint.connect_lazy();
        Ok(Self {
            client: GeneratedClient::new(channel),
        })
    }
    // ANCHOR_END: grpc_client

    // ANCHOR: grpc_lookup
    pub async fn lookup(&self, ids: &[i64]) -> Result<PriceList, CatalogError> {
        let request = GetPricesRequest {
            book_ids: ids.to_vec(),
        };
        // Clones of a tonic client share one HTTP/2 connection.
        let response = self
            .client
            .clone()
            .get_prices(request)
            .await
            .map_err(status_error)?
            .into_inner();
        let mut found = std::collections::HashMap::new();
        for price in response.prices {
            // proto3 has no required fields: a missing price decodes as 0
            // and a missing title as "". Refuse them, as serde would.
            if price.price_cents <= 0 || price.title.is_empty() {
                return Err(CatalogError::BadAnswer(format!(
                    "book {} came back without a title or a price",
                    price.book_id
                )));
            }
            let book = CatalogBook {
                id: price.book_id,
                title: price.title,
                price_cents: price.price_cents,
            };
            found.insert(book.id, book);
        }
        Ok(PriceList {
            found,
            missing: response.missing,
        })
    }
    // ANCHOR_END: grpc_lookup
}

fn status_error(status: tonic::Status) -> CatalogError {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::ResourceExhausted => {
            CatalogError::Unavailable(format!("{:?}: {}", status.code(), status.message()))
        }
        code => CatalogError::BadAnswer(format!("{code:?}: {}", status.message())),
    }
}
