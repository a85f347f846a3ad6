//! Exercise 3 — the low-level cache API and caching expensive queries (reference solution).
//!
//! - [`cache`]: a typed client over Redis with the operations of Django's `cache` object;
//! - [`single_flight`]: one computation per cold key, however many requests wait for it;
//! - [`reports`]: expensive queries served through `get_or_set`;
//! - [`counters`] and [`entries`]: the cache operations over HTTP.

mod cache;
mod counters;
mod entries;
mod reports;
mod routes;
mod settings;
mod single_flight;

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
    let cache = Cache::connect(CacheSettings::from_env()?)?;
    let db = Db::open(&config).await?;

    let health_cache = cache.clone();
    Ok(App::new(routes::router(AppState { cache, db })).health_check("redis", move || {
        let cache = health_cache.clone();
        async move { cache.ping().await.map_err(|err| err.to_string()) }
    }))
}
