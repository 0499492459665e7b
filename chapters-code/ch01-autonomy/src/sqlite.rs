//! Opening a service's own SQLite database: the connection settings every
//! Bookshop service uses, and its migrations run at start.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::http::StatusCode;
use sqlx::SqliteConnection;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use tokio::sync::Notify;
use tokio::sync::futures::Notified;

use crate::problem::Problem;

/// Why a database could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid database URL {url:?}: {source}")]
    BadUrl { url: String, source: sqlx::Error },
    #[error("cannot create the database directory {dir}: {source}")]
    CreateDir { dir: String, source: std::io::Error },
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl DbError {
    /// True when the database cannot be reached at all (as opposed to a bad query).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            DbError::Database(
                sqlx::Error::PoolClosed | sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)
            )
        )
    }
}

/// Seconds a client should wait before retrying when the database is away.
const RETRY_AFTER_SECS: u32 = 1;

// ANCHOR: db_problem
/// A database that is away is the service's problem, not the client's:
/// 503 with `Retry-After`. Any other database error is a 500 whose cause
/// goes to the log, never to the client.
impl From<DbError> for Problem {
    fn from(err: DbError) -> Self {
        if err.is_unavailable() {
            tracing::warn!(%err, "database unavailable");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the service's database is unavailable; try again shortly",
            )
            .with_retry_after(RETRY_AFTER_SECS)
        } else {
            tracing::error!(%err, "database error");
            Problem::internal()
        }
    }
}
// ANCHOR_END: db_problem

// ANCHOR: open
/// Opens (creating if needed) the database at `url` and brings its schema
/// up to date with `migrator`. Migrations are compiled into the binary, so
/// a service can be deployed alone: one file, no setup script.
pub async fn open(url: &str, migrator: &Migrator) -> Result<SqlitePool, DbError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|source| DbError::BadUrl {
            url: url.to_owned(),
            source,
        })?
        .create_if_missing(true)
        // Readers don't wait for the writer, and the writer doesn't wait for readers.
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        // A writer waits up to 5 s for the lock instead of failing at once.
        .busy_timeout(Duration::from_secs(5));
    create_parent_dir(options.get_filename())?;
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(options)
        .await?;
    migrator.run(&pool).await?;
    Ok(pool)
}
// ANCHOR_END: open

/// Answers when the database does: what every `/health/ready` asks.
pub async fn ping(pool: &SqlitePool) -> Result<(), DbError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}

fn create_parent_dir(file: &Path) -> Result<(), DbError> {
    let Some(dir) = file.parent().filter(|dir| !dir.as_os_str().is_empty()) else {
        return Ok(());
    };
    std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
        dir: dir.display().to_string(),
        source,
    })
}

// ANCHOR: commits
/// Rung after a commit that someone in this process may be waiting for
/// (from chapter 7, orders' new events: the relay publishes them at once
/// instead of at its next poll). Nobody listening costs nothing.
static COMMITTED: Notify = Notify::const_new();

/// Wakes every task waiting in [`next_commit`]. Call it after the
/// transaction has committed, never before: a woken reader must see it.
pub fn announce_commit() {
    COMMITTED.notify_waiters();
}

/// Completes at the next [`announce_commit`]. Call `enable()` on it before
/// looking for work, so a commit made while you look is not missed.
pub fn next_commit() -> Notified<'static> {
    COMMITTED.notified()
}
// ANCHOR_END: commits

// ANCHOR: every_transaction
/// What a transaction hook returns: statements run on the transaction's
/// connection before its own.
pub type BoxedQuery<'c> = Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 'c>>;

/// Statements a later chapter runs at the start of the write transactions
/// that ask for them (chapter 7: the trace context for the outbox).
static EVERY_TRANSACTION: OnceLock<fn(&mut SqliteConnection) -> BoxedQuery<'_>> = OnceLock::new();

/// Installs `hook` for this process. Returns `false` (and changes
/// nothing) if one was installed before.
pub fn add_to_every_transaction(hook: fn(&mut SqliteConnection) -> BoxedQuery<'_>) -> bool {
    EVERY_TRANSACTION.set(hook).is_ok()
}

/// Runs the installed hook, if any, on `connection` (a transaction's).
pub async fn prepare_transaction(connection: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    match EVERY_TRANSACTION.get() {
        Some(hook) => hook(connection).await,
        None => Ok(()),
    }
}
// ANCHOR_END: every_transaction
