//! The orders service's own database.

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqlitePool;

use super::model::{NewOrder, Order, OrderLine};
use crate::catalog_client::PriceList;
use ch01_autonomy::sqlite;

pub use ch01_autonomy::sqlite::DbError as StoreError;

/// The orders schema; a later chapter adds its own migrations after these.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// What an idempotency key was first used for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedOrder {
    pub order: Order,
    pub request_hash: String,
}

/// Saving failed because another request took the idempotency key first.
#[derive(Debug)]
pub enum CreateOutcome {
    Created(Order),
    KeyTaken,
}

#[derive(Debug, sqlx::FromRow)]
struct OrderRow {
    id: i64,
    customer: String,
    status: String,
    total_cents: i64,
    created_at: String,
    request_hash: Option<String>,
}

const SELECT_ORDER: &str = "SELECT id, customer, status, total_cents, created_at, request_hash \
                            FROM orders WHERE id = ?1";

#[derive(Debug, Clone)]
pub struct OrderStore {
    pool: SqlitePool,
}

impl OrderStore {
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let pool = sqlite::open(url, &MIGRATOR).await?;
        Ok(Self { pool })
    }

    /// Over a pool opened (and migrated) elsewhere: a later chapter's
    /// orders keeps more tables in the same database.
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self { pool }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlite::ping(&self.pool).await
    }

    // ANCHOR: create
    /// Stores the order and its lines in one transaction, priced from
    /// `prices`. With a key, a concurrent request that used the same key
    /// first wins, and this one reports [`CreateOutcome::KeyTaken`].
    pub async fn create(
        &self,
        order: &NewOrder,
        prices: &PriceList,
        key: Option<(&str, &str)>,
    ) -> Result<CreateOutcome, StoreError> {
        let lines: Vec<OrderLine> = order
            .lines
            .iter()
            .filter_map(|line| {
                let book = prices.found.get(&line.book_id)?;
                Some(OrderLine {
                    book_id: line.book_id,
                    title: book.title.clone(),
                    unit_price_cents: book.price_cents,
                    quantity: line.quantity,
                })
            })
            .collect();
        let total_cents = lines
            .iter()
            .map(|line| line.unit_price_cents * line.quantity)
            .sum::<i64>();
        let (idempotency_key, request_hash) = key.unzip();
        // ANCHOR_END: create

        // ANCHOR: create_tx
        let mut tx = self.pool.begin().await?;
        sqlite::prepare_transaction(&mut tx).await?; // chapter 7: trace context
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO orders (customer, status, total_cents, idempotency_key, request_hash) \
             VALUES (?1, 'pending', ?2, ?3, ?4) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        )
        .bind(&order.customer)
        .bind(total_cents)
        .bind(idempotency_key)
        .bind(request_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = inserted else {
            return Ok(CreateOutcome::KeyTaken);
        };
        for (line_no, line) in lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO order_lines \
                 (order_id, line_no, book_id, title, unit_price_cents, quantity) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(id)
            .bind(i64::try_from(line_no).unwrap_or(i64::MAX))
            .bind(line.book_id)
            .bind(&line.title)
            .bind(line.unit_price_cents)
            .bind(line.quantity)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        sqlite::announce_commit(); // chapter 7: the relay's wake-up call
        let created = self.get(id).await?.ok_or(sqlx::Error::RowNotFound)?;
        Ok(CreateOutcome::Created(created))
    }
    // ANCHOR_END: create_tx

    pub async fn get(&self, id: i64) -> Result<Option<Order>, StoreError> {
        let Some(row) = sqlx::query_as::<_, OrderRow>(SELECT_ORDER)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(self.with_lines(row).await?.order))
    }

    /// The order first placed with this idempotency key, if any.
    pub async fn find_by_key(&self, key: &str) -> Result<Option<KeyedOrder>, StoreError> {
        let row = sqlx::query_as::<_, OrderRow>(
            "SELECT id, customer, status, total_cents, created_at, request_hash \
             FROM orders WHERE idempotency_key = ?1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Some(self.with_lines(row).await?)),
            None => Ok(None),
        }
    }

    /// A customer's orders, newest first, at most `limit`.
    pub async fn list_for_customer(
        &self,
        customer: &str,
        limit: u32,
    ) -> Result<Vec<Order>, StoreError> {
        let rows = sqlx::query_as::<_, OrderRow>(
            "SELECT id, customer, status, total_cents, created_at, request_hash \
             FROM orders WHERE customer = ?1 ORDER BY id DESC LIMIT ?2",
        )
        .bind(customer)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut orders = Vec::with_capacity(rows.len());
        for row in rows {
            orders.push(self.with_lines(row).await?.order);
        }
        Ok(orders)
    }

    async fn with_lines(&self, row: OrderRow) -> Result<KeyedOrder, StoreError> {
        let lines = sqlx::query_as::<_, OrderLine>(
            "SELECT book_id, title, unit_price_cents, quantity \
             FROM order_lines WHERE order_id = ?1 ORDER BY line_no",
        )
        .bind(row.id)
        .fetch_all(&self.pool)
        .await?;
        Ok(KeyedOrder {
            order: Order {
                id: row.id,
                customer: row.customer,
                status: row.status,
                lines,
                total_cents: row.total_cents,
                created_at: row.created_at,
            },
            request_hash: row.request_hash.unwrap_or_default(),
        })
    }
}
