//! Exercise 2 — view caching (reference solution).
//!
//! Whole pages cached in Redis, the Rust counterpart of Django's `cache_page`:
//! - [`view_cache`]: a middleware that stores whole responses in Redis for 15 minutes, put on
//!   the routes that want it; for per-user pages the key includes the user;
//! - [`page`]: a whole response as one Redis value, compact so that a hit costs little;
//! - [`routes`]: the public task list, a per-user task list and a dashboard whose
//!   `Cache-Control` keeps it in the browser only;
//! - [`identity`]: who is asking (a plain cookie, to keep this exercise about caching).

mod cache;
mod identity;
mod page;
mod routes;
mod settings;
mod view_cache;

use cache::Cache;
use settings::CacheSettings;
use workbook::{App, Context, Db};

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
}

/// The service: its routes and its health check, built from the workbook's [`Context`]. The
/// workbook's `main` (`main.rs`) serves it, behind the workbook's own routes.
pub async fn app(context: Context) -> anyhow::Result<App> {
    let config = context.config;
    let cache = Cache::connect(CacheSettings::from_env()?)?;
    let db = Db::open(&config).await?;

    let health_cache = cache.clone();
    Ok(App::new(routes::router(AppState { db }, cache)).health_check("redis", move || {
        let cache = health_cache.clone();
        async move { cache.ping().await.map_err(|err| err.to_string()) }
    }))
}
