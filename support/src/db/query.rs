//! The workbook's query builders: SQL and its parameters, run on SQLite or PostgreSQL.
//!
//! They look like sqlx's own `query`, `query_as` and `query_scalar`, but they are not tied to
//! one database: [`crate::Db`] decides where they run. Write parameters as `$1`, `$2`, ...
//! (both databases understand them) and bind integers, text and booleans.
//!
//! ```no_run
//! # async fn demo(db: workbook::Db) -> sqlx::Result<()> {
//! use workbook::db::query_scalar;
//! let open: i64 = db
//!     .fetch_scalar(query_scalar("SELECT COUNT(*) FROM tasks WHERE owner_id = $1 AND NOT done").bind(1))
//!     .await?;
//! # Ok(()) }
//! ```

use std::marker::PhantomData;

use sqlx::postgres::PgArguments;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Postgres, SqlSafeStr, SqlStr, Sqlite};

/// A value bound to a `$n` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Self::Int(Some(value))
    }
}

impl From<Option<i64>> for Value {
    fn from(value: Option<i64>) -> Self {
        Self::Int(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Self::Bool(Some(value))
    }
}

impl From<Option<bool>> for Value {
    fn from(value: Option<bool>) -> Self {
        Self::Bool(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Self::Text(Some(value.to_owned()))
    }
}

impl From<&String> for Value {
    fn from(value: &String) -> Self {
        Self::Text(Some(value.clone()))
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Self::Text(Some(value))
    }
}

impl From<Option<String>> for Value {
    fn from(value: Option<String>) -> Self {
        Self::Text(value)
    }
}

/// Binds each [`Value`] to an sqlx query of either database (the same code, other types).
macro_rules! bind_all {
    ($query:expr, $params:expr) => {
        $params.into_iter().fold($query, |query, value| match value {
            Value::Int(value) => query.bind(value),
            Value::Text(value) => query.bind(value),
            Value::Bool(value) => query.bind(value),
        })
    };
}

/// A statement that returns no rows (`INSERT`, `UPDATE`, `DELETE`, `CREATE INDEX`), for
/// [`crate::Db::execute`].
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until a `Db` runs it"]
pub struct Query {
    sql: SqlStr,
    params: Vec<Value>,
}

/// A query whose rows are read into `O` (a struct that derives `sqlx::FromRow`, or a tuple),
/// for [`crate::Db::fetch_all`] and [`crate::Db::fetch_optional`].
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until a `Db` runs it"]
pub struct QueryAs<O> {
    pub(crate) inner: Query,
    row: PhantomData<fn() -> O>,
}

/// A query that returns one value, such as `SELECT COUNT(*) ...`, for
/// [`crate::Db::fetch_scalar`].
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until a `Db` runs it"]
pub struct QueryScalar<O> {
    pub(crate) inner: Query,
    value: PhantomData<fn() -> O>,
}

/// A statement without results. `sql` is a string literal; wrap a string built at run time in
/// [`sqlx::AssertSqlSafe`] once you are sure it holds no user input (bind that instead).
pub fn query(sql: impl SqlSafeStr) -> Query {
    Query { sql: sql.into_sql_str(), params: Vec::new() }
}

/// A query whose rows are read into `O`.
pub fn query_as<O>(sql: impl SqlSafeStr) -> QueryAs<O> {
    QueryAs { inner: query(sql), row: PhantomData }
}

/// A query that returns a single value of type `O`.
pub fn query_scalar<O>(sql: impl SqlSafeStr) -> QueryScalar<O> {
    QueryScalar { inner: query(sql), value: PhantomData }
}

impl Query {
    /// Binds the next `$n` parameter.
    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.params.push(value.into());
        self
    }

    /// Whether the statement changes data (`INSERT`, `UPDATE`, `DELETE`), by its first word.
    pub(crate) fn is_write(&self) -> bool {
        let first = self.sql.as_str().split_whitespace().next().unwrap_or_default();
        ["INSERT", "UPDATE", "DELETE"].iter().any(|word| first.eq_ignore_ascii_case(word))
    }

    pub(crate) fn sqlite(self) -> sqlx::query::Query<'static, Sqlite, SqliteArguments> {
        bind_all!(sqlx::query(self.sql), self.params)
    }

    pub(crate) fn postgres(self) -> sqlx::query::Query<'static, Postgres, PgArguments> {
        bind_all!(sqlx::query(self.sql), self.params)
    }
}

impl<O> QueryAs<O> {
    /// Binds the next `$n` parameter.
    pub fn bind(self, value: impl Into<Value>) -> Self {
        Self { inner: self.inner.bind(value), row: PhantomData }
    }
}

impl<O> QueryScalar<O> {
    /// Binds the next `$n` parameter.
    pub fn bind(self, value: impl Into<Value>) -> Self {
        Self { inner: self.inner.bind(value), value: PhantomData }
    }
}

/// What [`crate::Db::execute`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Executed {
    rows_affected: u64,
}

impl Executed {
    pub(crate) fn new(rows_affected: u64) -> Self {
        Self { rows_affected }
    }

    /// How many rows the statement inserted, changed or deleted.
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}
