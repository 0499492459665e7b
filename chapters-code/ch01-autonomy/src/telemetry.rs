//! Logging for a service process: `tracing` with an `EnvFilter`
//! (`RUST_LOG`), human-readable by default and one JSON object per line
//! when `LOG_FORMAT=json` (what a log shipper wants).

use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

/// The default filter when `RUST_LOG` is not set.
const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=info";

// ANCHOR: init
/// Installs the global subscriber. Call once, at the top of `main`.
pub fn init() {
    // `try_init` fails only if a subscriber is already set (e.g. twice in a test).
    let _ = tracing_subscriber::registry()
        .with(filter(DEFAULT_FILTER))
        .with(log_layer())
        .try_init();
}

/// What to log: `RUST_LOG` when it is set, `default` otherwise.
pub fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}

/// Log lines on stderr: one JSON object per line with `LOG_FORMAT=json`,
/// compact text otherwise, in colour only when a person is watching.
pub fn log_layer<S>() -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let json = std::env::var("LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        // The current span's fields (the request id…) in "span"; the list
        // of every enclosing span would repeat them on each line.
        layer
            .json()
            .flatten_event(true)
            .with_span_list(false)
            .boxed()
    } else {
        layer.compact().boxed()
    }
}
// ANCHOR_END: init
