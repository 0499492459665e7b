//! A consumer's inbox. RabbitMQ delivers at least once: the same event
//! can arrive twice (a redelivery after a lost ack, a publisher that sent
//! again after a crash). Recording a notification must happen once per
//! event id, however often the event comes.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

/// Handled now, or handled before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    Duplicate,
}

/// Opens (and creates) the database: an inbox and the notifications.
pub async fn open(url: &str) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePool::connect_with(options).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS inbox (event_id TEXT PRIMARY KEY)")
        .execute(&pool)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS notifications (\
         id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, message TEXT NOT NULL)",
    )
    .execute(&pool)
    .await?;
    Ok(pool)
}

// ANCHOR: solution
/// Records `message` for the event `event_id`, once.
pub async fn record(
    pool: &SqlitePool,
    event_id: &str,
    message: &str,
) -> Result<Recorded, sqlx::Error> {
    // The inbox row and the notification commit together: a crash between
    // them cannot leave one without the other.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let first_time = sqlx::query("INSERT INTO inbox (event_id) VALUES (?1) ON CONFLICT DO NOTHING")
        .bind(event_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if !first_time {
        return Ok(Recorded::Duplicate);
    }
    sqlx::query("INSERT INTO notifications (event_id, message) VALUES (?1, ?2)")
        .bind(event_id)
        .bind(message)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Recorded::New)
}
// ANCHOR_END: solution
