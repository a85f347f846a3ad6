//! Exercise 5 — Template fragment caching (starter).
//!
//! A dashboard page rendered with minijinja: a greeting that changes on every request around
//! a sidebar of task counts that is expensive to compute. Right now the sidebar is computed on
//! every request. Your job (the TODOs in [`fragments`] and [`sidebar`]): cache it in Redis as a
//! template fragment, once per user for 500 s, and delete it by key when a category changes.

mod cache;
mod categories;
mod dashboard;
mod fragments;
mod identity;
mod routes;
mod settings;
mod sidebar;
mod templates;

use std::sync::Arc;

use cache::Cache;
use minijinja::Environment;
use settings::CacheSettings;
use workbook::{App, Context, Db};

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub cache: Cache,
    pub db: Db,
    pub templates: Arc<Environment<'static>>,
}

/// The service: its routes and its health check, built from the workbook's [`Context`]. The
/// workbook's `main` (`main.rs`) serves it, behind the workbook's own routes.
pub async fn app(context: Context) -> anyhow::Result<App> {
    let config = context.config;
    let cache = Cache::connect(CacheSettings::from_env()?)?;
    let db = Db::open(&config).await?;
    let templates = Arc::new(templates::environment());

    let health_cache = cache.clone();
    Ok(App::new(routes::router(AppState { cache, db, templates })).health_check(
        "redis",
        move || {
            let cache = health_cache.clone();
            async move { cache.ping().await.map_err(|err| err.to_string()) }
        },
    ))
}
