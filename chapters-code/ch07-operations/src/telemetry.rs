//! Telemetry for one service process, set up once at the top of `main`:
//! logs, traces, metrics, and the hooks that put them in every service.

use ch01_autonomy::{outgoing, server, sqlite, telemetry};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::{Level, Metadata};
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::{metrics, observe, trace_context};

/// The default filter when `RUST_LOG` is not set.
/// Chapter 1's, except that [`observe`] now logs each request, inside its
/// span, so the line carries the trace id (tower-http's line would not).
const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=warn";

/// Where spans go: unset means nowhere (nothing is collected, nothing
/// slows down, nothing complains about a missing collector).
pub const ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// What [`init`] set up; [`Telemetry::shutdown`] sends the spans still
/// buffered before the process exits.
#[derive(Debug)]
#[must_use = "call shutdown before exiting, or the last spans are lost"]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("cannot set up the metrics recorder: {0}")]
    Metrics(#[from] metrics_exporter_prometheus::BuildError),
    #[error("cannot set up the OTLP exporter for {ENDPOINT_ENV}: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    #[error("a logger was already set up in this process")]
    AlreadySet(#[from] tracing_subscriber::util::TryInitError),
}

// ANCHOR: init
/// Sets up logs, traces and metrics for the service `service`, and adds
/// `/metrics`, trace context and request metrics to every service this
/// process serves. Call once, in `main`, inside the Tokio runtime.
pub fn init(service: &str) -> Result<Telemetry, TelemetryError> {
    trace_context::install_propagator();
    metrics::install()?;
    server::add_to_every_service(observe::add_to_service);
    outgoing::install(outgoing::Propagator {
        inject: trace_context::inject,
        adopt: trace_context::adopt,
    });
    sqlite::add_to_every_transaction(trace_context::remember_in_transaction);

    let traces = tracer_provider(service)?;
    let export = traces.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer(service.to_owned()))
            .with_filter(filter_fn(exported))
    });
    // Chapter 1's filter and log lines, and the exporter's layer beside them.
    tracing_subscriber::registry()
        .with(telemetry::filter(DEFAULT_FILTER))
        .with(telemetry::log_layer())
        .with(export)
        .try_init()?;
    Ok(Telemetry { traces })
}
// ANCHOR_END: init

// ANCHOR: exporter
/// An OTLP/gRPC exporter when [`ENDPOINT_ENV`] is set, batching spans on
/// a thread of its own; `None` otherwise.
fn tracer_provider(service: &str) -> Result<Option<SdkTracerProvider>, TelemetryError> {
    let Some(endpoint) = std::env::var(ENDPOINT_ENV)
        .ok()
        .filter(|e| !e.trim().is_empty())
    else {
        return Ok(None);
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()?;
    let resource = Resource::builder()
        .with_service_name(service.to_owned())
        .build();
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build(),
    ))
}
// ANCHOR_END: exporter

// ANCHOR: exported
/// Which spans become OpenTelemetry spans: those that say what kind they
/// are (`otel.kind`), so each hop is one span and not three. Events
/// (logs) ride along on their span from WARN up.
fn exported(metadata: &Metadata<'_>) -> bool {
    if metadata.target().starts_with("opentelemetry") {
        return false;
    }
    if metadata.is_span() {
        metadata.fields().field("otel.kind").is_some()
    } else {
        *metadata.level() <= Level::WARN
    }
}
// ANCHOR_END: exported

impl Telemetry {
    /// Sends the spans still buffered (waits at most the exporter's
    /// timeout) and stops the exporter.
    pub async fn shutdown(self) {
        let Some(provider) = self.traces else { return };
        let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        if let Ok(Err(err)) = flushed {
            tracing::warn!(%err, "some spans could not be sent");
        }
    }
}
