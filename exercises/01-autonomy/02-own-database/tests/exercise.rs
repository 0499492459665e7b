use ex01_own_database::spawn_instance;
use serde_json::{Value, json};

async fn total(base: &str) -> i64 {
    let page: Value = reqwest::get(format!("{base}/v1/books"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["total"].as_i64().unwrap()
}

#[tokio::test]
async fn catalogs_of_two_tests_do_not_see_each_others_books() {
    let first = spawn_instance().await;
    let second = spawn_instance().await;
    let before = total(second.server.base_url()).await;

    let created = reqwest::Client::new()
        .post(first.server.url("/v1/books"))
        .json(&json!({"title": "Mine alone", "author": "First Instance", "price_cents": 100}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    assert_eq!(
        total(second.server.base_url()).await,
        before,
        "the second instance changed"
    );
    assert_eq!(before, 24, "a fresh catalog holds the 24 seeded books");
}

#[tokio::test]
async fn each_test_catalog_has_a_database_of_its_own() {
    let first = spawn_instance().await;
    let second = spawn_instance().await;
    let (Some(a), Some(b)) = (&first.db, &second.db) else {
        panic!("each instance needs its own database");
    };
    assert_ne!(a.path(), b.path());
}
