//! The Prometheus side: one recorder per process, rendered as text on
//! `GET /metrics`.
//!
//! Services record through the `metrics` facade (`counter!`,
//! `histogram!`, `gauge!`); until a recorder is installed those calls do
//! nothing, so a library can record without knowing who collects.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use axum::http::{Method, StatusCode, header};
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

use crate::observe::status_class;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

// ANCHOR: collectors
/// Something that sets gauges from state it can read at any time (the
/// registry's instances, say), run just before each scrape is rendered.
pub type Collector = Box<dyn Fn() + Send + Sync>;

static COLLECTORS: Mutex<Vec<Collector>> = Mutex::new(Vec::new());

/// Runs `collect` before every render of `/metrics` in this process.
pub fn collect_before_render(collect: Collector) {
    COLLECTORS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(collect);
}
// ANCHOR_END: collectors

/// Requests served, by route template, method and status class.
pub const REQUESTS: &str = "http_server_requests_total";
/// How long requests took, by route template and method.
pub const DURATION: &str = "http_server_request_duration_seconds";

// ANCHOR: buckets
/// Histogram buckets for request durations, in seconds: fine around the
/// latencies Bookshop has (a few milliseconds), coarse beyond.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
// ANCHOR_END: buckets

/// Installs the process's recorder. Later calls change nothing, even
/// when they race (two tests in one process, say).
pub fn install() -> Result<(), BuildError> {
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|p| p.into_inner());
    if HANDLE.get().is_some() {
        return Ok(());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), DURATION_BUCKETS)?
        .install_recorder()?;
    let _ = HANDLE.set(handle);
    Ok(())
}

// ANCHOR: render
/// `GET /metrics`: every series of this process in Prometheus text format.
pub async fn render() -> impl IntoResponse {
    let body = match HANDLE.get() {
        Some(handle) => {
            for collect in COLLECTORS.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                collect();
            }
            handle.run_upkeep();
            handle.render()
        }
        None => String::new(),
    };
    let content_type = "text/plain; version=0.0.4; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], body)
}
// ANCHOR_END: render

// ANCHOR: red
/// Records one finished request: the R, E and D of RED.
pub fn request_finished(method: &Method, route: &str, status: StatusCode, took: Duration) {
    let (method, route) = (method.to_string(), route.to_owned());
    let class = status_class(status);
    metrics::counter!(REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => class)
        .increment(1);
    metrics::histogram!(DURATION, "method" => method, "route" => route).record(took.as_secs_f64());
}
// ANCHOR_END: red
