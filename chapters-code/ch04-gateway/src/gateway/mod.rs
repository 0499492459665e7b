//! The **gateway**: the one door into Bookshop. It matches the public path
//! against the route table, checks the token where the route needs one,
//! picks an instance of the upstream service through discovery, and
//! forwards the request with streaming bodies.

pub mod auth;
pub mod breaker;
pub mod cache;
pub mod proxy;
pub mod ratelimit;
pub mod retry;
pub mod routes;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{ConnectInfo, Request, State};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use ch01_autonomy::health;
use ch01_autonomy::problem::Problem;
use ch01_autonomy::server;
use ch03_registry::discovery::Registry;
use ch03_registry::discovery::cache::Discovery;
use ch03_registry::services::{RegistryFlags, register_until};
use tower_http::cors::CorsLayer;

use self::auth::Verifier;
use self::breaker::{BreakerState, Breakers};
use self::cache::ResponseCache;
use self::proxy::HttpClient;
use self::ratelimit::RateLimiter;
use self::retry::RetryBudget;
use self::routes::{Route, RouteTable};
use ch03_registry::discovery::Instance;
use ch03_registry::discovery::balance::{InFlight, PowerOfTwoChoices};

/// The response header naming the instance that answered: for operators.
pub const UPSTREAM_HEADER: &str = "x-bookshop-upstream";

/// The gateway's defaults, once: the command line and `Limits::default()`
/// (what tests and benches start from) both use these.
pub mod defaults {
    pub const RATE_BURST: u32 = 40;
    pub const RATE_PER_SECOND: f64 = 20.0;
    pub const BODY_LIMIT: u64 = 1024 * 1024;
    pub const BREAKER_THRESHOLD: u32 = 5;
    pub const BREAKER_COOLDOWN_MS: u64 = 10_000;
}

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "gateway", about = "The Bookshop API gateway", version)]
pub struct Config {
    /// Address to listen on; use port 0 to let the OS pick a free port.
    #[arg(long, env = "GATEWAY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// A TOML route table; without it, Bookshop's public API.
    #[arg(long, env = "GATEWAY_ROUTES")]
    pub routes: Option<PathBuf>,

    /// Requests a client may send at once (the token bucket's size).
    #[arg(long, env = "GATEWAY_RATE_BURST", default_value_t = defaults::RATE_BURST)]
    pub rate_burst: u32,

    /// Requests per second a client may sustain.
    #[arg(long, env = "GATEWAY_RATE_PER_SECOND", default_value_t = defaults::RATE_PER_SECOND)]
    pub rate_per_second: f64,

    /// The browser origin allowed to call the API (CORS), e.g. http://localhost:5173.
    #[arg(long, env = "GATEWAY_CORS_ORIGIN")]
    pub cors_origin: Option<String>,

    /// Largest request body forwarded, in bytes (larger ones get 413).
    #[arg(long, env = "GATEWAY_BODY_LIMIT", default_value_t = defaults::BODY_LIMIT)]
    pub body_limit: u64,

    /// Failures in a row that open an instance's circuit breaker.
    #[arg(long, env = "GATEWAY_BREAKER_THRESHOLD", default_value_t = defaults::BREAKER_THRESHOLD)]
    pub breaker_threshold: u32,

    /// Milliseconds an open breaker waits before letting a probe through.
    #[arg(long, env = "GATEWAY_BREAKER_COOLDOWN_MS", default_value_t = defaults::BREAKER_COOLDOWN_MS)]
    pub breaker_cooldown_ms: u64,

    #[command(flatten)]
    pub registry: RegistryFlags,
}

