use ch01_autonomy::catalog::App;
use testkit::{TempDb, TestServer};

#[tokio::test]
async fn ready_while_the_database_answers_and_not_after() {
    let db = TempDb::new();
    let app = App::open(&db.url()).await.unwrap();
    let store = app.store().clone();
    let server = TestServer::router(ex01_readiness::router(store.clone())).await;
    let url = server.url("/health/ready");

    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200);

    store.close().await; // the database is gone

    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}
