//! The route table: which public path goes to which service, and with
//! which rules. Read from TOML, so operators change routes without a build.
//! Its layer, [`resolve`], is the first decision a request meets.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ch01_autonomy::problem::Problem;
use serde::{Deserialize, Serialize};

// ANCHOR: route
/// One entry of the route table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// The public path prefix, e.g. `/api/catalog`.
    pub prefix: String,
    /// The service to send it to, as registered in the registry.
    pub service: String,
    /// What replaces `prefix` upstream, e.g. `/v1`.
    pub rewrite: String,
    /// Whether the request needs a valid access token.
    #[serde(default)]
    pub auth: bool,
    /// A cookie that may carry the token (chapter 9's pages): verified when
    /// present, never forwarded; without a valid one, the caller is anonymous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_cookie: Option<String>,
    /// Seconds a GET answer may be served from the gateway's cache
    /// (never on `auth` or `session_cookie` routes; `Cache-Control` may shorten or forbid it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_ttl_secs: Option<u64>,
    /// This route's own rate limit per client, instead of the gateway's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// How long the upstream may take to start answering (default 30 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// The only methods forwarded (others get 405); all when absent. The
    /// catalog is read-only from outside: adding books is for operators,
    /// on the private side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
}

/// A token bucket's size and refill rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    pub burst: u32,
    pub per_second: f64,
}
// ANCHOR_END: route

#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    pub routes: Vec<Arc<Route>>,
}

/// The file's shape: `[[route]]` tables.
#[derive(Deserialize)]
struct RouteFile {
    route: Vec<Route>,
}

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("cannot read the route table: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("route {0:?}: prefixes start with '/' and do not end with one")]
    BadPrefix(String),
    #[error("route {0:?}: /gateway, /health and /metrics are the gateway's own")]
    Reserved(String),
}

/// Where a request goes: the route and the upstream path (with query).
#[derive(Debug, Clone, PartialEq)]
pub struct Target<'a> {
    pub route: &'a Arc<Route>,
    pub path_and_query: String,
}

/// First path segments the gateway answers itself.
const RESERVED: [&str; 3] = ["gateway", "health", "metrics"];

/// `shop` for `/shop/books`.
fn first_segment(prefix: &str) -> &str {
    prefix
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
}

/// Bookshop's public API, as DESIGN lists it, and the storefront's pages.
pub const DEFAULT_ROUTES: &str = r#"
[[route]]
prefix = "/api/identity"
service = "identity"
rewrite = "/v1"

[[route]]
prefix = "/api/catalog"
service = "catalog"
rewrite = "/v1"
cache_ttl_secs = 30
methods = ["GET", "HEAD"]

[[route]]
prefix = "/api/orders"
service = "orders"
rewrite = "/v1/orders"
auth = true

[[route]]
prefix = "/api/notifications"
service = "notifications"
rewrite = "/v1/notifications"
auth = true

# ANCHOR: shop_route
# Chapter 9's pages: anyone may browse; a signed-in browser's token rides
# in the session cookie, which the gateway verifies and keeps.
[[route]]
prefix = "/shop"
service = "storefront"
rewrite = "/shop"
methods = ["GET", "HEAD", "POST"]
session_cookie = "bookshop_session"
# ANCHOR_END: shop_route
"#;

impl RouteTable {
    pub fn parse(text: &str) -> Result<Self, RouteError> {
        let file: RouteFile = toml::from_str(text)?;
        if let Some(bad) = file
            .route
            .iter()
            .find(|r| !r.prefix.starts_with('/') || r.prefix.ends_with('/'))
        {
            return Err(RouteError::BadPrefix(bad.prefix.clone()));
        }
        if let Some(taken) = file
            .route
            .iter()
            .find(|r| RESERVED.contains(&first_segment(&r.prefix)))
        {
            return Err(RouteError::Reserved(taken.prefix.clone()));
        }
        Ok(Self {
            routes: file.route.into_iter().map(Arc::new).collect(),
        })
    }

