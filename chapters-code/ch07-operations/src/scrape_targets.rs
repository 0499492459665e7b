//! The registry as Prometheus's source of targets: every registered
//! instance, in the format of Prometheus's HTTP service discovery.
//!
//! Prometheus asks `GET /v1/prometheus/targets` every few seconds, so an
//! instance that registers is scraped without touching Prometheus's
//! configuration, and one that expires is dropped.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use ch03_registry::registry::{self, Store};
use serde::Serialize;

/// One group of targets with the labels they share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetGroup {
    pub targets: Vec<String>,
    pub labels: Labels,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Labels {
    pub service: String,
    pub instance_id: String,
}

// ANCHOR: targets
/// Every live instance as a target: `host:port` (Prometheus adds the
/// scheme and `/metrics`), labelled with its service and instance id.
pub fn targets(store: &Store) -> Vec<TargetGroup> {
    let mut groups = Vec::new();
    for service in store.services().into_keys() {
        for instance in store.snapshot(&service).instances {
            let address = instance.address.trim_start_matches("http://");
            groups.push(TargetGroup {
                targets: vec![address.trim_end_matches('/').to_owned()],
                labels: Labels {
                    service: service.clone(),
                    instance_id: instance.instance_id,
                },
            });
        }
    }
    groups
}
// ANCHOR_END: targets

/// `GET /v1/prometheus/targets`.
pub fn routes(store: Arc<Store>) -> Router {
    Router::new()
        .route("/v1/prometheus/targets", get(list))
        .with_state(store)
}

async fn list(State(store): State<Arc<Store>>) -> Json<Vec<TargetGroup>> {
    Json(targets(&store))
}

// ANCHOR: instance_gauges
/// `registry_instances{service}`, read from the store at each scrape; a
/// service whose last instance left drops to 0 instead of vanishing.
fn instance_gauges(store: Arc<Store>) -> crate::metrics::Collector {
    let seen = Mutex::new(BTreeSet::new());
    Box::new(move || {
        let live = store.services();
        let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.extend(live.keys().cloned());
        for service in seen.iter() {
            let count = live.get(service).copied().unwrap_or(0);
            metrics::gauge!("registry_instances", "service" => service.clone()).set(count as f64);
        }
    })
}
// ANCHOR_END: instance_gauges

/// Chapter 3's registry process, serving Prometheus's targets too.
pub async fn run_registry(
    config: registry::Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    registry::run_with(config, shutdown, |app| {
        crate::metrics::collect_before_render(instance_gauges(app.store().clone()));
        routes(app.store().clone())
    })
    .await
}
