//! Orders' transactional outbox: the rows (written by triggers in the
//! same transaction as the change) and the relay that publishes them.

pub mod relay;

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqlitePool;

use ch01_autonomy::sqlite;
use ch05_soa::orders::store as orders_store;

pub use ch01_autonomy::sqlite::DbError as StoreError;

/// Chapter 6's migration of the orders database: the outbox table and its
/// triggers. It runs after chapters 2 and 5's.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations/orders");

/// An event waiting to be published.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingEvent {
    pub id: i64,
    pub event_id: String,
    pub routing_key: String,
    pub envelope: String,
    /// When the change it reports committed (RFC 3339, UTC).
    pub created_at: String,
    /// The trace the change was part of, if it was traced (chapter 7).
    pub traceparent: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Outbox {
    pool: SqlitePool,
}

impl Outbox {
    /// Opens the orders database (migrating it, if needed, through every
    /// chapter's migrations) for the relay.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let pool = sqlite::open(url, &orders_store::migrator(Some(&MIGRATOR))).await?;
        Ok(Self { pool })
    }

    /// The oldest `limit` events not yet confirmed by the broker.
    pub async fn pending(&self, limit: u32) -> Result<Vec<PendingEvent>, StoreError> {
        Ok(sqlx::query_as::<_, PendingEvent>(
            "SELECT id, event_id, routing_key, envelope, created_at, traceparent FROM outbox \
             WHERE sent_at IS NULL ORDER BY id LIMIT ?1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many events wait.
    pub async fn pending_count(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Marks events as published: only ever after the broker's confirm.
    pub async fn mark_sent(&self, ids: &[i64]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for id in ids {
            sqlx::query(
                "UPDATE outbox SET sent_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Counts a failed attempt (a nack, a return): the row stays pending.
    pub async fn mark_failed(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
