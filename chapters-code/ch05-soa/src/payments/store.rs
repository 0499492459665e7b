//! The payments ledger.

use serde::{Deserialize, Serialize};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqlitePool;

use ch01_autonomy::sqlite;

pub use ch01_autonomy::sqlite::DbError as StoreError;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/payments");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    Approved,
    Declined,
    Refunded,
    /// Refunded before it was charged: a charge for this order that
    /// arrives later (a slow request overtaken by its compensation) is refused.
    Voided,
}

impl PaymentStatus {
    fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Approved => "approved",
            PaymentStatus::Declined => "declined",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Voided => "voided",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Payment {
    pub order_id: String,
    pub amount_cents: i64,
    #[sqlx(try_from = "String")]
    pub status: PaymentStatus,
}

/// The column holds only the words its CHECK allows.
impl TryFrom<String> for PaymentStatus {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        match text.as_str() {
            "approved" => Ok(PaymentStatus::Approved),
            "declined" => Ok(PaymentStatus::Declined),
            "refunded" => Ok(PaymentStatus::Refunded),
            "voided" => Ok(PaymentStatus::Voided),
            other => Err(format!("unknown payment status {other:?}")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PaymentStore {
    pool: SqlitePool,
}

impl PaymentStore {
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Ok(Self {
            pool: sqlite::open(url, &MIGRATOR).await?,
        })
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlite::ping(&self.pool).await
    }

    pub async fn get(&self, order_id: &str) -> Result<Option<Payment>, StoreError> {
        Ok(sqlx::query_as::<_, Payment>(
            "SELECT order_id, amount_cents, status FROM payments WHERE order_id = ?1",
        )
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    // ANCHOR: charge
    /// Records the outcome of a charge, unless the order was charged
    /// before: then the first outcome stands and is returned.
    pub async fn record(
        &self,
        order_id: &str,
        amount_cents: i64,
        status: PaymentStatus,
    ) -> Result<Payment, StoreError> {
        sqlx::query(
            "INSERT INTO payments (order_id, amount_cents, status) VALUES (?1, ?2, ?3) \
             ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(order_id)
        .bind(amount_cents)
        .bind(status.as_str())
        .execute(&self.pool)
        .await?;
        self.get(order_id)
            .await?
            .ok_or_else(|| sqlx::Error::RowNotFound.into())
    }
    // ANCHOR_END: charge

    // ANCHOR: refund
    /// Approved → refunded; a declined or refunded payment is left as it
    /// is. An order never charged gets a `voided` row, so that a charge
    /// still on its way (sent before a timeout, arriving after the saga
    /// gave up and compensated) cannot take money that nobody will give back.
    pub async fn refund(&self, order_id: &str) -> Result<Payment, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO payments (order_id, amount_cents, status) VALUES (?1, 0, 'voided') \
             ON CONFLICT (order_id) DO UPDATE SET status = 'refunded' WHERE status = 'approved'",
        )
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.get(order_id)
            .await?
            .ok_or_else(|| sqlx::Error::RowNotFound.into())
    }
    // ANCHOR_END: refund
}
