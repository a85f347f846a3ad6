//! Exercise 4 — cache invalidation on data changes (reference solution).
//!
//! - [`repository`]: every read and write of the data; writes announce a [`repository::Change`];
//! - [`invalidator`]: the hook that turns each change into the entries it made stale;
//! - [`entry_cache`]: cached reads under versioned keys, and retiring an entry;
//! - [`categories`] and [`tasks`]: the HTTP handlers, with no invalidation code in them.

mod cache;
mod categories;
mod entry_cache;
mod errors;
mod invalidator;
mod repository;
mod routes;
mod settings;
mod tasks;

use cache::Cache;
use entry_cache::EntryCache;
use repository::Repository;
use settings::CacheSettings;
use workbook::{App, Context, Db};

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub cache: EntryCache,
    pub repository: Repository,
}

/// The service: its routes and its health check, built from the workbook's [`Context`]. The
/// workbook's `main` (`main.rs`) serves it, behind the workbook's own routes.
pub async fn app(context: Context) -> anyhow::Result<App> {
    let config = context.config;
    let cache = Cache::connect(CacheSettings::from_env()?)?;
    let entries = EntryCache::new(cache.clone());
    let db = Db::open(&config).await?;

    // ANCHOR: hook
    // Every write through the repository retires the entries it made stale.
    let invalidated = entries.clone();
    let repository = Repository::new(db)
        .on_change(move |change| invalidator::invalidate(invalidated.clone(), change));
    // ANCHOR_END: hook

    Ok(App::new(routes::router(AppState { cache: entries, repository })).health_check(
        "redis",
        move || {
            let cache = cache.clone();
            async move { cache.ping().await.map_err(|err| err.to_string()) }
        },
    ))
}
