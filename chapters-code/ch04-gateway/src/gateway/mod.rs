//! The **gateway**: the one door into Bookshop. A request meets a stack
//! of layers, one job each, in this order: the edge (body limit), the
//! route, a rate limit per address, authentication, a rate limit per
//! client, the cache, retries, and forwarding to an instance picked
//! through discovery and its circuit breaker. [`Gateway::router`] is the
//! whole stack; each job is a module of its own.

pub mod auth;
pub mod breaker;
pub mod cache;
pub mod edge;
pub mod forward;
pub mod proxy;
pub mod ratelimit;
pub mod retry;
pub mod routes;
pub mod session;
pub mod upstreams;
pub mod verified;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use axum::{Json, Router};
use ch01_autonomy::health;
use ch01_autonomy::problem::Problem;
use ch01_autonomy::server;
use ch02_communication::catalog_client::Locate;
use ch03_registry::discovery::Registry;
use ch03_registry::services::{RegistryFlags, register_until};
use tower::ServiceBuilder;
use tower_http::cors::CorsLayer;

use self::auth::{Verifier, authenticate};
use self::breaker::{BreakerState, Breakers};
use self::cache::{ResponseCache, serve_from_cache};
use self::edge::{BodyLimit, limit_body};
pub use self::forward::UPSTREAM_HEADER;
use self::forward::{Forwarder, forward};
use self::ratelimit::{Limiters, limit_by_address, limit_by_client};
use self::retry::{RetryBudget, retry_idempotent};
use self::routes::{RateLimit, Route, RouteTable, resolve};
use self::upstreams::Upstreams;

/// The gateway's defaults, once: the command line and `Limits::default()`
/// (what tests and benches start from) both use these.
pub mod defaults {
    pub const RATE_BURST: u32 = 40;
    pub const RATE_PER_SECOND: f64 = 20.0;
    pub const USERS_PER_ADDRESS: u32 = 5;
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

    /// How many clients' worth of requests one address may send, counted
    /// before any token is verified (users behind one NAT share it).
    #[arg(long, env = "GATEWAY_USERS_PER_ADDRESS", default_value_t = defaults::USERS_PER_ADDRESS)]
    pub users_per_address: u32,

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
    pub users_per_address: u32,
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
            users_per_address: defaults::USERS_PER_ADDRESS,
            cors_origin: None,
            body_limit: defaults::BODY_LIMIT,
            breaker_threshold: defaults::BREAKER_THRESHOLD,
            breaker_cooldown: Duration::from_millis(defaults::BREAKER_COOLDOWN_MS),
        }
    }
}

/// A gateway, ready to serve: what each layer of the stack holds.
#[derive(Debug, Clone)]
pub struct Gateway {
    body_limit: BodyLimit,
    routes: Arc<RouteTable>,
    limiters: Arc<Limiters>,
    verifier: Arc<Verifier>,
    cache: Arc<ResponseCache>,
    retry_budget: Arc<RetryBudget>,
    forwarder: Arc<Forwarder>,
    cors_origin: Option<String>,
}

impl Gateway {
    /// Starts discovery for every service the routes name, and identity.
    pub fn new<R: Registry>(routes: RouteTable, registry: Arc<R>, limits: Limits) -> Self {
        let mut services = routes.services();
        services.push("identity".to_owned());
        let breakers = Breakers::new(limits.breaker_threshold, limits.breaker_cooldown);
        let upstreams = Arc::new(Upstreams::start(&registry, services, breakers));
        let identity: Arc<dyn Locate> = match upstreams.discovery("identity") {
            Some(discovery) => discovery,
            None => Arc::new(String::new()),
        };
        let client_limit = RateLimit {
            burst: limits.rate_burst,
            per_second: limits.rate_per_second,
        };
        Self {
            body_limit: BodyLimit(limits.body_limit),
            limiters: Arc::new(Limiters::new(
                client_limit,
                limits.users_per_address,
                &routes,
            )),
            routes: Arc::new(routes),
            verifier: Arc::new(Verifier::new(identity)),
            cache: Arc::new(ResponseCache::new()),
            retry_budget: Arc::new(RetryBudget::new(0.2, 100.0)),
            forwarder: Arc::new(Forwarder {
                upstreams,
                client: proxy::client(),
            }),
            cors_origin: limits.cors_origin,
        }
    }

    // ANCHOR: router
    /// The stack, outermost first: a request meets the layers top to
    /// bottom, and `forward` last; each may answer instead of going on.
    pub fn router(&self) -> Router {
        let Gateway {
            body_limit,
            routes,
            limiters,
            verifier,
            cache,
            retry_budget,
            forwarder,
            ..
        } = self.clone();
        let entrances = routes.entrances();
        let stack = ServiceBuilder::new()
            .layer(from_fn_with_state(body_limit, limit_body)) // edge.rs
            .layer(from_fn_with_state(routes, resolve)) // routes.rs
            .layer(from_fn_with_state(limiters.clone(), limit_by_address)) // ratelimit.rs
            .layer(from_fn_with_state(verifier, authenticate)) // auth.rs
            .layer(from_fn_with_state(limiters, limit_by_client)) // ratelimit.rs
            .layer(from_fn_with_state(cache, serve_from_cache)) // cache.rs
            .layer(from_fn_with_state(retry_budget, retry_idempotent)) // retry.rs
            .service(forward.with_state(forwarder)); // forward.rs
        let mut api = Router::new().route_service("/api/{*rest}", stack.clone());
        // Prefixes outside /api (chapter 9's /shop) take the same path.
        for entrance in entrances {
            let below = format!("{entrance}/{{*rest}}");
            api = api
                .route_service(&entrance, stack.clone())
                .route_service(&below, stack.clone());
        }
        self.around(api)
    }
    // ANCHOR_END: router

    /// Chapter 1's common layers and CORS around `api`, beside the pages
    /// for operators and the health checks.
    fn around(&self, api: Router) -> Router {
        let operators = Router::new()
            .route("/gateway/routes", get(list_routes))
            .with_state(self.routes.clone())
            .route("/gateway/breakers", get(list_breakers))
            .route("/health/ready", get(ready))
            .with_state(self.forwarder.clone())
            .route("/health/live", get(health::live));
        let router = server::with_common_layers(api.merge(operators), 64 * 1024);
        match self.cors_origin.as_deref().map(HeaderValue::from_str) {
            Some(Ok(origin)) => router.layer(cors(origin)),
            _ => router,
        }
    }
}

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

async fn list_breakers(
    State(forwarder): State<Arc<Forwarder>>,
) -> Json<HashMap<String, BreakerState>> {
    Json(forwarder.upstreams.breakers())
}

// ANCHOR: ready
/// Ready once the registry has answered: before that the gateway cannot
/// tell where any request should go. Afterwards it keeps its last known
/// instances when the registry is away, and stays ready.
async fn ready(State(forwarder): State<Arc<Forwarder>>) -> Result<Json<health::Health>, Problem> {
    let answered = forwarder.upstreams.registry_has_answered();
    health::ready_if(
        async {
            if answered {
                Ok(())
            } else {
                Err("no answer yet")
            }
        },
        "the registry",
    )
    .await
}
// ANCHOR_END: ready

async fn list_routes(State(routes): State<Arc<RouteTable>>) -> Json<Vec<Route>> {
    Json(routes.listing())
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
    let registry = config.registry.client().await?;
    let limits = Limits {
        rate_burst: config.rate_burst,
        rate_per_second: config.rate_per_second,
        users_per_address: config.users_per_address,
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