/// The gateway's own settings, apart from routes and registry.
#[derive(Debug, Clone)]
pub struct Limits {
    pub rate_burst: u32,
    pub rate_per_second: f64,
    pub cors_origin: Option<String>,
    pub body_limit: u64,
    pub breaker_threshold: u32,
    pub breaker_cooldown: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            rate_burst: defaults::RATE_BURST,
            rate_per_second: defaults::RATE_PER_SECOND,
            cors_origin: None,
            body_limit: defaults::BODY_LIMIT,
            breaker_threshold: defaults::BREAKER_THRESHOLD,
            breaker_cooldown: Duration::from_millis(defaults::BREAKER_COOLDOWN_MS),
        }
    }
}

#[derive(Debug, Clone)]
struct GatewayState {
    routes: Arc<RouteTable>,
    upstreams: Arc<HashMap<String, Arc<Discovery>>>,
    verifier: Arc<Verifier>,
    limiter: Arc<RateLimiter>,
    /// Routes with a rate limit of their own, by prefix.
    route_limiters: Arc<HashMap<String, RateLimiter>>,
    breakers: Arc<Breakers>,
    retry_budget: Arc<RetryBudget>,
    balancer: PowerOfTwoChoices,
    cache: ResponseCache,
    body_limit: u64,
    client: HttpClient,
}

/// A gateway, ready to serve.
#[derive(Debug, Clone)]
pub struct Gateway {
    state: GatewayState,
    cors_origin: Option<String>,
}

impl Gateway {
    /// Starts discovery for every service the routes name, and identity.
    pub fn new<R: Registry>(routes: RouteTable, registry: Arc<R>, limits: Limits) -> Self {
        let mut names = routes.services();
        names.push("identity".to_owned());
        let upstreams: HashMap<String, Arc<Discovery>> = names
            .into_iter()
            .map(|name| {
                let discovery = Arc::new(Discovery::start(registry.clone(), &name));
                (name, discovery)
            })
            .collect();
        let identity = upstreams.get("identity").cloned().map_or_else(
            || Arc::new(String::new()) as Arc<dyn ch02_communication::catalog_client::Locate>,
            |d| d as Arc<dyn ch02_communication::catalog_client::Locate>,
        );
        let route_limiters: HashMap<String, RateLimiter> = routes
            .routes
            .iter()
            .filter_map(|r| Some((r.prefix.clone(), r.rate_limit?)))
            .map(|(prefix, limit)| (prefix, RateLimiter::new(limit.burst, limit.per_second)))
            .collect();
        Self {
            state: GatewayState {
                routes: Arc::new(routes),
                upstreams: Arc::new(upstreams),
                verifier: Arc::new(Verifier::new(identity)),
                limiter: Arc::new(RateLimiter::new(limits.rate_burst, limits.rate_per_second)),
                route_limiters: Arc::new(route_limiters),
                breakers: Arc::new(Breakers::new(
                    limits.breaker_threshold,
                    limits.breaker_cooldown,
                )),
                retry_budget: Arc::new(RetryBudget::new(0.2, 100.0)),
                balancer: PowerOfTwoChoices::default(),
                cache: ResponseCache::new(),
                body_limit: limits.body_limit,
                client: proxy::client(),
            },
            cors_origin: limits.cors_origin,
        }
    }

    // ANCHOR: router
    pub fn router(&self) -> Router {
        let routes = Router::new()
            .route("/api/{*rest}", any(proxy_request))
            .route("/gateway/routes", get(list_routes))
            .route("/gateway/breakers", get(list_breakers))
            .route("/health/live", get(health::live))
            .route("/health/ready", get(health::live))
            .with_state(self.state.clone());
        let router = server::with_common_layers(routes, 64 * 1024);
        match self
            .cors_origin
            .as_deref()
            .and_then(|o| HeaderValue::from_str(o).ok())
        {
            Some(origin) => router.layer(cors(origin)),
            None => router,
        }
    }
    // ANCHOR_END: router
}

