//! The gateway in front of real services: a registry, two catalogs,
//! orders, identity, and a small echo service that shows what upstreams
//! receive. Everything runs on 127.0.0.1:0.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::any;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ch01_autonomy::{catalog, server};
use ch02_communication::catalog_client::{ClientConfig, Protocol};
use ch02_communication::orders;
use ch03_registry::discovery::http::HttpRegistry;
use ch03_registry::discovery::{Registration, Registry};
use ch04_gateway::gateway::routes::{DEFAULT_ROUTES, RouteTable};
use ch04_gateway::gateway::{Gateway, Limits, UPSTREAM_HEADER};
use ch04_gateway::identity::tokens::{AUDIENCE, Claims, ISSUER, Signer};
use ch04_gateway::identity::{self, model::TokenResponse};
use serde_json::{Value, json};
use testkit::{TempDb, TestServer};

const TOKEN: &str = "gateway-test-token";
const DEMO_PASSWORD: &str = "demo-password-for-tests";
const BROWSER_ORIGIN: &str = "http://localhost:5173";

struct World {
    gateway: TestServer,
    registry: Arc<HttpRegistry>,
    identity_signer: Signer,
    servers: Vec<TestServer>,
    _dbs: Vec<TempDb>,
    _registry: ch03_registry::registry::App,
}

async fn serve(router: Router) -> TestServer {
    TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await
}

async fn register(registry: &HttpRegistry, service: &str, id: &str, addr: SocketAddr) {
    registry
        .register(&Registration {
            service: service.to_owned(),
            instance_id: id.to_owned(),
            address: format!("http://{addr}"),
            metadata: BTreeMap::new(),
            ttl: Duration::from_secs(60),
        })
        .await
        .unwrap();
}

/// Counts its calls; `/private` answers are marked `Cache-Control: private`.
fn counter_router() -> Router {
    use std::sync::atomic::{AtomicU64, Ordering};
    let calls = Arc::new(AtomicU64::new(0));
    Router::new().route(
        "/{kind}",
        axum::routing::get(
            move |axum::extract::Path(kind): axum::extract::Path<String>| {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    let cache_control = if kind == "private" {
                        "private, max-age=60"
                    } else {
                        "public, max-age=60"
                    };
                    (
                        [("cache-control", cache_control)],
                        axum::Json(json!({ "n": n })),
                    )
                }
            },
        ),
    )
}

/// Answers with the headers it received.
async fn echo(headers: HeaderMap) -> axum::Json<Value> {
    let seen: BTreeMap<String, String> = headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("").to_owned()))
        .collect();
    axum::Json(json!(seen))
}

/// Generous limits, so that only the rate-limit test meets them.
async fn world() -> World {
    world_with(Limits {
        rate_burst: 1000,
        rate_per_second: 1000.0,
        users_per_address: 5,
        cors_origin: Some(BROWSER_ORIGIN.to_owned()),
        body_limit: 4096,
        breaker_threshold: 3,
        breaker_cooldown: Duration::from_millis(300),
    })
    .await
}

