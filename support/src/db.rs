//! The task manager's SQLite database, with every query counted.
//!
//! Exercises run SQL through a [`Db`] handle rather than through `sqlx` directly: the handle
//! counts each statement (see [`crate::stats`]) and, when `WORKBOOK_QUERY_DELAY_MS` is set,
//! makes every query that much slower so that the effect of caching is easy to measure.
//!
//! ```no_run
//! # async fn demo(db: workbook::Db) -> sqlx::Result<()> {
//! use workbook::model::Category;
//! let categories: Vec<Category> = db
//!     .fetch_all(sqlx::query_as("SELECT id, name FROM categories ORDER BY name"))
//!     .await?;
//! # Ok(()) }
//! ```

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteQueryResult, SqliteRow,
};
use sqlx::{FromRow, Sqlite};

use crate::config::Config;
use crate::seed::Dataset;
use crate::{connections, hold, profile, stats};

/// A handle on the database, cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Db {
    pool: Arc<SqlitePool>,
    query_delay: Duration,
}

/// How many connections [`Db::open`] keeps.
const DEFAULT_POOL_SIZE: u32 = 5;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE
    );
    CREATE TABLE IF NOT EXISTS categories (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE IF NOT EXISTS tasks (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        done BOOLEAN NOT NULL DEFAULT FALSE,
        category_id INTEGER NOT NULL REFERENCES categories(id) ON DELETE CASCADE,
        owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE
    );
";

impl Db {
    /// Opens (creating if needed) the database named by `config`, seeded on first use.
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        Self::open_pool(config, DEFAULT_POOL_SIZE).await
    }

    /// Like [`Db::open`], with a pool that never holds more than `max_connections`
    /// connections: a request that finds them all busy waits for one to be free.
    pub async fn open_pool(config: &Config, max_connections: u32) -> anyhow::Result<Self> {
        let db =
            Self::with_pool(config, SqlitePoolOptions::new().max_connections(max_connections))?;
        db.prepare(config).await?;
        Ok(db)
    }

    /// Opens one new connection to a database that [`Db::open`] or [`Db::open_pool`] already
    /// prepared. The connection closes when the handle (and every clone) is dropped. This is
    /// what a service without a pool does on every request, and what a pool saves.
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        let db = Self::with_pool(config, SqlitePoolOptions::new().max_connections(1))?;
        db.pool.acquire().await?;
        Ok(db)
    }

    /// A handle whose connections are opened on demand, each one counted.
    fn with_pool(config: &Config, options: SqlitePoolOptions) -> anyhow::Result<Self> {
        let connect = SqliteConnectOptions::from_str(&config.database_url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = options
            // Connections live as long as their pool, so the open-connection gauge only
            // changes when the service opens connections or drops a handle.
            .idle_timeout(None)
            .max_lifetime(None)
            .after_connect(|_conn, _meta| {
                Box::pin(async {
                    connections::opened();
                    Ok(())
                })
            })
            .connect_lazy_with(connect);
        Ok(Self { pool: connections::register(pool), query_delay: config.query_delay })
    }

    /// Creates the tables and seeds an empty database.
    async fn prepare(&self, config: &Config) -> anyhow::Result<()> {
        sqlx::raw_sql(SCHEMA).execute(&*self.pool).await?;
        self.seed_if_empty(&Dataset::generate(config.seed, config.tasks)).await?;
        Ok(())
    }

    /// Runs a query and returns every row, mapped to `O`.
    pub async fn fetch_all<'q, O>(
        &self,
        query: QueryAs<'q, Sqlite, O, SqliteArguments>,
    ) -> sqlx::Result<Vec<O>>
    where
        O: Send + Unpin + for<'r> FromRow<'r, SqliteRow>,
    {
        self.counted(query.fetch_all(&*self.pool)).await
    }

    /// Runs a query and returns its first row, if any.
    pub async fn fetch_optional<'q, O>(
        &self,
        query: QueryAs<'q, Sqlite, O, SqliteArguments>,
    ) -> sqlx::Result<Option<O>>
    where
        O: Send + Unpin + for<'r> FromRow<'r, SqliteRow>,
    {
        self.counted(query.fetch_optional(&*self.pool)).await
    }

    /// Runs a query that returns a single value, such as `SELECT COUNT(*) ...`.
    pub async fn fetch_scalar<'q, O>(
        &self,
        query: QueryScalar<'q, Sqlite, O, SqliteArguments>,
    ) -> sqlx::Result<O>
    where
        O: Send + Unpin,
        (O,): for<'r> FromRow<'r, SqliteRow>,
    {
        self.counted(query.fetch_one(&*self.pool)).await
    }

    /// Runs an `INSERT`, `UPDATE` or `DELETE`.
    pub async fn execute<'q>(
        &self,
        query: Query<'q, Sqlite, SqliteArguments>,
    ) -> sqlx::Result<SqliteQueryResult> {
        self.counted(query.execute(&*self.pool)).await
    }

    /// Runs `query` with the configured delay, counting it for the process and for the
    /// current request's profile. The grader may hold it once it has run (see [`hold`]).
    async fn counted<T>(&self, query: impl Future<Output = T>) -> T {
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

    /// Fills an empty database with `data`; a database that has users is left alone.
    async fn seed_if_empty(&self, data: &Dataset) -> sqlx::Result<()> {
        let users: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&*self.pool).await?;
        if users > 0 {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for user in &data.users {
            sqlx::query("INSERT INTO users (id, username) VALUES (?, ?)")
                .bind(user.id)
                .bind(&user.username)
                .execute(&mut *tx)
                .await?;
        }
        for category in &data.categories {
            sqlx::query("INSERT INTO categories (id, name) VALUES (?, ?)")
                .bind(category.id)
                .bind(&category.name)
                .execute(&mut *tx)
                .await?;
        }
        for task in &data.tasks {
            sqlx::query(
                "INSERT INTO tasks (id, title, done, category_id, owner_id) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(task.id)
            .bind(&task.title)
            .bind(task.done)
            .bind(task.category_id)
            .bind(task.owner_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }
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
        let before = stats::Stats::now();
        let users: Vec<User> = db
            .fetch_all(sqlx::query_as("SELECT id, username FROM users ORDER BY id"))
            .await
            .unwrap();
        let tasks: i64 =
            db.fetch_scalar(sqlx::query_scalar("SELECT COUNT(*) FROM tasks")).await.unwrap();
        assert_eq!(users, Dataset::generate(5, 30).users);
        assert_eq!(tasks, 30);
        assert!(stats::Stats::now().since(&before).queries >= 2);
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
        let count = || sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM tasks");
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
        let tasks: i64 =
            db.fetch_scalar(sqlx::query_scalar("SELECT COUNT(*) FROM tasks")).await.unwrap();
        assert_eq!(tasks, 30);
    }
}
