//! The notifications service's own database: what was sent, and which
//! events were already handled (the inbox).

use serde::{Deserialize, Serialize};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqlitePool;

use ch01_autonomy::sqlite;

use crate::events::Envelope;

pub use ch01_autonomy::sqlite::DbError as StoreError;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/notifications");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Notification {
    pub order_id: i64,
    pub event_id: String,
    pub kind: String,
    pub message: String,
    pub created_at: String,
}

/// Handled now, or handled before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    Duplicate,
}

#[derive(Debug, Clone)]
pub struct NotificationStore {
    pool: SqlitePool,
}

impl NotificationStore {
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Ok(Self {
            pool: sqlite::open(url, &MIGRATOR).await?,
        })
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlite::ping(&self.pool).await
    }

    // ANCHOR: record
    /// Records the notification for `event`, once: the inbox row and the
    /// notification commit together, and an event id seen before changes
    /// nothing.
    pub async fn record(
        &self,
        event: &Envelope,
        order_id: i64,
        message: &str,
    ) -> Result<Recorded, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let first_time =
            sqlx::query("INSERT INTO inbox (event_id) VALUES (?1) ON CONFLICT DO NOTHING")
                .bind(&event.id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        if !first_time {
            return Ok(Recorded::Duplicate);
        }
        sqlx::query(
            "INSERT INTO notifications (event_id, order_id, kind, message) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(&event.id)
        .bind(order_id)
        .bind(&event.kind)
        .bind(message)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Recorded::New)
    }
    // ANCHOR_END: record

    pub async fn for_order(&self, order_id: i64) -> Result<Vec<Notification>, StoreError> {
        Ok(sqlx::query_as::<_, Notification>(
            "SELECT order_id, event_id, kind, message, created_at FROM notifications \
             WHERE order_id = ?1 ORDER BY id",
        )
        .bind(order_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM notifications")
            .fetch_one(&self.pool)
            .await?)
    }
}
