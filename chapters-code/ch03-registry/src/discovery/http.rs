//! Our registry, over HTTP.

use std::time::Duration;

use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use super::{Instance, Lease, Registration, Registry, RegistryError, Snapshot};

/// A client of the registry service of this chapter.
#[derive(Debug, Clone)]
pub struct HttpRegistry {
    client: reqwest::Client,
    base_url: String,
    token: String,
}

#[derive(Serialize)]
struct RegistrationBody<'a> {
    service: &'a str,
    instance_id: &'a str,
    address: &'a str,
    metadata: &'a std::collections::BTreeMap<String, String>,
    ttl_secs: u64,
}

#[derive(Deserialize)]
struct LeaseBody {
    lease_id: String,
    ttl_secs: u64,
}

#[derive(Deserialize)]
struct ServiceBody {
    index: u64,
    instances: Vec<Instance>,
}

impl HttpRegistry {
    pub fn new(base_url: &str, token: &str) -> Result<Self, RegistryError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(500))
            .build()
            .map_err(|err| RegistryError::Unreachable(err.to_string()))?;
        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        })
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, RegistryError> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|err| RegistryError::Unreachable(err.to_string()))?;
        match response.status() {
            status if status.is_success() => Ok(response),
            StatusCode::NOT_FOUND => Err(RegistryError::UnknownLease),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(RegistryError::Unauthorized(
                response.text().await.unwrap_or_default(),
            )),
            status if status.is_server_error() => {
                Err(RegistryError::Unreachable(format!("answered {status}")))
            }
            _ => Err(RegistryError::Rejected(
                response.text().await.unwrap_or_default(),
            )),
        }
    }

    async fn listing(&self, request: reqwest::RequestBuilder) -> Result<Snapshot, RegistryError> {
        let body: ServiceBody = self
            .send(request)
            .await?
            .json()
            .await
            .map_err(|err| RegistryError::Unreachable(format!("unreadable answer: {err}")))?;
        Ok(Snapshot {
            index: body.index,
            instances: body.instances,
        })
    }
}

impl Registry for HttpRegistry {
    async fn register(&self, registration: &Registration) -> Result<Lease, RegistryError> {
        let body = RegistrationBody {
            service: &registration.service,
            instance_id: &registration.instance_id,
            address: &registration.address,
            metadata: &registration.metadata,
            ttl_secs: registration.ttl.as_secs(),
        };
        let request = self
            .client
            .post(format!("{}/v1/registrations", self.base_url))
            .timeout(Duration::from_secs(2))
            .json(&body);
        let lease: LeaseBody = self
            .send(request)
            .await?
            .json()
            .await
            .map_err(|err| RegistryError::Unreachable(format!("unreadable answer: {err}")))?;
        Ok(Lease {
            id: lease.lease_id,
            ttl: Duration::from_secs(lease.ttl_secs),
        })
    }

    async fn heartbeat(&self, lease: &Lease) -> Result<(), RegistryError> {
        let request = self
            .client
            .put(format!("{}/v1/leases/{}", self.base_url, lease.id))
            .timeout(Duration::from_secs(2));
        self.send(request).await.map(drop)
    }

    async fn deregister(&self, lease: &Lease) -> Result<(), RegistryError> {
        let request = self
            .client
            .delete(format!("{}/v1/leases/{}", self.base_url, lease.id))
            .timeout(Duration::from_secs(2));
        self.send(request).await.map(drop)
    }

    async fn instances(&self, service: &str) -> Result<Snapshot, RegistryError> {
        let request = self
            .client
            .get(format!("{}/v1/services/{service}", self.base_url))
            .timeout(Duration::from_secs(2));
        self.listing(request).await
    }

    // ANCHOR: http_watch
    async fn watch(
        &self,
        service: &str,
        index: u64,
        wait: Duration,
    ) -> Result<Snapshot, RegistryError> {
        let request = self
            .client
            .get(format!(
                "{}/v1/services/{service}?index={index}&wait={}",
                self.base_url,
                wait.as_secs().max(1)
            ))
            // The server may hold the request for `wait`: give it room.
            .timeout(wait + Duration::from_secs(5));
        self.listing(request).await
    }
    // ANCHOR_END: http_watch
}
