//! The catalog over HTTP/JSON with reqwest: one `GET /v1/books/{id}` per
//! distinct book, sent concurrently.

use futures_util::future::try_join_all;
use reqwest::StatusCode;
use tracing::Instrument as _;

use std::sync::Arc;

use ch01_autonomy::outgoing;

use super::{CatalogBook, CatalogError, ClientConfig, Locate, PriceList, base_url};

#[derive(Debug, Clone)]
pub struct HttpCatalog {
    client: reqwest::Client,
    locator: Arc<dyn Locate>,
}

impl HttpCatalog {
    // ANCHOR: http_client
    pub fn new(config: &ClientConfig, locator: Arc<dyn Locate>) -> Result<Self, CatalogError> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .build()
            .map_err(|err| CatalogError::Misconfigured(format!("cannot build a client: {err}")))?;
        Ok(Self { client, locator })
    }
    // ANCHOR_END: http_client

    pub async fn lookup(&self, ids: &[i64]) -> Result<PriceList, CatalogError> {
        let base = base_url(self.locator.as_ref())?;
        let answers = try_join_all(ids.iter().map(|&id| self.book(&base, id))).await?;
        let mut prices = PriceList::default();
        for (id, answer) in ids.iter().zip(answers) {
            match answer {
                Some(book) => {
                    prices.found.insert(*id, book);
                }
                None => prices.missing.push(*id),
            }
        }
        Ok(prices)
    }

    // ANCHOR: http_book
    /// `Ok(None)` is "no such book": an answer, not a failure.
    async fn book(&self, base: &str, id: i64) -> Result<Option<CatalogBook>, CatalogError> {
        let url = format!("{base}/v1/books/{id}");
        let response = async {
            self.client
                .get(&url)
                .headers(outgoing::headers())
                .send()
                .await
        }
        .instrument(outgoing::call_span("catalog", "GET"))
        .await
        .map_err(transport_error)?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => {
                let body = response.bytes().await.map_err(transport_error)?;
                let book = serde_json::from_slice::<CatalogBook>(&body).map_err(|err| {
                    CatalogError::BadAnswer(format!("unreadable book {id}: {err}"))
                })?;
                Ok(Some(book))
            }
            status => Err(CatalogError::BadAnswer(format!(
                "GET {url} answered {status}"
            ))),
        }
    }
    // ANCHOR_END: http_book
}

/// Refused, reset or timed out: nothing useful came back.
fn transport_error(err: reqwest::Error) -> CatalogError {
    if err.is_timeout() {
        CatalogError::Unavailable("the catalog did not answer in time".to_owned())
    } else if err.is_connect() {
        CatalogError::Unavailable(format!("cannot connect to the catalog: {err}"))
    } else {
        CatalogError::Unavailable(format!("the request to the catalog failed: {err}"))
    }
}
