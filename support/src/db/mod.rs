//! The task manager's database, SQLite or PostgreSQL, with every query counted.
//!
//! Exercises run SQL through a [`Db`] handle rather than through `sqlx` directly: the handle
//! counts each statement (see [`crate::stats`]) and, when `WORKBOOK_QUERY_DELAY_MS` is set,
//! makes every query that much slower so that the effect of caching is easy to measure.
//! `DATABASE_URL` chooses the database: `sqlite://...` (the default, a file) or
//! `postgres://...`; the queries of [`query`], [`query_as`] and [`query_scalar`] run on both.
//!
//! ```no_run
//! # async fn demo(db: workbook::Db) -> workbook::db::Result<()> {
//! use workbook::model::Category;
//! let categories: Vec<Category> = db
//!     .fetch_all(workbook::db::query_as("SELECT id, name FROM categories ORDER BY name"))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! A list of single values, such as ids, is a list of one-column rows: `query_scalar` reads
//! one value (`fetch_scalar`), so ask `query_as` for tuples and take their first field.
//!
//! ```no_run
//! # async fn demo(db: workbook::Db) -> workbook::db::Result<()> {
//! let ids: Vec<i64> = db
//!     .fetch_all(workbook::db::query_as::<(i64,)>("SELECT id FROM categories"))
//!     .await?
//!     .into_iter()
//!     .map(|(id,)| id)
//!     .collect();
//! # Ok(()) }
//! ```

pub(crate) mod connections;
mod query;
mod row;
mod schema;

pub(crate) use row::row;

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::pool::PoolOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteRow};
use sqlx::{Database, FromRow, Postgres, Row, Sqlite};

pub use query::{Executed, Query, QueryAs, QueryScalar, Value, query, query_as, query_scalar};
/// What a query can fail with, and its result: exercise code names them through this module,
/// never through `sqlx`, which exercises do not depend on.
pub use sqlx::{AssertSqlSafe, Error, Result};

use crate::config::Config;
use crate::seed::Dataset;
use crate::{hold, profile, stats};

/// A handle on the database, cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Db {
    pool: Arc<Pool>,
    query_delay: Duration,
}

/// The connections of one [`Db`], to whichever database `DATABASE_URL` names.
#[derive(Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The databases the workbook runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The database a URL names: `sqlite:...` or `postgres:...` (`postgresql:...`).
    pub fn of_url(url: &str) -> anyhow::Result<Self> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme).unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => anyhow::bail!(
                "DATABASE_URL={url:?} names no database the workbook knows: use \
                 sqlite://FILE or postgres://USER@HOST/DATABASE"
            ),
        }
    }
}

/// A type the rows of a [`QueryAs`] are read into, on either database: anything that
/// derives `sqlx::FromRow` (with fields of the types below), or a tuple of them.
pub trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A type a [`QueryScalar`] returns, on either database: `i64`, `String`, `bool`, or an
/// `Option` of one of them.
pub trait Scalar:
    for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Sqlite>
    + for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
    + Send
    + Unpin
{
}
impl<T> Scalar for T where
    T: for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>
        + Send
        + Unpin
{
}

/// How many connections [`Db::open`] keeps.
const DEFAULT_POOL_SIZE: u32 = 5;

