//! Starting catalog instances for a test, each with a database of its own.

use ch01_autonomy::catalog::App;
use ch01_autonomy::server;
use testkit::{TempDb, TestServer};

/// A catalog on 127.0.0.1:0. Keep it alive as long as you use it.
pub struct Instance {
    pub server: TestServer,
    /// The instance's database, if it has one of its own.
    pub db: Option<TempDb>,
}

/// Starts one catalog instance with its own, fresh database.
pub async fn spawn_instance() -> Instance {
    let db = TempDb::new();
    let app = App::open(&db.url())
        .await
        .expect("open the catalog database");
    let router = app.into_router();
    let server =
        TestServer::start(|listener, shutdown| server::serve(listener, router, shutdown)).await;
    Instance {
        server,
        db: Some(db),
    }
}