async fn world_with(limits: Limits) -> World {
    let registry_app = ch03_registry::registry::App::new(TOKEN);
    let registry_server = serve(registry_app.router()).await;
    let registry = Arc::new(HttpRegistry::new(registry_server.base_url(), TOKEN).unwrap());
    let mut servers = Vec::new();
    let mut dbs = Vec::new();

    for id in ["catalog-a", "catalog-b"] {
        let db = TempDb::new();
        let app = catalog::App::open(&db.url()).await.unwrap();
        let server = serve(app.into_router()).await;
        register(&registry, "catalog", id, server.addr()).await;
        servers.push(server);
        dbs.push(db);
    }

    let orders_db = TempDb::new();
    let catalog_url = servers[0].base_url().to_owned();
    let client = ClientConfig {
        base_url: catalog_url,
        protocol: Protocol::Http,
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_secs(2),
    };
    let orders_server = serve(
        orders::App::open(&orders_db.url(), &client)
            .await
            .unwrap()
            // Chapter 4's orders: chapter 2's, deciding per caller.
            .into_router_with(ch04_gateway::orders::router),
    )
    .await;
    register(&registry, "orders", "orders-1", orders_server.addr()).await;
    servers.push(orders_server);
    dbs.push(orders_db);

    let identity_db = TempDb::new();
    let identity_app = identity::App::open(&identity::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: identity_db.url(),
        token_ttl_minutes: 15,
        demo_password: DEMO_PASSWORD.to_owned(),
        signing_key_file: None,
    })
    .await
    .unwrap();
    let identity_signer = identity_app.signer().clone();
    let identity_server = serve(identity_app.into_router()).await;
    register(&registry, "identity", "identity-1", identity_server.addr()).await;
    servers.push(identity_server);
    dbs.push(identity_db);

    let echo_server = serve(Router::new().route("/{*rest}", any(echo))).await;
    let sleepy_server = serve(Router::new().route(
        "/{*rest}",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            "late"
        }),
    ))
    .await;
    register(&registry, "sleepy", "sleepy-1", sleepy_server.addr()).await;
    servers.push(sleepy_server);
    let counter_server = serve(counter_router()).await;
    register(&registry, "counter", "counter-1", counter_server.addr()).await;
    servers.push(counter_server);
    register(&registry, "echo", "echo-1", echo_server.addr()).await;
    servers.push(echo_server);

    let table = format!(
        "{DEFAULT_ROUTES}\n[[route]]\nprefix = \"/api/echo\"\nservice = \"echo\"\nrewrite = \"/echo\"\nauth = true\n\
         \n[[route]]\nprefix = \"/api/counter\"\nservice = \"counter\"\nrewrite = \"\"\ncache_ttl_secs = 60\n\
         \n[[route]]\nprefix = \"/api/limited\"\nservice = \"counter\"\nrewrite = \"\"\nrate_limit = {{ burst = 2, per_second = 0.5 }}\n\
         \n[[route]]\nprefix = \"/api/sleepy\"\nservice = \"sleepy\"\nrewrite = \"\"\ntimeout_ms = 200\n\
         \n[[route]]\nprefix = \"/pages\"\nservice = \"echo\"\nrewrite = \"/echo\"\nsession_cookie = \"bookshop_session\"\n"
    );

    let registry_client = registry.clone();
    let gateway = Gateway::new(RouteTable::parse(&table).unwrap(), registry, limits);
    let gateway_server = serve(gateway.router()).await;
    // Let discovery fill its caches.
    tokio::time::sleep(Duration::from_millis(300)).await;
    servers.push(registry_server);
    World {
        gateway: gateway_server,
        registry: registry_client,
        identity_signer,
        servers,
        _dbs: dbs,
        _registry: registry_app,
    }
}

async fn demo_token(world: &World) -> String {
    let response = reqwest::Client::new()
        .post(world.gateway.url("/api/identity/token"))
        .json(&json!({"username": "demo", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "a token through the gateway");
    response.json::<TokenResponse>().await.unwrap().access_token
}

/// Signs `username` up through the gateway and returns their token.
async fn new_user_token(world: &World, username: &str) -> String {
    let credentials = json!({"username": username, "password": "a-long-password-1"});
    let http = reqwest::Client::new();
    let signed_up = http
        .post(world.gateway.url("/api/identity/users"))
        .json(&credentials)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), 201, "sign-up through the gateway");
    let token = http
        .post(world.gateway.url("/api/identity/token"))
        .json(&credentials)
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    token.json::<TokenResponse>().await.unwrap().access_token
}

