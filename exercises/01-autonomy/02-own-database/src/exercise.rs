//! Starting a fresh catalog for a test. Every test's catalog must start
//! from the seed data, yet a book one test creates shows up in the next
//! test's catalog. Find out why.

use ch01_autonomy::catalog::App;
use ch01_autonomy::server;
use testkit::{TempDb, TestServer};

/// A catalog on 127.0.0.1:0. Keep it alive as long as you use it.
pub struct Instance {
    pub server: TestServer,
    /// The instance's database, if it has one of its own.
    pub db: Option<TempDb>,
}

/// Starts one catalog instance.
pub async fn spawn_instance() -> Instance {
    // "Just for now", every instance uses the same database file.
    let shared = std::env::temp_dir().join("bookshop-exercise-shared-catalog.sqlite");
    let url = format!("sqlite://{}", shared.display());
    let app = App::open(&url).await.expect("open the catalog database");
    let router = app.into_router();
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Instance { server, db: None }
}
