//! The orders database in chapter 5: chapter 2's orders and lines, plus
//! one table that remembers how far each checkout saga got.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqlitePool;

use ch01_autonomy::sqlite;
use ch02_communication::orders::OrderStore;
use ch02_communication::orders::store::MIGRATOR as CHAPTER_2_MIGRATOR;

pub use ch01_autonomy::sqlite::DbError as StoreError;

static CHAPTER_5_MIGRATOR: Migrator = sqlx::migrate!("./migrations/orders");

/// Chapter 2's migrations, then this chapter's, then a later chapter's
/// (`later`): one history for one database.
pub fn migrator(later: Option<&Migrator>) -> Migrator {
    let migrations = CHAPTER_2_MIGRATOR
        .iter()
        .chain(CHAPTER_5_MIGRATOR.iter())
        .chain(later.into_iter().flat_map(Migrator::iter))
        .cloned()
        .collect();
    Migrator::with_migrations(migrations)
}

// ANCHOR: step
/// Where a checkout saga is. The forward steps run in this order; any of
/// the first two can turn into `Compensate`, which undoes what was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Reserve,
    Charge,
    Confirm,
    Compensate,
    Done,
}
// ANCHOR_END: step

impl Step {
    fn as_str(self) -> &'static str {
        match self {
            Step::Reserve => "reserve",
            Step::Charge => "charge",
            Step::Confirm => "confirm",
            Step::Compensate => "compensate",
            Step::Done => "done",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "charge" => Step::Charge,
            "confirm" => Step::Confirm,
            "compensate" => Step::Compensate,
            "done" => Step::Done,
            _ => Step::Reserve,
        }
    }
}

/// A saga's persisted state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SagaState {
    pub step: Step,
    pub reason: Option<String>,
    pub deadline_ms: i64,
}

impl SagaState {
    /// Past its deadline: reserve and charge stop being retried.
    pub fn overdue(&self) -> bool {
        now_ms() > self.deadline_ms
    }
}

/// How a finished saga left the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Confirmed,
    Cancelled,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

#[derive(Debug, Clone)]
pub struct SagaStore {
    pool: SqlitePool,
}

/// Opens the orders database with both chapters' tables.
pub async fn open(url: &str) -> Result<(OrderStore, SagaStore), StoreError> {
    open_with(url, None).await
}

/// Opens the orders database with a later chapter's migrations too.
pub async fn open_with(
    url: &str,
    later: Option<&Migrator>,
) -> Result<(OrderStore, SagaStore), StoreError> {
    let pool = sqlite::open(url, &migrator(later)).await?;
    Ok((OrderStore::from_pool(pool.clone()), SagaStore { pool }))
}

impl SagaStore {
    /// The saga of `order_id`, started now if it has no row yet (orders
    /// crashed between storing the order and starting its saga).
    pub async fn load_or_begin(
        &self,
        order_id: i64,
        deadline: Duration,
    ) -> Result<SagaState, StoreError> {
        let deadline_ms = now_ms() + i64::try_from(deadline.as_millis()).unwrap_or(i64::MAX / 2);
        sqlx::query(
            "INSERT INTO checkout_sagas (order_id, step, deadline_ms) VALUES (?1, 'reserve', ?2) \
             ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(order_id)
        .bind(deadline_ms)
        .execute(&self.pool)
        .await?;
        let (step, reason, deadline_ms): (String, Option<String>, i64) = sqlx::query_as(
            "SELECT step, reason, deadline_ms FROM checkout_sagas WHERE order_id = ?1",
        )
        .bind(order_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(SagaState {
            step: Step::parse(&step),
            reason,
            deadline_ms,
        })
    }

    /// Records that the saga moved on: written before the next step runs,
    /// so a crash repeats at most the step in flight, never an earlier one.
    pub async fn advance(
        &self,
        order_id: i64,
        step: Step,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE checkout_sagas SET step = ?2, reason = COALESCE(?3, reason), attempts = 0, \
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE order_id = ?1",
        )
        .bind(order_id)
        .bind(step.as_str())
        .bind(reason)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Counts a failed attempt at the current step.
    pub async fn attempt_failed(&self, order_id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE checkout_sagas SET attempts = attempts + 1, \
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE order_id = ?1",
        )
        .bind(order_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    // ANCHOR: finish
    /// Ends the saga and settles the order in one transaction: nobody
    /// ever sees a `done` saga with a `pending` order, or the reverse.
    pub async fn finish(&self, order_id: i64, outcome: Outcome) -> Result<(), StoreError> {
        let status = match outcome {
            Outcome::Confirmed => "confirmed",
            Outcome::Cancelled => "cancelled",
        };
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlite::prepare_transaction(&mut tx).await?; // chapter 7: trace context
        sqlx::query("UPDATE orders SET status = ?2 WHERE id = ?1 AND status = 'pending'")
            .bind(order_id)
            .bind(status)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE checkout_sagas SET step = 'done' WHERE order_id = ?1")
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        sqlite::announce_commit(); // chapter 7: the relay's wake-up call
        metrics::counter!("checkout_sagas_total", "outcome" => status).increment(1);
        Ok(())
    }
    // ANCHOR_END: finish

    /// Why the order was cancelled, if it was.
    pub async fn reason(&self, order_id: i64) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar::<_, Option<String>>(
            "SELECT reason FROM checkout_sagas WHERE order_id = ?1",
        )
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await?
        .flatten())
    }

    /// Orders whose saga has not finished and has not moved for `quiet`,
    /// oldest first. (A saga that moved just now has a task running it,
    /// most likely the request that placed the order.)
    pub async fn unfinished(&self, quiet: Duration) -> Result<Vec<i64>, StoreError> {
        let modifier = format!("-{:.3} seconds", quiet.as_secs_f64());
        Ok(sqlx::query_scalar(
            "SELECT o.id FROM orders o LEFT JOIN checkout_sagas s ON s.order_id = o.id \
             WHERE o.status = 'pending' \
             AND COALESCE(s.updated_at, o.created_at) \
                 < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1) \
             ORDER BY o.id",
        )
        .bind(modifier)
        .fetch_all(&self.pool)
        .await?)
    }
}
