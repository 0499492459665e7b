//! Chapter 7 of *Microservices in Rust, Step by Step*: **operating it**.
//!
//! Nothing here changes what a service does; it makes what the services do
//! visible. The earlier chapters' services are reused as they are, and two
//! hooks of chapter 1 ([`ch01_autonomy::server::add_to_every_service`] and
//! [`ch01_autonomy::outgoing`]) let this chapter add, to every one of them:
//!
//! - [`trace_context`]: the W3C `traceparent` and the request id, read from
//!   every incoming request and written on every outgoing call.
//! - [`observe`]: a span and the RED metrics (rate, errors, duration) for
//!   every request, labelled by route template.
//! - [`metrics`]: the Prometheus recorder and `GET /metrics`.
//! - [`scrape_targets`]: the registry's instances as Prometheus targets
//!   (HTTP service discovery).
//! - [`telemetry`]: one `init` per process: logs (with trace ids),
//!   OpenTelemetry export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the
//!   metrics recorder, and the hooks.
//! - [`services`]: every Bookshop service, runnable from one binary
//!   (`ch07-service <name>`), the way the launcher runs them.

pub mod metrics;
pub mod observe;
pub mod scrape_targets;
pub mod services;
pub mod telemetry;
pub mod trace_context;
