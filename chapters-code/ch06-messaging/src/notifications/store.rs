//! The notifications service's own database: what was sent, and which
//! events were already handled (the inbox).

use serde::{Deserialize, Serialize};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqlitePool;

use ch01_autonomy::sqlite;

use crate::events::Envelope;

pub use ch01_autonomy::sqlite::DbError as StoreError;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/notifications");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Notification {
    pub order_id: i64,
    /// Whose it is: the order's customer, from the event.
    pub customer: Option<String>,
    pub event_id: String,
    pub kind: String,
    pub message: String,
    pub created_at: String,
}

/// The order an event is about, and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRef {
    pub order_id: i64,
    pub customer: String,
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
        order: &OrderRef,
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
            "INSERT INTO notifications (event_id, order_id, customer, kind, message) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(&event.id)
        .bind(order.order_id)
        .bind(&order.customer)
        .bind(&event.kind)
        .bind(message)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Recorded::New)
    }
    // ANCHOR_END: record

    // ANCHOR: for_customer
    /// `customer`'s notifications about order `order_id`, oldest first.
    /// Someone else's order has none, as far as this caller can tell: the
    /// answer is the same as for an order not heard of yet.
    pub async fn for_customer_order(
        &self,
        customer: &str,
        order_id: i64,
    ) -> Result<Vec<Notification>, StoreError> {
        Ok(sqlx::query_as::<_, Notification>(
            "SELECT order_id, customer, event_id, kind, message, created_at FROM notifications \
             WHERE customer = ?1 AND order_id = ?2 ORDER BY id",
        )
        .bind(customer)
        .bind(order_id)
        .fetch_all(&self.pool)
        .await?)
    }
    // ANCHOR_END: for_customer

    pub async fn count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM notifications")
            .fetch_one(&self.pool)
            .await?)
    }
}
