//! Exercise 1 — Redis configured and running (reference solution).
//!
//! A small service that proves Redis is wired in properly:
//! - cache settings come from the environment ([`settings`]);
//! - one shared, self-healing connection serves every request ([`cache`]);
//! - `/health` pings Redis, and sessions live in Redis with a TTL ([`sessions`]);
//! - when Redis goes away the service keeps answering, and it reconnects by itself.

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

    // ANCHOR: health
    let health_cache = cache.clone();
    Ok(App::new(routes::router(AppState { cache, db })).health_check("redis", move || {
        let cache = health_cache.clone();
        async move { cache.ping().await.map_err(|err| err.to_string()) }
    }))
    // ANCHOR_END: health
}
