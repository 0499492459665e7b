//! The storefront against a real catalog and a real inventory, each on a
//! socket of its own: pages, composition, degradation and the browser
//! headers, checked over HTTP as a browser would fetch them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use ch01_autonomy::{catalog, server};
use serde_json::json;
use storefront::{Config, Upstreams};
use testkit::browser::Browser;
use testkit::{TempDb, TestServer};
use tokio_util::sync::CancellationToken;

struct Running {
    server: TestServer,
    _db: TempDb,
}

async fn spawn_catalog() -> Running {
    let db = TempDb::new();
    let router = catalog::App::open(&db.url()).await.unwrap().into_router();
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Running { server, _db: db }
}

async fn spawn_inventory() -> Running {
    let db = TempDb::new();
    let (_store, router) = ch05_soa::inventory::app(&db.url()).await.unwrap();
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Running { server, _db: db }
}

/// An inventory that answers every stock request after `delay`.
async fn spawn_slow_inventory(delay: Duration) -> TestServer {
    let slow = move || async move {
        tokio::time::sleep(delay).await;
        axum::Json(json!({"book_id": 1, "quantity": 5}))
    };
    TestServer::router(Router::new().route("/v1/stock/{id}", get(slow))).await
}

fn config(stock_budget_ms: u64) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        catalog_url: None,
        inventory_url: None,
        identity_url: None,
        orders_url: None,
        notifications_url: None,
        catalog_timeout_ms: 2000,
        stock_budget_ms,
        cookie_secure: false,
    }
}

/// Where nothing listens: a service these tests do not need.
const NOWHERE: &str = "http://127.0.0.1:9";

async fn spawn_storefront(catalog: &str, inventory: &str, stock_budget_ms: u64) -> TestServer {
    spawn_storefront_with(catalog, inventory, NOWHERE, stock_budget_ms).await
}

async fn spawn_storefront_with(
    catalog: &str,
    inventory: &str,
    identity: &str,
    stock_budget_ms: u64,
) -> TestServer {
    let upstreams = Upstreams {
        catalog: Arc::new(catalog.to_owned()),
        inventory: Arc::new(inventory.to_owned()),
        identity: Arc::new(identity.to_owned()),
        orders: Arc::new(NOWHERE.to_owned()),
        notifications: Arc::new(NOWHERE.to_owned()),
    };
    let closing = CancellationToken::new();
    let router = storefront::router(&config(stock_budget_ms), upstreams, closing).unwrap();
    TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await
}

