//! Exercise 2 — view caching (reference solution).
//!
//! Whole pages cached in Redis, the Rust counterpart of Django's `cache_page`:
//! - [`view_cache`]: a middleware that stores whole responses in Redis for 15 minutes, put on
//!   the routes that want it; for per-user pages the key includes the user;
//! - [`routes`]: the public task list, a per-user task list and a dashboard whose
//!   `Cache-Control` keeps it in the browser only;
//! - [`identity`]: who is asking (a plain cookie, to keep this exercise about caching).

mod cache;
mod identity;
mod routes;
mod settings;
mod view_cache;

use cache::Cache;
use settings::CacheSettings;
use workbook::{Config, Db, Service};

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let cache = Cache::connect(CacheSettings::from_env()?)?;
    let db = Db::open(&config).await?;

    let health_cache = cache.clone();
    Service::new(&config)
        .health_check("redis", move || {
            let cache = health_cache.clone();
            async move { cache.ping().await.map_err(|err| err.to_string()) }
        })
        .serve(routes::router(AppState { db }, cache))
        .await
}
