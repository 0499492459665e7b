//! The identity service's own database: users and their password hashes.

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqlitePool;

use super::model::User;
use ch01_autonomy::sqlite;

pub use ch01_autonomy::sqlite::DbError as StoreError;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone)]
pub struct UserStore {
    pool: SqlitePool,
}

impl UserStore {
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Ok(Self {
            pool: sqlite::open(url, &MIGRATOR).await?,
        })
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlite::ping(&self.pool).await
    }

    /// `None` when the name is taken (names compare without case).
    pub async fn create(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<Option<User>, StoreError> {
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO users (username, password_hash) VALUES (?1, ?2) \
             ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(username)
        .bind(password_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.map(|id| User {
            id,
            username: username.to_owned(),
        }))
    }

    /// The stored hash for `username`, if the user exists.
    pub async fn password_hash(
        &self,
        username: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query_as::<_, (String, String)>(
            "SELECT username, password_hash FROM users WHERE username = ?1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row)
    }
}
