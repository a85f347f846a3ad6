//! Exercise 1 — Redis configured and running.
//!
//! Wire Redis into the task manager. The chapter "Setting up Redis" in the book walks through
//! every step; the grader checks each one:
//!
//! ```text
//! cargo run -p grader -- 1
//! ```
//!
//! The files to complete, in order: `settings.rs`, `cache.rs`, `sessions.rs`.
//! `routes.rs` and the `app` below are already wired up.

mod cache;
mod routes;
mod sessions;
mod settings;

use cache::Cache;
use settings::CacheSettings;
use workbook::{App, Context, Db};

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub cache: Cache,
    pub db: Db,
}

/// The service: its routes and its health check, built from the workbook's [`Context`]. The
/// workbook's `main` (`main.rs`) serves it, behind the workbook's own routes.
pub async fn app(context: Context) -> anyhow::Result<App> {
    let config = context.config;
    let settings = CacheSettings::from_env()?;
    let cache = Cache::connect(settings)?;
    let db = Db::open(&config).await?;

    let health_cache = cache.clone();
    Ok(App::new(routes::router(AppState { cache, db })).health_check("redis", move || {
        let cache = health_cache.clone();
        async move { cache.ping().await.map_err(|err| err.to_string()) }
    }))
}
