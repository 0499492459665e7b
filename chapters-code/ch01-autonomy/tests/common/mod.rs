//! What every catalog test starts with: a catalog on 127.0.0.1:0 with a
//! database of its own.

#![allow(dead_code)] // each test file uses a different part

use ch01_autonomy::catalog::App;
use ch01_autonomy::problem::Problem;
use testkit::{TempDb, TestServer};

// ANCHOR: spawn_catalog
/// A running catalog. Keep the `TempDb` alive as long as the server.
pub struct Catalog {
    pub server: TestServer,
    pub db: TempDb,
    pub app: App,
}

pub async fn spawn_catalog() -> Catalog {
    spawn_catalog_with(|app| app).await
}

pub async fn spawn_catalog_with(configure: impl FnOnce(App) -> App) -> Catalog {
    let db = TempDb::new();
    let app = configure(
        App::open(&db.url())
            .await
            .expect("open the catalog database"),
    );
    let router = app.clone().into_router();
    let server = TestServer::start(|listener, shutdown| {
        ch01_autonomy::server::serve(listener, router, shutdown)
    })
    .await;
    Catalog { server, db, app }
}
// ANCHOR_END: spawn_catalog

/// The seed data holds this many books.
pub const SEEDED_BOOKS: i64 = 24;

/// Asserts the response is a problem with `status` and returns it.
pub async fn expect_problem(response: reqwest::Response, status: u16) -> Problem {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let problem: Problem = response.json().await.expect("a problem body");
    assert_eq!(problem.status, status);
    assert!(!problem.detail.is_empty(), "a problem explains itself");
    problem
}
