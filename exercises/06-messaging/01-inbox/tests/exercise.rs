use ex06_inbox::{Recorded, open, record};
use testkit::TempDb;

async fn notifications(pool: &sqlx::SqlitePool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM notifications")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_redelivered_event_notifies_once() {
    let db = TempDb::new();
    let pool = open(&db.url()).await.unwrap();
    assert_eq!(
        record(&pool, "e-1", "Order 7 is confirmed.").await.unwrap(),
        Recorded::New
    );
    assert_eq!(
        record(&pool, "e-1", "Order 7 is confirmed.").await.unwrap(),
        Recorded::Duplicate
    );
    assert_eq!(notifications(&pool).await, 1);
}

#[tokio::test]
async fn different_events_each_notify() {
    let db = TempDb::new();
    let pool = open(&db.url()).await.unwrap();
    record(&pool, "e-1", "placed").await.unwrap();
    record(&pool, "e-2", "confirmed").await.unwrap();
    assert_eq!(notifications(&pool).await, 2);
}

#[tokio::test]
async fn ten_concurrent_deliveries_of_one_event_notify_once() {
    let db = TempDb::new();
    let pool = open(&db.url()).await.unwrap();
    let deliveries = (0..10).map(|_| record(&pool, "e-3", "Order 9 is cancelled."));
    let results = futures_util::future::join_all(deliveries).await;
    let new = results
        .into_iter()
        .filter(|result| *result.as_ref().unwrap() == Recorded::New)
        .count();
    assert_eq!(new, 1);
    assert_eq!(notifications(&pool).await, 1);
}