    // ANCHOR: resolve
    /// The longest prefix that matches `path` on a segment boundary:
    /// `/api/orders` matches `/api/orders` and `/api/orders/7`, never
    /// `/api/ordersXYZ`.
    pub fn resolve(&self, path: &str, query: Option<&str>) -> Option<Target<'_>> {
        let route = self
            .routes
            .iter()
            .filter(|r| {
                path == r.prefix
                    || path
                        .strip_prefix(&r.prefix)
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .max_by_key(|r| r.prefix.len())?;
        let rest = &path[route.prefix.len()..];
        let mut path_and_query = format!("{}{rest}", route.rewrite);
        if let Some(query) = query {
            path_and_query.push('?');
            path_and_query.push_str(query);
        }
        Some(Target {
            route,
            path_and_query,
        })
    }
    // ANCHOR_END: resolve

    /// Whether `route` forwards `method`.
    pub fn allows(route: &Route, method: &str) -> bool {
        route
            .methods
            .as_ref()
            .is_none_or(|methods| methods.iter().any(|m| m.eq_ignore_ascii_case(method)))
    }

    /// The route table as operators wrote it (`GET /gateway/routes`).
    pub fn listing(&self) -> Vec<Route> {
        self.routes
            .iter()
            .map(|route| Route::clone(route))
            .collect()
    }

    /// The first segment of every prefix outside `/api`, each once (`/shop`
    /// for `/shop` and `/shop/admin`): the gateway serves those paths too.
    pub fn entrances(&self) -> Vec<String> {
        let mut entrances: Vec<String> = self
            .routes
            .iter()
            .map(|r| format!("/{}", first_segment(&r.prefix)))
            .filter(|entrance| entrance != "/api")
            .collect();
        entrances.sort();
        entrances.dedup();
        entrances
    }

    /// The services the routes name, each once.
    pub fn services(&self) -> Vec<String> {
        let mut services: Vec<String> = self.routes.iter().map(|r| r.service.clone()).collect();
        services.sort();
        services.dedup();
        services
    }
}

// ANCHOR: layer
/// The route a request matched, for the layers after [`resolve`].
#[derive(Debug, Clone)]
pub struct Resolved(pub Arc<Route>);

/// Finds the request's route and rewrites its path to the upstream's
/// (`/api/catalog/books?q=rust` becomes `/v1/books?q=rust`). A path no
/// route matches is a 404, a method the route does not take a 405.
pub async fn resolve(
    State(table): State<Arc<RouteTable>>,
    mut request: Request,
    next: Next,
) -> Response {
    let uri = request.uri();
    let Some(target) = table.resolve(uri.path(), uri.query()) else {
        let path = uri.path();
        return Problem::not_found(format!("no route for {path}")).into_response();
    };
    if !RouteTable::allows(target.route, request.method().as_str()) {
        return method_not_allowed(uri, target.route);
    }
    let route = target.route.clone();
    let Ok(upstream_uri) = Uri::try_from(target.path_and_query) else {
        return Problem::internal().into_response();
    };
    *request.uri_mut() = upstream_uri;
    request.extensions_mut().insert(Resolved(route));
    next.run(request).await
}
// ANCHOR_END: layer

/// A layer below [`resolve`] takes the route as an argument: `Resolved(route): Resolved`.
impl<S: Send + Sync> FromRequestParts<S> for Resolved {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Resolved>().cloned().ok_or_else(|| {
            // A mistake in the stack's order, not the client's.
            tracing::error!("a gateway layer runs before the route is resolved");
            Problem::internal().into_response()
        })
    }
}

fn method_not_allowed(uri: &Uri, route: &Route) -> Response {
    let allowed = route.methods.clone().unwrap_or_default().join(", ");
    let problem = Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} takes only {allowed} through the gateway", uri.path()),
    );
    match HeaderValue::from_str(&allowed) {
        Ok(allow) => ([(header::ALLOW, allow)], problem).into_response(),
        Err(_) => problem.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_outside_api_are_entrances_and_the_gateways_own_are_refused() {
        let table = RouteTable::parse(DEFAULT_ROUTES).unwrap();
        assert_eq!(table.entrances(), ["/shop"]);
        let shop = table.resolve("/shop/books/1", None).unwrap();
        assert_eq!(shop.route.service, "storefront");
        assert_eq!(shop.path_and_query, "/shop/books/1");
        assert_eq!(
            shop.route.session_cookie.as_deref(),
            Some("bookshop_session")
        );
        for own in ["/health", "/gateway/x", "/metrics"] {
            let route =
                format!("[[route]]\nprefix = \"{own}\"\nservice = \"x\"\nrewrite = \"/\"\n");
            assert!(
                matches!(RouteTable::parse(&route), Err(RouteError::Reserved(_))),
                "{own}"
            );
        }
    }

    #[test]
    fn public_paths_map_to_versioned_upstream_paths() {
        let table = RouteTable::parse(DEFAULT_ROUTES).unwrap();
        let target = table.resolve("/api/catalog/books", Some("q=rust")).unwrap();
        assert_eq!(
            (
                target.route.service.as_str(),
                target.path_and_query.as_str()
            ),
            ("catalog", "/v1/books?q=rust")
        );
        let target = table.resolve("/api/orders/7", None).unwrap();
        assert_eq!(target.path_and_query, "/v1/orders/7");
        assert!(target.route.auth);
        assert_eq!(
            table.resolve("/api/orders", None).unwrap().path_and_query,
            "/v1/orders"
        );
        assert!(table.resolve("/api/ordersXYZ", None).is_none());
        let catalog = table.resolve("/api/catalog/books", None).unwrap().route;
        assert!(RouteTable::allows(catalog, "GET") && !RouteTable::allows(catalog, "POST"));
        let target = table
            .resolve("/api/notifications", Some("order_id=7"))
            .unwrap();
        assert_eq!(
            (
                target.route.service.as_str(),
                target.path_and_query.as_str(),
                target.route.auth
            ),
            ("notifications", "/v1/notifications?order_id=7", true)
        );
        assert!(table.resolve("/elsewhere", None).is_none());
    }

    #[test]
    fn a_bad_prefix_is_refused() {
        let text = "[[route]]\nprefix = \"api/\"\nservice = \"x\"\nrewrite = \"/\"\n";
        assert!(matches!(
            RouteTable::parse(text),
            Err(RouteError::BadPrefix(_))
        ));
    }
}