// ANCHOR: balancing
#[tokio::test]
async fn routes_to_the_catalog_and_balances_over_both_instances() {
    let world = world().await;
    let mut answered_by = HashSet::new();
    for _ in 0..30 {
        let response = reqwest::get(world.gateway.url(&uncached("/api/catalog/books/1")))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        answered_by.insert(
            response.headers()[UPSTREAM_HEADER]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(
        answered_by,
        HashSet::from(["catalog-a".to_owned(), "catalog-b".to_owned()])
    );
    let listing: Value = reqwest::get(world.gateway.url("/api/catalog/books?q=rust&limit=2"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listing["total"], 5, "the query string reaches the catalog");
}
// ANCHOR_END: balancing

#[tokio::test]
async fn the_catalog_is_read_only_through_the_gateway() {
    let world = world().await;
    let token = demo_token(&world).await;
    let book = json!({"title": "Mine", "author": "Me", "price_cents": 1});
    let response = reqwest::Client::new()
        .post(world.gateway.url("/api/catalog/books"))
        .bearer_auth(token) // a signed-in user is still not an operator
        .json(&book)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, HEAD");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let world = world().await;
    for path in ["/api/nothing/here", "/api/catalogue/books", "/not-api"] {
        let response = reqwest::get(world.gateway.url(path)).await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
}

// ANCHOR: protected
#[tokio::test]
async fn orders_need_a_token_and_accept_a_valid_one() {
    let world = world().await;
    let order = json!({"customer": "demo", "lines": [{"book_id": 2, "quantity": 1}]});
    let client = reqwest::Client::new();

    let anonymous = client
        .post(world.gateway.url("/api/orders"))
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");

    let token = demo_token(&world).await;
    let placed = client
        .post(world.gateway.url("/api/orders"))
        .bearer_auth(&token)
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), 201);
}
// ANCHOR_END: protected

// ANCHOR: authorization
/// The gateway says who calls; orders decides what that caller may do
/// with its orders. Two users, each refused the other's.
#[tokio::test]
async fn each_user_sees_only_their_own_orders() {
    let world = world().await;
    let http = reqwest::Client::new();
    let demo = demo_token(&world).await;
    let grace = new_user_token(&world, "grace").await;
    let order = json!({"customer": "demo", "lines": [{"book_id": 2, "quantity": 1}]});

    // Placing an order for someone else: 403.
    let for_demo = http
        .post(world.gateway.url("/api/orders"))
        .bearer_auth(&grace)
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_problem(for_demo, 403).await;

    let placed: Value = http
        .post(world.gateway.url("/api/orders"))
        .bearer_auth(&demo)
        .json(&order)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/api/orders/{}", placed["id"]);

    // Someone else's order: 404, the same answer as for no order at all.
    let mine = http.get(world.gateway.url(&path)).bearer_auth(&demo);
    assert_eq!(mine.send().await.unwrap().status(), 200);
    let theirs = http.get(world.gateway.url(&path)).bearer_auth(&grace);
    assert_problem(theirs.send().await.unwrap(), 404).await;
    // ANCHOR_END: authorization

    // A listing shows the caller's orders only, and names no one else.
    let listed: Value = http
        .get(world.gateway.url("/api/orders"))
        .bearer_auth(&grace)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["orders"], json!([]), "grace has no orders");
    let spying = http
        .get(world.gateway.url("/api/orders?customer=demo"))
        .bearer_auth(&grace);
    assert_problem(spying.send().await.unwrap(), 403).await;
    let own: Value = http
        .get(world.gateway.url("/api/orders?customer=demo"))
        .bearer_auth(&demo)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own["orders"][0]["id"], placed["id"]);
}

// ANCHOR: authorization_direct
/// Orders without the gateway in front: no vouched caller is a 401. The
/// header itself is the trust boundary (see `caller.rs`): whoever can
/// reach orders directly can send it, so only the gateway may reach it.
#[tokio::test]
async fn orders_refuses_a_request_without_a_vouched_caller() {
    let world = world().await;
    let orders = world.registry.instances("orders").await.unwrap();
    let base = &orders.instances[0].address;
    let http = reqwest::Client::new();
    let order = json!({"customer": "demo", "lines": [{"book_id": 2, "quantity": 1}]});
    let anonymous = [
        http.post(format!("{base}/v1/orders")).json(&order),
        http.get(format!("{base}/v1/orders/1")),
        http.get(format!("{base}/v1/orders")),
        http.get(format!("{base}/v1/orders"))
            .header("x-bookshop-user", ""),
    ];
    for request in anonymous {
        assert_problem(request.send().await.unwrap(), 401).await;
    }
}
// ANCHOR_END: authorization_direct

