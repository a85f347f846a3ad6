//! Exercise 6 — query optimisation verified (reference solution).
//!
//! The task list of one category, served the way a busy site needs it:
//! - a constant number of queries whatever the number of tasks ([`tasks`]);
//! - an index for the filter, created at start-up ([`tasks::create_indexes`]);
//! - a bounded pool of database connections and one shared Redis connection, both opened once
//!   ([`app`], [`cache`]);
//! - a `Server-Timing` header on every answer and a page of the slowest recent requests
//!   ([`profiling`], [`slow_log`]).

mod cache;
mod profiling;
mod routes;
mod settings;
mod slow_log;
mod tasks;

use cache::Cache;
use settings::CacheSettings;
use slow_log::SlowLog;
use workbook::{App, Context, Db};

// ANCHOR: todo_app
// ANCHOR: pool_size
/// Database connections the service may hold at once. SQLite runs one writer at a time and
/// this box has few cores: a handful of connections keeps every core busy, more only queue up
/// inside SQLite. Requests beyond that wait for a free connection instead of opening one.
const DB_POOL_SIZE: u32 = 4;
// ANCHOR_END: pool_size

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub cache: Cache,
    pub slow_log: SlowLog,
}

// ANCHOR: startup
/// The service: its routes and its health check, built from the workbook's [`Context`]. The
/// workbook's `main` (`main.rs`) serves it, behind the workbook's own routes.
pub async fn app(context: Context) -> anyhow::Result<App> {
    let config = context.config;
    // Opened once, shared by every request: the counterpart of Django's CONN_MAX_AGE.
    let db = Db::open_pool(&config, DB_POOL_SIZE).await?;
    tasks::create_indexes(&db).await?;
    let cache = Cache::connect(CacheSettings::from_env()?)?;
    // ANCHOR_END: startup

    let health_cache = cache.clone();
    Ok(App::new(routes::router(AppState { db, cache, slow_log: SlowLog::default() })).health_check(
        "redis",
        move || {
            let cache = health_cache.clone();
            async move { cache.ping().await.map_err(|err| err.to_string()) }
        },
    ))
}
// ANCHOR_END: todo_app