// ANCHOR: proxy_request
// ANCHOR: proxy_checks
async fn proxy_request(
    State(state): State<GatewayState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let Some(target) = state.routes.resolve(&path, query.as_deref()) else {
        return Problem::not_found(format!("no route for {path}")).into_response();
    };
    if !RouteTable::allows(target.route, request.method().as_str()) {
        let allowed = target.route.methods.clone().unwrap_or_default().join(", ");
        let problem = Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{path} takes only {allowed} through the gateway"),
        );
        return match HeaderValue::from_str(&allowed) {
            Ok(allow) => ([(header::ALLOW, allow)], problem).into_response(),
            Err(_) => problem.into_response(),
        };
    }
    if let Some(length) = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && length > state.body_limit
    {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body is {length} bytes; this gateway forwards at most {}",
                state.body_limit
            ),
        )
        .into_response();
    }
    // ANCHOR_END: proxy_checks
    // ANCHOR: proxy_auth
    // Chunked bodies have no Content-Length: count them as they stream.
    let limit = usize::try_from(state.body_limit).unwrap_or(usize::MAX);
    let request =
        request.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    let user = if target.route.auth {
        match state
            .verifier
            .verify(request.headers().get("authorization"))
            .await
        {
            Ok(user) => Some(user),
            Err(err) => {
                return (
                    StatusCode::UNAUTHORIZED,
                    [auth::challenge()],
                    Problem::from(err),
                )
                    .into_response();
            }
        }
    } else {
        None
    };
    // By verified user on protected routes, by address elsewhere.
    let client_key = user.clone().unwrap_or_else(|| peer.ip().to_string());
    let limiter = state
        .route_limiters
        .get(&target.route.prefix)
        .unwrap_or(&state.limiter);
    if let Err(wait) = limiter.check(&client_key, Instant::now()) {
        let seconds = u32::try_from(wait.as_secs() + 1).unwrap_or(u32::MAX);
        return Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "slow down: this client sent too many requests",
        )
        .with_retry_after(seconds)
        .into_response();
    }
    // ANCHOR_END: proxy_auth
    // ANCHOR: proxy_cache
    // Shared answers only: anonymous GETs on routes that allow caching.
    let cache = match target.route.cache_ttl_secs {
        Some(ttl)
            if request.method() == Method::GET
                && !target.route.auth
                && !request.headers().contains_key(header::AUTHORIZATION) =>
        {
            Some((
                format!("{} {}", target.route.service, target.path_and_query),
                Duration::from_secs(ttl),
            ))
        }
        _ => None,
    };
    if let Some((key, _)) = &cache
        && let Some(hit) = state.cache.get(key).await
    {
        return hit;
    }
    let upstream_timeout = target
        .route
        .timeout_ms
        .map_or(proxy::UPSTREAM_TIMEOUT, Duration::from_millis);
    let Some(discovery) = state.upstreams.get(&target.route.service) else {
        return no_instance(&target.route.service);
    };
    state.retry_budget.deposit();
    // Only requests without a body and without side effects are retried.
    let replay = matches!(*request.method(), Method::GET | Method::HEAD).then(|| {
        (
            request.method().clone(),
            request.uri().clone(),
            request.headers().clone(),
        )
    });
    // ANCHOR_END: proxy_cache
    // ANCHOR: proxy_attempt
    let mut first = Some(request);
    let mut tried: Vec<String> = Vec::new();
    // The answer of the last failed attempt: what the client gets if no
    // other instance is left to retry on.
    let mut last_failure: Option<Response> = None;
    loop {
        let candidates: Vec<Instance> = discovery
            .instances()
            .into_iter()
            .filter(|i| !tried.contains(&i.instance_id))
            .collect();
        let Some((instance, _in_flight)) = pick(&state, &candidates) else {
            return last_failure.unwrap_or_else(|| no_instance(&target.route.service));
        };
        tried.push(instance.instance_id.clone());
        let request = match (first.take(), &replay) {
            (Some(request), _) => request,
            (None, Some((method, uri, headers))) => rebuild(method, uri, headers),
            (None, None) => return Problem::internal().into_response(),
        };
        let result = proxy::forward(
            &state.client,
            &instance.address,
            &target.path_and_query,
            request,
            peer,
            user.as_deref(),
            upstream_timeout,
        )
        .await;
        // ANCHOR_END: proxy_attempt
        // ANCHOR: proxy_outcome
        let failed = result
            .as_ref()
            .map_or(true, |r| r.status().is_server_error());
        if failed {
            state
                .breakers
                .failure(&instance.instance_id, Instant::now());
            if replay.is_some() && state.retry_budget.try_withdraw() {
                tracing::info!(instance = %instance.instance_id, "retrying on another instance");
                last_failure = Some(result.unwrap_or_else(IntoResponse::into_response));
                continue;
            }
        } else {
            state.breakers.success(&instance.instance_id);
        }
        return match result {
            Ok(mut response) => {
                if let Ok(id) = HeaderValue::from_str(&instance.instance_id) {
                    response.headers_mut().insert(UPSTREAM_HEADER, id);
                }
                match cache {
                    Some((key, ttl)) => state.cache.store(key, ttl, response).await,
                    None => response,
                }
            }
            Err(problem) => problem.into_response(),
        };
        // ANCHOR_END: proxy_outcome
    }
}

