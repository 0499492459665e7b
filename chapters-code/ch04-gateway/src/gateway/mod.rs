//! The **gateway**: the one door into Bookshop. It matches the public path
//! against the route table, checks the token where the route needs one,
//! picks an instance of the upstream service through discovery, and
//! forwards the request with streaming bodies.

pub mod auth;
pub mod proxy;
pub mod routes;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use ch01_autonomy::health;
use ch01_autonomy::problem::Problem;
use ch01_autonomy::server;
use ch03_registry::discovery::Registry;
use ch03_registry::discovery::cache::Discovery;
use ch03_registry::services::{RegistryFlags, register_until};

use self::auth::Verifier;
use self::proxy::HttpClient;
use self::routes::{Route, RouteTable};

/// The response header naming the instance that answered: for operators.
pub const UPSTREAM_HEADER: &str = "x-bookshop-upstream";

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "gateway", about = "The Bookshop API gateway", version)]
pub struct Config {
    /// Address to listen on; use port 0 to let the OS pick a free port.
    #[arg(long, env = "GATEWAY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// A TOML route table; without it, Bookshop's public API.
    #[arg(long, env = "GATEWAY_ROUTES")]
    pub routes: Option<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryFlags,
}

#[derive(Debug, Clone)]
struct GatewayState {
    routes: Arc<RouteTable>,
    upstreams: Arc<HashMap<String, Arc<Discovery>>>,
    verifier: Arc<Verifier>,
    client: HttpClient,
}

/// A gateway, ready to serve.
#[derive(Debug, Clone)]
pub struct Gateway {
    state: GatewayState,
}

impl Gateway {
    /// Starts discovery for every service the routes name, and identity.
    pub fn new<R: Registry>(routes: RouteTable, registry: Arc<R>) -> Self {
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
        Self {
            state: GatewayState {
                routes: Arc::new(routes),
                upstreams: Arc::new(upstreams),
                verifier: Arc::new(Verifier::new(identity)),
                client: proxy::client(),
            },
        }
    }

    // ANCHOR: router
    pub fn router(&self) -> Router {
        let routes = Router::new()
            .route("/api/{*rest}", any(proxy_request))
            .route("/gateway/routes", get(list_routes))
            .route("/health/live", get(health::live))
            .route("/health/ready", get(health::live))
            .with_state(self.state.clone());
        server::with_common_layers(routes, 64 * 1024)
    }
    // ANCHOR_END: router
}

// ANCHOR: proxy_request
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
    let Some((instance, _in_flight)) = state
        .upstreams
        .get(&target.route.service)
        .and_then(|d| d.two_choices())
    else {
        return Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("no instance of {} is registered", target.route.service),
        )
        .with_retry_after(1)
        .into_response();
    };
    match proxy::forward(
        &state.client,
        &instance.address,
        &target.path_and_query,
        request,
        peer,
        user.as_deref(),
    )
    .await
    {
        Ok(mut response) => {
            if let Ok(id) = HeaderValue::from_str(&instance.instance_id) {
                response.headers_mut().insert(UPSTREAM_HEADER, id);
            }
            response
        }
        Err(problem) => problem.into_response(),
    }
}
// ANCHOR_END: proxy_request

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
    let listener = server::bind(config.listen).await.map_err(|err| {
        anyhow::anyhow!("{err} (set another address with --listen or GATEWAY_LISTEN)")
    })?;
    let bound = listener.local_addr()?;
    let registry = config.registry.client()?;
    let gateway = Gateway::new(routes, registry.clone());
    let shutdown = register_until(
        registry,
        config.registry.registration("gateway", bound),
        shutdown,
    );
    server::serve(listener, gateway.router(), shutdown).await?;
    Ok(())
}
