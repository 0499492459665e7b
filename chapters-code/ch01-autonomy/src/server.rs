//! What every Bookshop service binary shares: the tower layers around its
//! router, answers for unknown routes, and serving with graceful shutdown.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::problem::Problem;

/// The header that carries a request's id from service to service.
pub const REQUEST_ID: &str = "x-request-id";

// ANCHOR: common_layers
/// Wraps a service's routes in the layers every service has.
///
/// From the outside in: a request id (kept if the caller sent one), a
/// tracing span per request that carries it, the id copied onto the
/// response, a panic turned into a 500 problem, and a body size limit.
/// Innermost, whatever a later chapter added to every service (nothing
/// in this chapter: see [`add_to_every_service`]).
pub fn with_common_layers(routes: Router, body_limit: usize) -> Router {
    let routes = match EVERY_SERVICE.get() {
        Some(add) => add(routes),
        None => routes,
    };
    routes
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(|_panic| {
            tracing::error!("a handler panicked");
            Problem::internal().into_response()
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}
// ANCHOR_END: common_layers

// ANCHOR: every_service
/// Routes and layers a later chapter adds to every service of a process
/// (chapter 7: `/metrics`, trace context, request metrics). Set once at
/// start-up; until then nothing is added.
static EVERY_SERVICE: OnceLock<fn(Router) -> Router> = OnceLock::new();

/// Adds `add` to every router [`with_common_layers`] builds from now on.
/// Returns `false` (and changes nothing) if something was added before.
pub fn add_to_every_service(add: fn(Router) -> Router) -> bool {
    EVERY_SERVICE.set(add).is_ok()
}
// ANCHOR_END: every_service

fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        uri = %request.uri(),
        request_id,
    )
}

async fn unknown_route(method: Method, uri: Uri) -> Problem {
    Problem::not_found(format!("there is no route for {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not accept {method}", uri.path()),
    )
    .into_response()
}

/// Binding failed: the address is taken, or not ours to bind. The
/// message names the setting that changes it.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {source} (set another address with --listen or {env})")]
pub struct BindError {
    pub addr: SocketAddr,
    /// The environment variable behind `--listen`, e.g. `CATALOG_LISTEN`.
    pub env: &'static str,
    #[source]
    pub source: io::Error,
}

/// Binds a listener, with an error that names the address and how to
/// change it (`--listen` or `env`).
pub async fn bind(addr: SocketAddr, env: &'static str) -> Result<TcpListener, BindError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| BindError { addr, env, source })
}

/// How long in-flight requests get to finish once shutdown starts.
/// Orchestrators wait about as long before they send SIGKILL (Kubernetes: 30 s).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(25);

// ANCHOR: serve
/// Serves `router` on `listener` until `shutdown` completes, then stops
/// accepting connections and waits for the requests in flight to finish,
/// at most [`DRAIN_TIMEOUT`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    let (draining, drain_started) = oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        let _ = draining.send(());
    };
    // With the peer's address available to handlers (`ConnectInfo`), for
    // services that care who is calling (the gateway's X-Forwarded-For).
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, service)
        .with_graceful_shutdown(signal)
        .into_future();
    let deadline = async {
        if drain_started.await.is_ok() {
            tokio::time::sleep(DRAIN_TIMEOUT).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = server => {
            served?;
            tracing::info!(%addr, "stopped: every in-flight request has finished");
        }
        () = deadline => {
            tracing::warn!(%addr, "stopped: requests still in flight after {DRAIN_TIMEOUT:?} were cut off");
        }
    }
    Ok(())
}
// ANCHOR_END: serve

// ANCHOR: shutdown_signal
/// Completes on the first SIGINT (Ctrl-C) or SIGTERM (what `kill` and
/// orchestrators such as Kubernetes send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
// ANCHOR_END: shutdown_signal
