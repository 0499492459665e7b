//! The inventory's own database: stock and reservations.

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqlitePool;

use super::model::{Line, Reservation, Status};
use ch01_autonomy::sqlite;

pub use ch01_autonomy::sqlite::DbError as StoreError;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/inventory");

/// Every transaction here reads, then writes. A deferred SQLite
/// transaction takes the write lock only at its first write, and two that
/// both read first cannot both upgrade: one fails at once with "database
/// is locked", busy timeout or not. `IMMEDIATE` takes the write lock at
/// `BEGIN`, so concurrent reservations queue up instead.
const WRITE_TRANSACTION: &str = "BEGIN IMMEDIATE";

/// Why a reservation step did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    #[error("not enough stock for book {book_id} (line {line})")]
    Short { line: usize, book_id: i64 },
    #[error("order {0} was reserved before with different lines")]
    Conflict(String),
    #[error("no reservation for order {0}")]
    Unknown(String),
    #[error("reservation {order_id} is {status:?}; it cannot be {wanted}")]
    WrongState {
        order_id: String,
        status: Status,
        wanted: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ReserveError {
    fn from(err: sqlx::Error) -> Self {
        ReserveError::Store(err.into())
    }
}

#[derive(Debug, Clone)]
pub struct InventoryStore {
    pool: SqlitePool,
}

impl InventoryStore {
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Ok(Self {
            pool: sqlite::open(url, &MIGRATOR).await?,
        })
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlite::ping(&self.pool).await
    }

    pub async fn stock(&self, book_id: i64) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT quantity FROM stock WHERE book_id = ?1")
                .bind(book_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    // ANCHOR: reserve
    // ANCHOR: reserve_start
    /// Takes stock for every line, or for none: one transaction, and each
    /// decrement only happens `WHERE quantity >= wanted`, so two
    /// concurrent reservations can never take the last copy twice.
    /// Reserving the same order again with the same lines is a no-op.
    pub async fn reserve(
        &self,
        order_id: &str,
        lines: &[Line],
    ) -> Result<Reservation, ReserveError> {
        let request = serde_json::to_string(lines).unwrap_or_default();
        let mut tx = self.pool.begin_with(WRITE_TRANSACTION).await?;
        let existing: Option<(String, String)> =
            sqlx::query_as("SELECT status, request FROM reservations WHERE order_id = ?1")
                .bind(order_id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((status, earlier)) = existing {
            let status = Status::parse(&status);
            if status == Status::Released {
                return Err(ReserveError::WrongState {
                    order_id: order_id.to_owned(),
                    status,
                    wanted: "reserved",
                });
            }
            if earlier != request {
                return Err(ReserveError::Conflict(order_id.to_owned()));
            }
            return Ok(Reservation::new(order_id, status, lines));
        }
        // ANCHOR_END: reserve_start
        // ANCHOR: reserve_take
        for (index, line) in lines.iter().enumerate() {
            let taken = sqlx::query(
                "UPDATE stock SET quantity = quantity - ?1 WHERE book_id = ?2 AND quantity >= ?1",
            )
            .bind(line.quantity)
            .bind(line.book_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if taken == 0 {
                // Dropping `tx` rolls back the lines taken so far.
                return Err(ReserveError::Short {
                    line: index,
                    book_id: line.book_id,
                });
            }
        }
        sqlx::query(
            "INSERT INTO reservations (order_id, status, request) VALUES (?1, 'reserved', ?2)",
        )
        .bind(order_id)
        .bind(&request)
        .execute(&mut *tx)
        .await?;
        for line in lines {
            sqlx::query(
                "INSERT INTO reservation_lines (order_id, book_id, quantity) VALUES (?1, ?2, ?3)",
            )
            .bind(order_id)
            .bind(line.book_id)
            .bind(line.quantity)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Reservation::new(order_id, Status::Reserved, lines))
    }
    // ANCHOR_END: reserve_take
    // ANCHOR_END: reserve

    /// `reserved` → `confirmed`; confirming twice is fine.
    pub async fn confirm(&self, order_id: &str) -> Result<Status, ReserveError> {
        let mut tx = self.pool.begin_with(WRITE_TRANSACTION).await?;
        match self.status(&mut tx, order_id).await? {
            Status::Reserved | Status::Confirmed => {}
            Status::Released => {
                return Err(ReserveError::WrongState {
                    order_id: order_id.to_owned(),
                    status: Status::Released,
                    wanted: "confirmed",
                });
            }
        }
        sqlx::query("UPDATE reservations SET status = 'confirmed' WHERE order_id = ?1")
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Status::Confirmed)
    }

    // ANCHOR: release
    // ANCHOR: release_tombstone
    /// `reserved` → `released`, putting the stock back; releasing twice is
    /// fine, and so is releasing an order that was never reserved (a saga
    /// compensating a step that did not happen). That release leaves a
    /// `released` row behind, so a reservation still on its way cannot
    /// take stock that nobody will give back.
    pub async fn release(&self, order_id: &str) -> Result<Status, ReserveError> {
        let mut tx = self.pool.begin_with(WRITE_TRANSACTION).await?;
        let status = match self.status(&mut tx, order_id).await {
            Err(ReserveError::Unknown(_)) => {
                sqlx::query(
                    "INSERT INTO reservations (order_id, status, request) \
                     VALUES (?1, 'released', '[]')",
                )
                .bind(order_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                return Ok(Status::Released);
            }
            other => other?,
        };
        // ANCHOR_END: release_tombstone
        match status {
            Status::Released => return Ok(Status::Released),
            Status::Confirmed => {
                return Err(ReserveError::WrongState {
                    order_id: order_id.to_owned(),
                    status,
                    wanted: "released",
                });
            }
            Status::Reserved => {}
        }
        sqlx::query(
            "UPDATE stock SET quantity = quantity + \
             (SELECT quantity FROM reservation_lines l WHERE l.order_id = ?1 AND l.book_id = stock.book_id) \
             WHERE book_id IN (SELECT book_id FROM reservation_lines WHERE order_id = ?1)",
        )
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE reservations SET status = 'released' WHERE order_id = ?1")
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Status::Released)
    }
    // ANCHOR_END: release

    /// A reservation with its lines, as it stands.
    pub async fn reservation(&self, order_id: &str) -> Result<Option<Reservation>, StoreError> {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM reservations WHERE order_id = ?1")
                .bind(order_id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(status) = status else {
            return Ok(None);
        };
        let lines: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT book_id, quantity FROM reservation_lines WHERE order_id = ?1 ORDER BY book_id",
        )
        .bind(order_id)
        .fetch_all(&self.pool)
        .await?;
        let lines: Vec<Line> = lines
            .into_iter()
            .map(|(book_id, quantity)| Line { book_id, quantity })
            .collect();
        Ok(Some(Reservation::new(
            order_id,
            Status::parse(&status),
            &lines,
        )))
    }

    async fn status(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        order_id: &str,
    ) -> Result<Status, ReserveError> {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM reservations WHERE order_id = ?1")
                .bind(order_id)
                .fetch_optional(&mut **tx)
                .await?;
        status
            .map(|s| Status::parse(&s))
            .ok_or_else(|| ReserveError::Unknown(order_id.to_owned()))
    }
}
