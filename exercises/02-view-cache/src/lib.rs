//! Exercise 2 — view caching.
//!
//! Cache whole pages in Redis, the Rust counterpart of Django's `cache_page`. The chapter
//! "Caching whole responses" in the book walks through every step; the grader checks each one:
//!
//! ```text
//! cargo run -p grader -- 2
//! ```
//!
//! The files to complete: `view_cache.rs` (the middleware) and the dashboard in `routes.rs`.
//! `cache.rs` and `settings.rs` are exercise 1's, done; `identity.rs` says who is asking.

// Exercise 1's cache, complete; its API is used as soon as view_cache.rs stores pages.
#[allow(dead_code)]
mod cache;
mod identity;
mod routes;
#[allow(dead_code)]
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