/// A page: its status, content type and body.
async fn page(url: &str) -> (u16, String, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn the_home_page_lists_books_and_a_search_finds_the_rust_ones() {
    let (catalog, inventory) = (spawn_catalog().await, spawn_inventory().await);
    let shop = spawn_storefront(catalog.server.base_url(), inventory.server.base_url(), 300).await;

    let (status, content_type, home) = page(&shop.url("/shop")).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(home.contains("<h1>Books</h1>"), "{home}");
    assert!(home.contains("href=\"/shop/books/1\""), "{home}");

    let (status, _, found) = page(&shop.url("/shop?q=rust")).await;
    assert_eq!(status, 200);
    assert!(found.contains("The Rust Programming Language"), "{found}");
    assert!(found.contains("$39.99"), "{found}");
    assert!(
        !found.contains("Designing Data-Intensive Applications"),
        "{found}"
    );

    let (status, _, none) = page(&shop.url("/shop?q=no+such+book+anywhere")).await;
    assert_eq!(status, 200);
    assert!(none.contains("No book matches"), "{none}");
}

// ANCHOR: composed
#[tokio::test]
async fn a_book_page_shows_the_catalogs_book_and_inventorys_stock() {
    let (catalog, inventory) = (spawn_catalog().await, spawn_inventory().await);
    let shop = spawn_storefront(catalog.server.base_url(), inventory.server.base_url(), 300).await;

    let (status, _, book) = page(&shop.url("/shop/books/1")).await;
    assert_eq!(status, 200);
    assert!(book.contains("The Rust Programming Language"), "{book}");
    assert!(book.contains("class=\"stock in-stock\""), "{book}");
    assert!(book.contains("In stock: "), "{book}");
}

#[tokio::test]
async fn with_inventory_stopped_the_book_page_still_renders_without_stock() {
    let (catalog, inventory) = (spawn_catalog().await, spawn_inventory().await);
    let shop = spawn_storefront(catalog.server.base_url(), inventory.server.base_url(), 300).await;
    inventory.server.stop().await.unwrap();

    let (status, _, book) = page(&shop.url("/shop/books/1")).await;
    assert_eq!(status, 200);
    assert!(book.contains("The Rust Programming Language"), "{book}");
    assert!(book.contains("Stock unknown right now"), "{book}");
}
// ANCHOR_END: composed

#[tokio::test]
async fn a_slow_inventory_costs_the_page_its_budget_not_its_delay() {
    let catalog = spawn_catalog().await;
    let slow = spawn_slow_inventory(Duration::from_secs(5)).await;
    let shop = spawn_storefront(catalog.server.base_url(), slow.base_url(), 200).await;

    let started = Instant::now();
    let (status, _, book) = page(&shop.url("/shop/books/1")).await;
    let took = started.elapsed();
    assert_eq!(status, 200);
    assert!(book.contains("Stock unknown right now"), "{book}");
    // Not a timing assertion on speed: the page must not wait the 5 s.
    assert!(took < Duration::from_secs(4), "the page waited {took:?}");
}

#[tokio::test]
async fn values_from_the_catalog_are_escaped_and_the_policy_forbids_scripts() {
    let (catalog, inventory) = (spawn_catalog().await, spawn_inventory().await);
    let created: serde_json::Value = reqwest::Client::new()
        .post(catalog.server.url("/v1/books"))
        .json(&json!({
            "title": "<script>alert('owned')</script>",
            "author": "Eve \"<b>\" & Co",
            "price_cents": 100
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shop = spawn_storefront(catalog.server.base_url(), inventory.server.base_url(), 300).await;

    let response = reqwest::get(shop.url(&format!("/shop/books/{}", created["id"])))
        .await
        .unwrap();
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(
        policy.contains("script-src 'self';"),
        "no inline script: {policy}"
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let book = response.text().await.unwrap();
    assert!(!book.contains("<script>"), "{book}");
    assert!(
        book.contains("&#60;script&#62;") || book.contains("&lt;script&gt;"),
        "{book}"
    );
    assert!(!book.contains("<b>"), "{book}");
}

#[tokio::test]
async fn unknown_books_and_pages_get_a_404_page_and_a_missing_catalog_a_503_page() {
    let (catalog, inventory) = (spawn_catalog().await, spawn_inventory().await);
    let shop = spawn_storefront(catalog.server.base_url(), inventory.server.base_url(), 300).await;

    for path in [
        "/shop/books/999999",
        "/shop/books/not-a-number",
        "/shop/nowhere",
    ] {
        let (status, content_type, body) = page(&shop.url(path)).await;
        assert_eq!(status, 404, "{path}");
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        assert!(body.contains("Not found"), "{path}: {body}");
    }
    let long = "a".repeat(101);
    let (status, _, _) = page(&shop.url(&format!("/shop?q={long}"))).await;
    assert_eq!(status, 400);

    catalog.server.stop().await.unwrap();
    let (status, content_type, body) = page(&shop.url("/shop/books/1")).await;
    assert_eq!(status, 503);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(body.contains("Back in a moment"), "{body}");
}

// The shopper's forms: sign-in against a real identity, and the CSRF
// checks every form passes through.

async fn spawn_identity() -> Running {
    let db = TempDb::new();
    let app = ch04_gateway::identity::App::open(&ch04_gateway::identity::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: db.url(),
        token_ttl_minutes: 15,
        demo_password: "demo-password-1".to_owned(),
        signing_key_file: None,
    })
    .await
    .unwrap();
    let router = app.into_router();
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Running { server, _db: db }
}

// ANCHOR: sign_in
#[tokio::test]
async fn signing_up_sets_an_http_only_session_cookie_and_mistakes_show_the_form_again() {
    let (catalog, identity) = (spawn_catalog().await, spawn_identity().await);
    let shop = spawn_storefront_with(
        catalog.server.base_url(),
        NOWHERE,
        identity.server.base_url(),
        300,
    )
    .await;
    let mut browser = Browser::new();
    let (status, form) = browser.get(&shop.url("/shop/sign-up")).await;
    assert_eq!(status, 200);
    let token = browser.cookies["bookshop_csrf"].clone();
    assert!(
        form.contains(&format!("value=\"{token}\"")),
        "the form repeats the cookie"
    );

    let (status, to) = browser
        .post(
            &shop.url("/shop/sign-up"),
            &[("username", "reader"), ("password", "a-long-password-1")],
        )
        .await;
    assert_eq!((status, to.as_str()), (303, "/shop"));
    let session = browser
        .last_set_cookies
        .iter()
        .find(|c| c.starts_with("bookshop_session="))
        .expect("a session cookie");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/shop", "Max-Age=900"] {
        assert!(session.contains(part), "{part} missing: {session}");
    }
    assert_ne!(browser.cookies["bookshop_csrf"], token, "a new CSRF token");

    let (status, page) = browser
        .post(
            &shop.url("/shop/sign-in"),
            &[("username", "reader"), ("password", "not-the-password")],
        )
        .await;
    assert_eq!(status, 401);
    assert!(page.contains("Wrong username or password."), "{page}");
    assert!(
        page.contains("value=\"reader\""),
        "the username is kept: {page}"
    );

    let (status, page) = browser
        .post(
            &shop.url("/shop/sign-up"),
            &[("username", "reader"), ("password", "a-long-password-1")],
        )
        .await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("is taken"), "{page}");
}
// ANCHOR_END: sign_in

// ANCHOR: csrf
#[tokio::test]
async fn a_form_without_its_token_or_from_another_site_is_refused() {
    let catalog = spawn_catalog().await;
    let shop = spawn_storefront(catalog.server.base_url(), NOWHERE, 300).await;
    let mut browser = Browser::new();
    browser.get(&shop.url("/shop/books/1")).await;
    let token = browser.cookies["bookshop_csrf"].clone();
    let add = shop.url("/shop/cart");
    let book = [("book_id", "1"), ("quantity", "2")];

    let (status, page) = browser.post_raw(&add, &book, "same-origin").await;
    assert_eq!(status, 403, "no token: {page}");
    assert!(page.contains("Reload the page"), "{page}");
    let forged = "x".repeat(43);
    let wrong = [("csrf", forged.as_str()), book[0], book[1]];
    assert_eq!(browser.post_raw(&add, &wrong, "same-origin").await.0, 403);
    let right = [("csrf", token.as_str()), book[0], book[1]];
    assert_eq!(browser.post_raw(&add, &right, "cross-site").await.0, 403);
    assert!(
        !browser.cookies.contains_key("bookshop_cart"),
        "nothing added"
    );

    let (status, to) = browser.post_raw(&add, &right, "same-origin").await;
    assert_eq!((status, to.as_str()), (303, "/shop/cart"));
    assert_eq!(browser.cookies["bookshop_cart"], "1x2");
    let (_, cart) = browser.get(&shop.url("/shop/cart")).await;
    assert!(cart.contains("The Rust Programming Language"), "{cart}");
    assert!(cart.contains("Sign in</a> to place your order"), "{cart}");
}
// ANCHOR_END: csrf

#[tokio::test]
async fn pages_name_the_shopper_the_gateway_vouched_for_and_orders_need_one() {
    let catalog = spawn_catalog().await;
    let shop = spawn_storefront(catalog.server.base_url(), NOWHERE, 300).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let home = http
        .get(shop.url("/shop"))
        .header("x-bookshop-user", "ada")
        .send()
        .await
        .unwrap();
    assert_eq!(home.headers()["cache-control"], "no-store");
    let home = home.text().await.unwrap();
    assert!(home.contains("Signed in as <strong>ada</strong>"), "{home}");

    for path in ["/shop/orders", "/shop/orders/1", "/shop/orders/1/events"] {
        let anonymous = http.get(shop.url(path)).send().await.unwrap();
        assert_eq!(anonymous.status(), 303, "{path}");
        assert_eq!(anonymous.headers()["location"], "/shop/sign-in", "{path}");
    }
}
