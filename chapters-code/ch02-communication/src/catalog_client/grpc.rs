//! The catalog over gRPC with tonic: every book in one `GetPrices` call.

use ch01_autonomy::outgoing;
use tonic::metadata::MetadataMap;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Extensions};
use tracing::Instrument as _;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{CatalogBook, CatalogError, ClientConfig, Locate, PriceList, base_url};
use crate::proto::GetPricesRequest;
use crate::proto::catalog_client::CatalogClient as GeneratedClient;

#[derive(Debug, Clone)]
pub struct GrpcCatalog {
    locator: Arc<dyn Locate>,
    connect_timeout: Duration,
    timeout: Duration,
    /// One client (one HTTP/2 connection) per catalog instance.
    clients: Arc<Mutex<HashMap<String, GeneratedClient<Channel>>>>,
}

impl GrpcCatalog {
    // ANCHOR: grpc_client
    pub fn new(config: &ClientConfig, locator: Arc<dyn Locate>) -> Result<Self, CatalogError> {
        let catalog = Self {
            locator,
            connect_timeout: config.connect_timeout,
            timeout: config.timeout,
            clients: Arc::default(),
        };
        // Fail at start-up, not on the first order, if the URL is wrong.
        if let Some(url) = catalog.locator.locate() {
            catalog.client_for(&url)?;
        }
        Ok(catalog)
    }

    fn client_for(&self, url: &str) -> Result<GeneratedClient<Channel>, CatalogError> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = clients.get(url) {
            return Ok(client.clone());
        }
        let endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|err| CatalogError::Misconfigured(format!("bad catalog URL: {err}")))?
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout);
        // Lazy: orders starts even while catalog is down, and reconnects later.
        let client = GeneratedClient::new(endpoint.connect_lazy());
        clients.insert(url.to_owned(), client.clone());
        Ok(client)
    }
    // ANCHOR_END: grpc_client

    // ANCHOR: grpc_lookup
    pub async fn lookup(&self, ids: &[i64]) -> Result<PriceList, CatalogError> {
        let message = GetPricesRequest {
            book_ids: ids.to_vec(),
        };
        // gRPC metadata is HTTP/2 headers: what travels with every call
        // (chapter 7's trace context) goes in as it does for reqwest.
        // Clones of a tonic client share one HTTP/2 connection.
        let mut client = self.client_for(&base_url(self.locator.as_ref())?)?;
        let response = async {
            let metadata = MetadataMap::from_headers(outgoing::headers());
            let request = tonic::Request::from_parts(metadata, Extensions::default(), message);
            client.get_prices(request).await
        }
        .instrument(outgoing::call_span("catalog", "GetPrices"))
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