impl Db {
    /// Opens (creating if needed) the database named by `config`, seeded on first use.
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        Self::open_pool(config, DEFAULT_POOL_SIZE).await
    }

    /// Like [`Db::open`], with a pool that never holds more than `max_connections`
    /// connections: a request that finds them all busy waits for one to be free.
    pub async fn open_pool(config: &Config, max_connections: u32) -> anyhow::Result<Self> {
        let db = Self::with_pool(config, max_connections)?;
        db.prepare(config).await?;
        Ok(db)
    }

    /// Opens one new connection to a database that [`Db::open`] or [`Db::open_pool`] already
    /// prepared. The connection closes when the handle (and every clone) is dropped. This is
    /// what a service without a pool does on every request, and what a pool saves.
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        let db = Self::with_pool(config, 1)?;
        match &*db.pool {
            Pool::Sqlite(pool) => drop(pool.acquire().await?),
            Pool::Postgres(pool) => drop(pool.acquire().await?),
        }
        Ok(db)
    }

    /// Which database this handle talks to.
    pub fn backend(&self) -> Backend {
        match &*self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// A handle whose connections are opened on demand, each one counted.
    fn with_pool(config: &Config, max_connections: u32) -> anyhow::Result<Self> {
        let url = &config.database_url;
        let pool = match Backend::of_url(url)? {
            Backend::Sqlite => {
                let connect = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true);
                Pool::Sqlite(counted_pool(max_connections).connect_lazy_with(connect))
            }
            Backend::Postgres => {
                let connect = PgConnectOptions::from_str(url)?;
                Pool::Postgres(counted_pool(max_connections).connect_lazy_with(connect))
            }
        };
        // The grader's slow database comes with its key, never in the environment.
        let query_delay = config.query_delay.max(crate::from_grader::query_delay());
        Ok(Self { pool: connections::register(pool), query_delay })
    }

    /// Creates the tables and seeds an empty database.
    async fn prepare(&self, config: &Config) -> anyhow::Result<()> {
        let backend = self.backend();
        let tables = sqlx::raw_sql(schema::tables(backend));
        match &*self.pool {
            Pool::Sqlite(pool) => {
                tables.execute(pool).await?;
            }
            Pool::Postgres(pool) => {
                tables.execute(pool).await?;
            }
        }
        let users: i64 = self.run_scalar(query_scalar("SELECT COUNT(*) FROM users")).await?;
        if users == 0 {
            let data = Dataset::generate(config.seed, config.tasks);
            self.run_in_transaction(schema::seed(backend, &data)).await?;
        }
        Ok(())
    }

    /// Runs a query and returns every row, mapped to `O`.
    pub async fn fetch_all<O: Record>(&self, query: QueryAs<O>) -> sqlx::Result<Vec<O>> {
        let query = query.inner;
        self.counted(query.is_write(), async {
            match &*self.pool {
                Pool::Sqlite(pool) => query.sqlite().try_map(from_row).fetch_all(pool).await,
                Pool::Postgres(pool) => query.postgres().try_map(from_row).fetch_all(pool).await,
            }
        })
        .await
    }

    /// Runs a query and returns its first row, if any.
    pub async fn fetch_optional<O: Record>(&self, query: QueryAs<O>) -> sqlx::Result<Option<O>> {
        let query = query.inner;
        self.counted(query.is_write(), async {
            match &*self.pool {
                Pool::Sqlite(pool) => query.sqlite().try_map(from_row).fetch_optional(pool).await,
                Pool::Postgres(pool) => {
                    query.postgres().try_map(from_row).fetch_optional(pool).await
                }
            }
        })
        .await
    }

    /// Runs a query that returns a single value, such as `SELECT COUNT(*) ...`.
    pub async fn fetch_scalar<O: Scalar>(&self, query: QueryScalar<O>) -> sqlx::Result<O> {
        self.counted(query.inner.is_write(), self.run_scalar(query)).await
    }

    /// Runs an `INSERT`, `UPDATE` or `DELETE` (or `CREATE INDEX`, ...).
    pub async fn execute(&self, query: Query) -> sqlx::Result<Executed> {
        self.counted(query.is_write(), async {
            let rows_affected = match &*self.pool {
                Pool::Sqlite(pool) => query.sqlite().execute(pool).await?.rows_affected(),
                Pool::Postgres(pool) => query.postgres().execute(pool).await?.rows_affected(),
            };
            Ok(Executed::new(rows_affected))
        })
        .await
    }

    /// A scalar query, not counted (the support crate's own bookkeeping uses it too).
    async fn run_scalar<O: Scalar>(&self, query: QueryScalar<O>) -> sqlx::Result<O> {
        let query = query.inner;
        match &*self.pool {
            Pool::Sqlite(pool) => query.sqlite().try_map(first_column).fetch_one(pool).await,
            Pool::Postgres(pool) => query.postgres().try_map(first_column).fetch_one(pool).await,
        }
    }

    /// Runs `statements` in one transaction: all of them, or none.
    async fn run_in_transaction(&self, statements: Vec<Query>) -> sqlx::Result<()> {
        match &*self.pool {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                for statement in statements {
                    statement.sqlite().execute(&mut *tx).await?;
                }
                tx.commit().await
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                for statement in statements {
                    statement.postgres().execute(&mut *tx).await?;
                }
                tx.commit().await
            }
        }
    }

    /// Runs `query` with the configured delay, counting it for the process and for the
    /// current request's profile. The grader may hold a write before it runs, and any query
    /// once it has run (see [`hold`]).
    async fn counted<T>(&self, is_write: bool, query: impl Future<Output = T>) -> T {
        if is_write {
            hold::before_write().await;
        }
        stats::count_query();
        let started = Instant::now();
        if !self.query_delay.is_zero() {
            tokio::time::sleep(self.query_delay).await;
        }
        let output = query.await;
        hold::after_query().await;
        profile::record_query(started.elapsed());
        output
    }
}

