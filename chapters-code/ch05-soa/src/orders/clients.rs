//! How orders calls inventory and payments during checkout.
//!
//! The DTOs here are orders' own view of those services: only the fields
//! orders reads, written by hand, tolerant of fields it does not know. No
//! shared crate of types: the contract is the providers' OpenAPI document,
//! and `tests/contracts.rs` checks these expectations against the real
//! services.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use ch01_autonomy::outgoing;
use ch01_autonomy::problem::Problem;
use ch02_communication::catalog_client::Locate;

// ANCHOR: call_error
/// What a failed call means for the saga.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No answer, a 5xx, or an answer orders cannot read: the step may or
    /// may not have happened. Try the same step again later.
    #[error("{0}")]
    Unavailable(String),
    /// A clear "no" (a 4xx): retrying will not change it.
    #[error("{0}")]
    Refused(String),
}
// ANCHOR_END: call_error

/// One pooled HTTP client for one provider, found through a [`Locate`].
#[derive(Debug, Clone)]
struct Provider {
    name: &'static str,
    client: reqwest::Client,
    locator: Arc<dyn Locate>,
}

impl Provider {
    fn new(
        name: &'static str,
        locator: Arc<dyn Locate>,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_millis(500)))
            .timeout(timeout)
            .build()?;
        Ok(Self {
            name,
            client,
            locator,
        })
    }

    /// `POST {base}{path}` with an optional JSON body, read as `T`.
    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&(impl Serialize + Sync)>,
    ) -> Result<T, CallError> {
        let base = self
            .locator
            .locate()
            .ok_or_else(|| CallError::Unavailable(format!("no {} instance is known", self.name)))?;
        let url = format!("{}{path}", base.trim_end_matches('/'));
        let send = async {
            let mut request = self.client.post(&url).headers(outgoing::headers());
            if let Some(body) = body {
                request = request.json(body);
            }
            request.send().await
        };
        let span = outgoing::call_span(self.name, "POST");
        let response = send.instrument(span).await.map_err(|err| {
            CallError::Unavailable(format!("{} did not answer: {err}", self.name))
        })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|err| {
            CallError::Unavailable(format!("{} broke off its answer: {err}", self.name))
        })?;
        if status.is_client_error() {
            let detail = serde_json::from_slice::<Problem>(&bytes)
                .map(|problem| problem.detail)
                .unwrap_or_else(|_| format!("{} answered {status}", self.name));
            return Err(CallError::Refused(detail));
        }
        if !status.is_success() {
            return Err(CallError::Unavailable(format!(
                "POST {url} answered {status}"
            )));
        }
        serde_json::from_slice(&bytes).map_err(|err| {
            CallError::Unavailable(format!("unreadable answer from POST {url}: {err}"))
        })
    }
}

/// A line to reserve: what orders sends to inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReserveLine {
    pub book_id: i64,
    pub quantity: i64,
}

// ANCHOR: consumer_dtos
/// What orders reads from inventory's answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReservationAnswer {
    pub order_id: String,
    pub status: String,
}

/// What orders reads from payments' answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaymentAnswer {
    pub order_id: String,
    pub status: String,
}
// ANCHOR_END: consumer_dtos

#[derive(Debug, Clone)]
pub struct InventoryClient(Provider);

impl InventoryClient {
    pub fn new(locator: Arc<dyn Locate>, timeout: Duration) -> Result<Self, reqwest::Error> {
        Provider::new("inventory", locator, timeout).map(Self)
    }

    /// Holds stock for every line, or refuses (not enough stock).
    pub async fn reserve(
        &self,
        order_id: &str,
        lines: &[ReserveLine],
    ) -> Result<ReservationAnswer, CallError> {
        let body = serde_json::json!({ "order_id": order_id, "lines": lines });
        self.0.post("/v1/reservations", Some(&body)).await
    }

    pub async fn confirm(&self, order_id: &str) -> Result<ReservationAnswer, CallError> {
        let path = format!("/v1/reservations/{order_id}/confirm");
        self.0.post(&path, None::<&()>).await
    }

    pub async fn release(&self, order_id: &str) -> Result<ReservationAnswer, CallError> {
        let path = format!("/v1/reservations/{order_id}/release");
        self.0.post(&path, None::<&()>).await
    }
}

#[derive(Debug, Clone)]
pub struct PaymentsClient(Provider);

impl PaymentsClient {
    pub fn new(locator: Arc<dyn Locate>, timeout: Duration) -> Result<Self, reqwest::Error> {
        Provider::new("payments", locator, timeout).map(Self)
    }

    /// Charges the order once; asking again gets the first answer.
    pub async fn charge(
        &self,
        order_id: &str,
        amount_cents: i64,
    ) -> Result<PaymentAnswer, CallError> {
        let body = serde_json::json!({ "order_id": order_id, "amount_cents": amount_cents });
        self.0.post("/v1/payments", Some(&body)).await
    }

    pub async fn refund(&self, order_id: &str) -> Result<PaymentAnswer, CallError> {
        let path = format!("/v1/payments/{order_id}/refund");
        self.0.post(&path, None::<&()>).await
    }
}
