use ex05_idempotent_charge::{ChargeError, charge, open};
use testkit::TempDb;

#[tokio::test]
async fn a_retried_charge_gets_the_first_answer() {
    let db = TempDb::new();
    let pool = open(&db.url()).await.unwrap();
    assert_eq!(
        charge(&pool, "o-1", 500, "declined").await.unwrap(),
        "declined"
    );
    // The retry's bank said yes this time: too late, the first answer stands.
    assert_eq!(
        charge(&pool, "o-1", 500, "approved").await.unwrap(),
        "declined"
    );
}

#[tokio::test]
async fn twenty_concurrent_retries_record_one_payment() {
    let db = TempDb::new();
    let pool = open(&db.url()).await.unwrap();
    let retries = (0..20).map(|i| {
        let pool = pool.clone();
        let decision = if i % 2 == 0 { "approved" } else { "declined" };
        async move { charge(&pool, "o-2", 900, decision).await }
    });
    let answers = futures_util::future::join_all(retries).await;
    let answers: Vec<String> = answers.into_iter().map(|a| a.unwrap()).collect();
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payments")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn the_same_order_with_another_amount_is_refused() {
    let db = TempDb::new();
    let pool = open(&db.url()).await.unwrap();
    charge(&pool, "o-3", 500, "approved").await.unwrap();
    let other = charge(&pool, "o-3", 501, "approved").await.unwrap_err();
    assert!(matches!(other, ChargeError::OtherAmount(_)), "{other:?}");
}