/// The idler of two instances whose breakers let requests through.
fn pick(state: &GatewayState, candidates: &[Instance]) -> Option<(Instance, InFlight)> {
    let now = Instant::now();
    let mut open: Vec<Instance> = candidates
        .iter()
        .filter(|i| state.breakers.available(&i.instance_id, now))
        .cloned()
        .collect();
    // Losing the race to be a half-open probe is no reason to give up:
    // try the others.
    while let Some((instance, in_flight)) = state.balancer.pick(&open) {
        if state.breakers.try_acquire(&instance.instance_id, now) {
            return Some((instance, in_flight));
        }
        open.retain(|i| i.instance_id != instance.instance_id);
    }
    None
}

fn rebuild(method: &Method, uri: &axum::http::Uri, headers: &axum::http::HeaderMap) -> Request {
    let mut request = Request::new(axum::body::Body::empty());
    *request.method_mut() = method.clone();
    *request.uri_mut() = uri.clone();
    *request.headers_mut() = headers.clone();
    request
}

fn no_instance(service: &str) -> Response {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("no instance of {service} can serve right now"),
    )
    .with_retry_after(1)
    .into_response()
}
// ANCHOR_END: proxy_request

/// Browsers on `origin` may call the API, with a token, for 10 minutes
/// per preflight.
fn cors(origin: HeaderValue) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(origin)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("idempotency-key"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

async fn list_breakers(State(state): State<GatewayState>) -> Json<HashMap<String, BreakerState>> {
    Json(state.breakers.snapshot())
}

async fn list_routes(State(state): State<GatewayState>) -> Json<Vec<Route>> {
    Json(state.routes.routes.clone())
}

/// Runs a gateway process until `shutdown` completes.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let routes = match &config.routes {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            RouteTable::parse(&text)?
        }
        None => RouteTable::parse(routes::DEFAULT_ROUTES)?,
    };
    let listener = server::bind(config.listen, "GATEWAY_LISTEN").await?;
    let bound = listener.local_addr()?;
    let registry = config.registry.client()?;
    let limits = Limits {
        rate_burst: config.rate_burst,
        rate_per_second: config.rate_per_second,
        cors_origin: config.cors_origin.clone(),
        body_limit: config.body_limit,
        breaker_threshold: config.breaker_threshold,
        breaker_cooldown: Duration::from_millis(config.breaker_cooldown_ms),
    };
    let gateway = Gateway::new(routes, registry.clone(), limits);
    let shutdown = register_until(
        registry,
        config.registry.registration("gateway", bound),
        shutdown,
    );
    server::serve(listener, gateway.router(), shutdown).await?;
    Ok(())
}
