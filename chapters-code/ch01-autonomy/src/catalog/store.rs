//! The catalog's own database. Nothing outside this module knows that it is
//! SQLite, what the tables are called, or that authors live in a table of
//! their own: that freedom is what owning your data buys.

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqlitePool;

use super::model::{Book, NewBook};
use crate::sqlite;

/// The catalog's errors are those of its database.
pub use crate::sqlite::DbError as StoreError;

/// The catalog's schema, compiled into the binary.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Filters and paging for a list of books.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookQuery {
    pub author: Option<String>,
    pub text: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// One page of books and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookPage {
    pub books: Vec<Book>,
    pub total: i64,
}

/// Handle to the catalog's database; cheap to clone (it is a pool).
#[derive(Debug, Clone)]
pub struct BookStore {
    pool: SqlitePool,
}

// The SQL is assembled at compile time from literal pieces: sqlx 0.9 accepts
// only `&'static str` queries unless you vouch for a dynamic string.
macro_rules! select_books {
    () => {
        "SELECT b.id, b.title, a.name AS author, b.published_year, b.price_cents \
         FROM books b JOIN authors a ON a.id = b.author_id"
    };
}

/// `?1` is the author filter, `?2` the free-text search; both may be NULL.
macro_rules! where_filters {
    () => {
        " WHERE (?1 IS NULL OR a.name LIKE '%' || ?1 || '%' ESCAPE '\\') \
         AND (?2 IS NULL OR b.title LIKE '%' || ?2 || '%' ESCAPE '\\' \
                         OR a.name LIKE '%' || ?2 || '%' ESCAPE '\\')"
    };
}

const LIST_BOOKS: &str = concat!(
    select_books!(),
    where_filters!(),
    " ORDER BY b.id LIMIT ?3 OFFSET ?4"
);
const COUNT_BOOKS: &str = concat!(
    "SELECT count(*) FROM books b JOIN authors a ON a.id = b.author_id",
    where_filters!()
);
const GET_BOOK: &str = concat!(select_books!(), " WHERE b.id = ?1");

impl BookStore {
    /// Opens the catalog's own database, creating and migrating it.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let pool = sqlite::open(url, &MIGRATOR).await?;
        Ok(Self { pool })
    }

    /// Answers when the database does: what `/health/ready` asks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlite::ping(&self.pool).await
    }

    /// Closes every connection. Afterwards every call fails as unavailable.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ANCHOR: list
    pub async fn list(&self, query: &BookQuery) -> Result<BookPage, StoreError> {
        let author = query.author.as_deref().map(escape_like);
        let text = query.text.as_deref().map(escape_like);
        // One read transaction: the page and the total come from the same snapshot.
        let mut tx = self.pool.begin().await?;
        let books = sqlx::query_as::<_, Book>(LIST_BOOKS)
            .bind(&author)
            .bind(&text)
            .bind(query.limit)
            .bind(query.offset)
            .fetch_all(&mut *tx)
            .await?;
        let total: i64 = sqlx::query_scalar(COUNT_BOOKS)
            .bind(&author)
            .bind(&text)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(BookPage { books, total })
    }
    // ANCHOR_END: list

    pub async fn get(&self, id: i64) -> Result<Option<Book>, StoreError> {
        let book = sqlx::query_as::<_, Book>(GET_BOOK)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(book)
    }

    // ANCHOR: create
    /// Adds a book, and its author if the catalog does not know them yet,
    /// in one transaction: either both rows exist afterwards or neither.
    pub async fn create(&self, book: &NewBook) -> Result<Book, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO authors (name) VALUES (?1) ON CONFLICT (name) DO NOTHING")
            .bind(&book.author)
            .execute(&mut *tx)
            .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO books (title, author_id, published_year, price_cents) \
             VALUES (?1, (SELECT id FROM authors WHERE name = ?2), ?3, ?4) RETURNING id",
        )
        .bind(&book.title)
        .bind(&book.author)
        .bind(book.published_year)
        .bind(book.price_cents)
        .fetch_one(&mut *tx)
        .await?;
        let created = sqlx::query_as::<_, Book>(GET_BOOK)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(created)
    }
    // ANCHOR_END: create
}

/// `%` and `_` typed by a user are literal characters, not wildcards.
fn escape_like(input: &str) -> String {
    let mut escaped = String::with_capacity(input.len());
    for c in input.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
