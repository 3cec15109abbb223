//! The store: one `Db` enum over SQLite and PostgreSQL, transactions, migrations; all SQL lives in db/.
//!
//! Each statement is written once with `$1…` placeholders, which both drivers accept, and
//! run through [`on_db!`] / `tx::on_tx!`, which expand to a `match` with one arm per driver
//! (the query builder is generic, so each arm type-checks against its own driver).
//! We do not use `sqlx::Any`: it cannot carry timestamps.

pub mod billing;
pub mod checkouts;
pub mod companies;
pub mod contracts;
pub mod coupons;
pub mod customers;
pub mod idempotency;
pub mod links;
pub mod onetimes;
pub mod pricings;
pub mod products;
pub mod provider_events;
pub mod rate_limits;
pub mod request;
pub mod rows;
pub mod settings;
pub mod tx;
pub mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

/// A database failure. Constraint violations are told apart so callers can map them to field errors.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unique constraint violated: {0}")]
    Unique(String),
    #[error(transparent)]
    Sqlx(sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Text the store cannot hold (PostgreSQL refuses NUL bytes): bad input, not a fault of ours.
    #[error("text the database cannot store: {0}")]
    InvalidText(String),
}

impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err
            && db.kind() == sqlx::error::ErrorKind::UniqueViolation
        {
            return DbError::Unique(db.message().to_string());
        }
        // 22021: character_not_in_repertoire, 22P05: untranslatable_character.
        if let sqlx::Error::Database(db) = &err
            && matches!(db.code().as_deref(), Some("22021" | "22P05"))
        {
            return DbError::InvalidText(db.message().to_string());
        }
        DbError::Sqlx(err)
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// The connection pool, for whichever store `DATABASE_URL` names.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Run `$body` with `$pool` bound to the concrete pool of `$db`.
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {{
        $crate::db::request::count();
        // A transaction parked for the request's idempotent answer commits before anything else.
        match $crate::db::request::flush().await {
            Err(e) => Err(e),
            Ok(()) => match $db {
                $crate::db::Db::Sqlite($pool) => $body,
                $crate::db::Db::Postgres($pool) => $body,
            },
        }
    }};
}
/// Execute the statement `$query` (an `sqlx::query(…)` with its binds) on the pool of `$db`,
/// answering how many rows it changed.
macro_rules! exec_db {
    ($db:expr, $query:expr) => {
        $crate::db::on_db!($db, |pool| $query.execute(pool).await.map(|r| r.rows_affected()))
    };
}
pub(crate) use {exec_db, on_db};

/// Why the store could not be opened, in words fit for a one-line CLI error.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("DATABASE_URL must start with sqlite:// or postgres:// (got '{0}')")]
    Scheme(String),
    #[error("invalid DATABASE_URL: {0}")]
    Url(String),
    #[error("cannot reach the database: {0}")]
    Unreachable(String),
    #[error("migrating the database failed: {0}")]
    Migrate(String),
}

impl Db {
    /// Open a pool for `url`: `sqlite://path` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db, ConnectError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| ConnectError::Url(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            // No ping before each use (`test_before_acquire`): it was a round trip per query, and
            // a SQLite file does not go away under an open connection.
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(|e| ConnectError::Unreachable(e.to_string()))?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url).map_err(|e| ConnectError::Url(e.to_string()))?;
            // No ping before each use (`test_before_acquire`): a round trip per query. A connection
            // PostgreSQL dropped fails its next statement and is discarded by the pool; `/readyz`
            // runs `SELECT 1` on every call, so a dead server is still noticed there.
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(|e| ConnectError::Unreachable(e.to_string()))?;
            Ok(Db::Postgres(pool))
        } else {
            Err(ConnectError::Scheme(url.chars().take(40).collect()))
        }
    }

    /// Apply the migrations of this store's dialect.
    pub async fn migrate(&self) -> Result<(), ConnectError> {
        let result = match self {
            Db::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await,
            Db::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await,
        };
        result.map_err(|e| ConnectError::Migrate(e.to_string()))
    }

    /// One round trip, for `/readyz`.
    pub async fn ping(&self) -> DbResult<()> {
        exec_db!(self, sqlx::query("SELECT 1"))?;
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }
}

/// `$start, $start+1, …` placeholders for an `IN (…)` list of `n` values.
pub fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// One page of a cursor-paginated list, newest first. Ids sort by creation time
/// (see `domain::ids`), so the cursor is simply the last id of the previous page.
#[derive(Clone, Debug)]
pub struct Page {
    /// Return rows older than this id.
    pub cursor: Option<String>,
    pub limit: i64,
    pub include_archived: bool,
}

impl Page {
    /// One row more than asked for, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }
}