impl Pool {
    /// Connections open now, idle or busy.
    pub(crate) fn size(&self) -> u32 {
        match self {
            Self::Sqlite(pool) => pool.size(),
            Self::Postgres(pool) => pool.size(),
        }
    }
}

/// Pool settings for either database: every new connection is counted, and connections live
/// as long as their pool, so the open-connection gauge only changes when the service opens
/// connections or drops a handle.
fn counted_pool<DB: Database>(max_connections: u32) -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(max_connections)
        .idle_timeout(None)
        .max_lifetime(None)
        .after_connect(|_conn, _meta| {
            Box::pin(async {
                connections::opened();
                Ok(())
            })
        })
}

fn from_row<R: Row, O: for<'r> FromRow<'r, R>>(row: R) -> sqlx::Result<O> {
    O::from_row(&row)
}

fn first_column<R, O>(row: R) -> sqlx::Result<O>
where
    R: Row,
    O: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    row.try_get(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::User;

    async fn temp_db(dir: &std::path::Path) -> Db {
        let config = Config {
            bind: "127.0.0.1:0".parse().unwrap(),
            database_url: format!("sqlite://{}", dir.join("test.sqlite3").display()),
            seed: 5,
            tasks: 30,
            query_delay: Duration::ZERO,
        };
        Db::open(&config).await.expect("open the test database")
    }

    #[tokio::test]
    async fn opening_seeds_the_generated_data_and_counts_queries() {
        let dir = tempfile::tempdir().unwrap();
        let db = temp_db(dir.path()).await;
        let before = stats::Stats::counters();
        let users: Vec<User> =
            db.fetch_all(query_as("SELECT id, username FROM users ORDER BY id")).await.unwrap();
        let tasks: i64 = db.fetch_scalar(query_scalar("SELECT COUNT(*) FROM tasks")).await.unwrap();
        assert_eq!(users, Dataset::generate(5, 30).users);
        assert_eq!(tasks, 30);
        assert!(stats::Stats::counters().since(&before).queries >= 2);
    }

    #[test]
    fn the_url_names_the_database() {
        assert_eq!(Backend::of_url("sqlite://workbook.sqlite3").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::of_url("postgres://me@localhost/tasks").unwrap(), Backend::Postgres);
        assert_eq!(Backend::of_url("postgresql://localhost").unwrap(), Backend::Postgres);
        let error = Backend::of_url("mysql://localhost/tasks").unwrap_err().to_string();
        assert!(error.contains("sqlite://FILE or postgres://"), "{error}");
    }

    #[tokio::test]
    async fn seeding_many_tasks_inserts_them_in_several_statements() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            bind: "127.0.0.1:0".parse().unwrap(),
            database_url: format!("sqlite://{}", dir.path().join("many.sqlite3").display()),
            seed: 5,
            tasks: 1234,
            query_delay: Duration::ZERO,
        };
        let db = Db::open(&config).await.unwrap();
        let tasks: Vec<crate::model::Task> = db
            .fetch_all(query_as(
                "SELECT id, title, done, category_id, owner_id FROM tasks ORDER BY id",
            ))
            .await
            .unwrap();
        assert_eq!(tasks, Dataset::generate(5, 1234).tasks);
    }

    #[tokio::test]
    async fn a_profile_counts_the_queries_of_its_request_only() {
        let dir = tempfile::tempdir().unwrap();
        let pooled = temp_db(dir.path()).await;
        let config = Config {
            bind: "127.0.0.1:0".parse().unwrap(),
            database_url: format!("sqlite://{}", dir.path().join("test.sqlite3").display()),
            seed: 5,
            tasks: 30,
            query_delay: Duration::ZERO,
        };
        let count = || query_scalar::<i64>("SELECT COUNT(*) FROM tasks");
        let ((), profile) = crate::profile::profiled(async {
            pooled.fetch_scalar(count()).await.unwrap();
            let single = Db::connect(&config).await.unwrap();
            single.fetch_scalar(count()).await.unwrap();
        })
        .await;
        pooled.fetch_scalar(count()).await.unwrap();
        assert_eq!(profile.queries, 2);
        assert!(profile.db_time > Duration::ZERO);
    }

    #[tokio::test]
    async fn reopening_does_not_seed_twice() {
        let dir = tempfile::tempdir().unwrap();
        drop(temp_db(dir.path()).await);
        let db = temp_db(dir.path()).await;
        let tasks: i64 = db.fetch_scalar(query_scalar("SELECT COUNT(*) FROM tasks")).await.unwrap();
        assert_eq!(tasks, 30);
    }
}