async fn assert_problem(response: reqwest::Response, status: u16) {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], status);
}

fn unsigned_token(alg: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "typ": "JWT", "kid": "x"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(
        json!({"sub": "admin", "aud": AUDIENCE, "iss": ISSUER, "exp": 4_000_000_000u64})
            .to_string(),
    );
    format!("{header}.{payload}.")
}

#[tokio::test]
async fn every_bad_token_is_a_401() {
    let world = world().await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expired = world
        .identity_signer
        .sign(&Claims {
            sub: "demo".into(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now - 7200,
            exp: now - 3600,
        })
        .unwrap();
    let wrong_audience = world
        .identity_signer
        .sign(&Claims {
            sub: "demo".into(),
            iss: ISSUER.into(),
            aud: "elsewhere".into(),
            iat: now,
            exp: now + 600,
        })
        .unwrap();
    // ANCHOR: bad_tokens
    let forged = Signer::generate(Duration::from_secs(600))
        .unwrap()
        .issue("admin")
        .unwrap();
    let cases = [
        ("garbage", "not.a.token".to_owned()),
        ("alg none", unsigned_token("none")),
        ("alg HS256", unsigned_token("HS256")),
        ("expired", expired),
        ("wrong audience", wrong_audience),
        ("another key", forged),
    ];
    for (what, token) in cases {
        let response = reqwest::Client::new()
            .get(world.gateway.url("/api/echo/whoami"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{what}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{what}"
        );
    }
    // ANCHOR_END: bad_tokens
}

// ANCHOR: forged_tokens
#[tokio::test]
async fn forged_tokens_are_slowed_down_before_any_signature_check() {
    let world = world_with(Limits {
        rate_burst: 4,
        rate_per_second: 0.1,
        users_per_address: 2,
        ..Limits::default()
    })
    .await;
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let response = http
            .get(world.gateway.url("/api/orders"))
            .bearer_auth("forged.token.value")
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    // One address may send 2 users' worth (2 × 4) before the gateway
    // stops looking at its tokens at all.
    assert_eq!(statuses[..8], [401; 8], "{statuses:?}");
    assert_eq!(statuses[8..], [429; 4], "{statuses:?}");
}
// ANCHOR_END: forged_tokens

// ANCHOR: forwarded_headers
#[tokio::test]
async fn upstreams_see_the_verified_user_and_forwarding_headers_only() {
    let world = world().await;
    let token = demo_token(&world).await;
    let seen: Value = reqwest::Client::new()
        .get(world.gateway.url("/api/echo/whoami?x=1"))
        .bearer_auth(&token)
        .header("x-bookshop-user", "admin") // a spoofing attempt
        .header("connection", "keep-alive, x-drop-me")
        .header("x-drop-me", "hop-by-hop")
        .header("x-request-id", "trace-42")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        seen["x-bookshop-user"], "demo",
        "the gateway's word, not the client's"
    );
    assert_eq!(seen["x-forwarded-for"], "127.0.0.1");
    assert_eq!(seen["x-forwarded-proto"], "http");
    assert_eq!(seen["x-request-id"], "trace-42");
    assert!(
        seen.get("x-drop-me").is_none(),
        "named by Connection: not forwarded"
    );
    assert!(
        seen["x-forwarded-host"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
}
// ANCHOR_END: forwarded_headers

// ANCHOR: session_cookie
#[tokio::test]
async fn a_session_cookie_vouches_for_a_page_and_never_reaches_it() {
    let world = world().await;
    let token = demo_token(&world).await;
    let page = |cookie: String| {
        let request = reqwest::Client::new()
            .get(world.gateway.url("/pages/whoami"))
            .header("x-bookshop-user", "admin") // a spoofing attempt
            .header("cookie", cookie);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "pages are open to anyone");
            response.json::<Value>().await.unwrap()
        }
    };

    let signed_in = page(format!("theme=dark; bookshop_session={token}")).await;
    assert_eq!(signed_in["x-bookshop-user"], "demo", "the cookie's user");
    assert_eq!(
        signed_in["cookie"], "theme=dark",
        "the token stays at the gateway; other cookies pass"
    );

    let forged = page(format!("bookshop_session={}", unsigned_token("none"))).await;
    assert!(
        forged.get("x-bookshop-user").is_none(),
        "a cookie that does not verify: anonymous, not the spoofed header"
    );
    let anonymous = page("theme=dark".to_owned()).await;
    assert!(anonymous.get("x-bookshop-user").is_none());

    // The cookie opens pages only: an API route still wants the header.
    let api = reqwest::Client::new()
        .get(world.gateway.url("/api/echo/whoami"))
        .header("cookie", format!("bookshop_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401);
}
// ANCHOR_END: session_cookie

// ANCHOR: rate_limit
#[tokio::test]
async fn a_client_over_its_rate_gets_429_with_retry_after() {
    let world = world_with(Limits {
        rate_burst: 20,
        rate_per_second: 1.0,
        ..Limits::default()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..25 {
        let response = reqwest::get(world.gateway.url(&uncached("/api/catalog/books/1")))
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json"
            );
        }
    }
    // A burst of 20, refilled at 1 a second: the rest wait.
    assert!(statuses[..20].iter().all(|s| *s == 200), "{statuses:?}");
    assert!(statuses[20..].contains(&429), "{statuses:?}");
}
// ANCHOR_END: rate_limit

#[tokio::test]
async fn a_body_over_the_limit_is_413_before_any_upstream_sees_it() {
    let world = world().await;
    let token = demo_token(&world).await;
    let response = reqwest::Client::new()
        .post(world.gateway.url("/api/orders"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body("x".repeat(10_000))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413_and_no_instance_is_blamed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let world = world().await; // a body limit of 4 096 bytes, breakers open after 3
    let token = demo_token(&world).await;
    // Chunked: no Content-Length for the edge to refuse up front.
    let chunk = "x".repeat(1000);
    let mut request = format!(
        "POST /api/orders HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    for _ in 0..10 {
        request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    request.push_str("0\r\n\r\n");
    for _ in 0..3 {
        let mut stream = tokio::net::TcpStream::connect(world.gateway.addr())
            .await
            .unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("application/problem+json"), "{answer}");
    }
    assert_eq!(
        breaker_state(&world, "orders-1").await.as_deref(),
        Some("closed"),
        "three oversized bodies are not three failures of orders"
    );
}

#[tokio::test]
async fn a_cors_preflight_from_the_allowed_origin_is_answered() {
    let world = world().await;
    let client = reqwest::Client::new();
    let preflight = client
        .request(reqwest::Method::OPTIONS, world.gateway.url("/api/orders"))
        .header("origin", BROWSER_ORIGIN)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        BROWSER_ORIGIN
    );
    let elsewhere = client
        .request(reqwest::Method::OPTIONS, world.gateway.url("/api/orders"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    // The answer names the one allowed origin, which the browser compares
    // with its own and refuses.
    let allowed = elsewhere.headers().get("access-control-allow-origin");
    assert_ne!(
        allowed.and_then(|v| v.to_str().ok()),
        Some("https://evil.example")
    );
}

/// `path` with a query no other request used: the gateway's cache keys
/// include the query, so this always reaches an upstream.
fn uncached(path: &str) -> String {
    format!("{path}?nocache={}", next_number())
}

fn next_number() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// An address where nothing listens (an instance that died). The socket
/// is bound but not listening: connections are refused, and no other test
/// can take the port while the returned socket lives.
fn dead_address() -> (SocketAddr, tokio::net::TcpSocket) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    (socket.local_addr().unwrap(), socket)
}

async fn breaker_state(world: &World, instance: &str) -> Option<String> {
    let states: Value = reqwest::get(world.gateway.url("/gateway/breakers"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    states[instance]["state"].as_str().map(str::to_owned)
}

// ANCHOR: retries
#[tokio::test]
async fn gets_retry_on_another_instance_when_one_is_dead() {
    let world = world().await;
    let (dead, _reserved) = dead_address();
    register(&world.registry, "catalog", "catalog-dead", dead).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // discovery sees it
    for _ in 0..30 {
        let response = reqwest::get(world.gateway.url(&uncached("/api/catalog/books/1")))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "a retry hid the dead instance");
        assert_ne!(response.headers()[UPSTREAM_HEADER], "catalog-dead");
    }
    assert_eq!(
        breaker_state(&world, "catalog-dead").await.as_deref(),
        Some("open")
    );
}
// ANCHOR_END: retries

// ANCHOR: retries_post
#[tokio::test]
async fn posts_are_never_retried() {
    let world = world().await;
    let (dead, _reserved) = dead_address();
    register(&world.registry, "orders", "orders-dead", dead).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let token = demo_token(&world).await;
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let response = reqwest::Client::new()
            .post(world.gateway.url("/api/orders"))
            .bearer_auth(&token)
            .json(&json!({"customer": "demo", "lines": [{"book_id": 4, "quantity": 1}]}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    // A POST that met the dead instance failed instead of being replayed
    // elsewhere: the client decides (with an Idempotency-Key) whether to retry.
    assert!(statuses.contains(&503), "{statuses:?}");
    assert!(statuses.contains(&201), "{statuses:?}");
}
// ANCHOR_END: retries_post

#[tokio::test]
async fn a_breaker_opens_on_a_dead_instance_and_closes_when_it_is_back() {
    let world = world().await;
    let (address, reserved) = dead_address();
    register(&world.registry, "catalog", "catalog-late", address).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while breaker_state(&world, "catalog-late").await.as_deref() != Some("open") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the breaker never opened"
        );
        reqwest::get(world.gateway.url(&uncached("/api/catalog/books/1")))
            .await
            .unwrap();
    }

    // ANCHOR: breaker_recovers
    // The instance comes back on its address.
    let db = TempDb::new();
    let app = catalog::App::open(&db.url()).await.unwrap();
    let router = app.into_router();
    drop(reserved); // free the port for the instance's return
    let _back = TestServer::start_on(address, |listener, shutdown| {
        server::serve(listener, router, shutdown)
    })
    .await;

    // After the cooldown a probe goes through, succeeds, and closes it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = reqwest::get(world.gateway.url(&uncached("/api/catalog/books/1")))
            .await
            .unwrap();
        if response.headers()[UPSTREAM_HEADER] == "catalog-late" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the instance never got traffic again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        breaker_state(&world, "catalog-late").await.as_deref(),
        Some("closed")
    );
    // ANCHOR_END: breaker_recovers
}

// ANCHOR: caching
#[tokio::test]
async fn public_answers_are_cached_and_private_ones_never() {
    let world = world().await;
    let get = |path: &'static str| {
        let url = world.gateway.url(path);
        async move {
            let response = reqwest::get(url).await.unwrap();
            let cache = response.headers()["x-cache"]
                .to_str()
                .unwrap_or("")
                .to_owned();
            let body: Value = response.json().await.unwrap();
            (cache, body["n"].as_u64().unwrap())
        }
    };
    let (first, n1) = get("/api/counter/public").await;
    let (second, n2) = get("/api/counter/public").await;
    assert_eq!((first.as_str(), second.as_str()), ("miss", "hit"));
    assert_eq!(n1, n2, "the second answer came from the cache");

    let (_, p1) = get("/api/counter/private").await;
    let (_, p2) = get("/api/counter/private").await;
    assert_ne!(p1, p2, "`private` is never kept by a shared cache");

    let token = demo_token(&world).await;
    let response = reqwest::Client::new()
        .get(world.gateway.url("/api/counter/public"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(
        response.headers().get("x-cache").is_none(),
        "authenticated requests bypass the cache"
    );
}
// ANCHOR_END: caching

#[tokio::test]
async fn a_response_streams_through_without_being_buffered() {
    // An upstream that sends one chunk, then waits for the test's go-ahead
    // before it sends the rest: if the gateway buffered whole bodies, the
    // client would never see the first chunk while the upstream waits.
    let release = Arc::new(tokio::sync::Notify::new());
    let upstream_release = release.clone();
    let slow = Router::new().route(
        "/{*rest}",
        axum::routing::get(move || {
            let release = upstream_release.clone();
            async move {
                let chunks = futures_util::stream::unfold(0u8, move |step| {
                    let release = release.clone();
                    async move {
                        match step {
                            0 => Some((
                                Ok::<_, std::io::Error>(axum::body::Bytes::from("first chunk;")),
                                1,
                            )),
                            1 => {
                                release.notified().await;
                                Some((Ok(axum::body::Bytes::from(" the rest")), 2))
                            }
                            _ => None,
                        }
                    }
                });
                axum::body::Body::from_stream(chunks)
            }
        }),
    );
    let upstream = serve(slow).await;
    let registry_app = ch03_registry::registry::App::new(TOKEN);
    let registry_server = serve(registry_app.router()).await;
    let registry = Arc::new(HttpRegistry::new(registry_server.base_url(), TOKEN).unwrap());
    register(&registry, "slow", "slow-1", upstream.addr()).await;
    let table = RouteTable::parse(
        "[[route]]\nprefix = \"/api/slow\"\nservice = \"slow\"\nrewrite = \"\"\n",
    )
    .unwrap();
    let gateway = serve(Gateway::new(table, registry, Limits::default()).router()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // ANCHOR: streaming
    let mut response = reqwest::get(gateway.url("/api/slow/stream")).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), response.chunk())
        .await
        .expect("the first chunk arrives while the upstream still holds the rest")
        .unwrap()
        .unwrap();
    assert_eq!(&first[..], b"first chunk;");
    release.notify_one();
    let rest = response.chunk().await.unwrap().unwrap();
    assert_eq!(&rest[..], b" the rest");
    // ANCHOR_END: streaming
}

#[tokio::test]
async fn concurrent_first_requests_all_wait_for_the_one_key_fetch() {
    let world = world().await;
    let token = demo_token(&world).await;
    // The gateway has no keys yet: 30 requests meet the unknown kid at once.
    let requests = (0..30).map(|_| {
        let url = world.gateway.url("/api/echo/concurrent");
        let token = token.clone();
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

#[tokio::test]
async fn gets_keep_succeeding_when_an_instance_is_stopped_mid_load() {
    let mut world = world().await;
    let url = world.gateway.url("/api/catalog/books/2");
    let load = tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut statuses = Vec::new();
        for i in 0..200 {
            let response = client.get(format!("{url}?load={i}")).send().await.unwrap();
            statuses.push(response.status().as_u16());
        }
        statuses
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let catalog_a = world.servers.remove(0); // catalog-a goes away mid-load
    catalog_a.stop().await.unwrap();
    let statuses = load.await.unwrap();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

#[tokio::test]
async fn a_route_can_have_its_own_rate_limit_and_timeout() {
    let world = world().await;
    let mut limited = Vec::new();
    for _ in 0..3 {
        limited.push(
            reqwest::get(world.gateway.url(&uncached("/api/limited/public")))
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(limited, [200, 200, 429], "a burst of 2 on this route");
    let elsewhere = reqwest::get(world.gateway.url(&uncached("/api/catalog/books/1")))
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        200,
        "other routes keep the gateway's limit"
    );

    let started = std::time::Instant::now();
    let slow = reqwest::get(world.gateway.url("/api/sleepy/nap"))
        .await
        .unwrap();
    assert_eq!(slow.status(), 504);
    assert_eq!(slow.headers()["content-type"], "application/problem+json");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the route's 200 ms, not the upstream's 2 s"
    );
}
