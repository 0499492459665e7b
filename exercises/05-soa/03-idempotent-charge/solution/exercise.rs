//! A payments ledger: one row per order. Saga steps are retried (after a
//! timeout, a crash, a restart), so charging the same order again must
//! not charge twice: it must give back the first answer.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

#[derive(Debug, thiserror::Error)]
pub enum ChargeError {
    #[error("order {0} was charged before with another amount")]
    OtherAmount(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Opens (and creates) the ledger.
pub async fn open(url: &str) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePool::connect_with(options).await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS payments (\
         order_id TEXT PRIMARY KEY, amount_cents INTEGER NOT NULL, status TEXT NOT NULL)",
    )
    .execute(&pool)
    .await?;
    Ok(pool)
}

// ANCHOR: solution
/// Records the bank's `decision` ("approved" or "declined") for a charge
/// and returns the status that stands for this order.
pub async fn charge(
    pool: &SqlitePool,
    order_id: &str,
    amount_cents: i64,
    decision: &str,
) -> Result<String, ChargeError> {
    // The first insert wins; later ones (retries, or racers that checked
    // at the same moment) do nothing. No check-then-insert race.
    sqlx::query(
        "INSERT INTO payments (order_id, amount_cents, status) VALUES (?1, ?2, ?3) \
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order_id)
    .bind(amount_cents)
    .bind(decision)
    .execute(pool)
    .await?;
    let (amount, status): (i64, String) =
        sqlx::query_as("SELECT amount_cents, status FROM payments WHERE order_id = ?1")
            .bind(order_id)
            .fetch_one(pool)
            .await?;
    if amount != amount_cents {
        return Err(ChargeError::OtherAmount(order_id.to_owned()));
    }
    Ok(status)
}
// ANCHOR_END: solution
