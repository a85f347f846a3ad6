//! Template fragment caching: the counterpart of Django's `{% cache 500 sidebar user.id %}`.
//!
//! Template engines for Rust have no cache block tag, so the handler does the tag's job: it
//! asks for a fragment by name, timeout and vary-on values, and gets back the fragment's HTML,
//! from Redis on a hit or freshly rendered (and stored) on a miss. The page template then
//! inserts that HTML as a safe value.

use std::time::Duration;

use crate::cache::Cache;

// ANCHOR: todo_fragment_key
/// The cache key of a fragment, built like Django's `make_template_fragment_key`:
/// `template.cache.<name>.<md5 of the vary-on values>`.
pub fn make_template_fragment_key(fragment_name: &str, vary_on: &[String]) -> String {
    // TODO: hash the vary-on values with `Md5` (each value, then `:`) and put the hex digest
    // after the name, so that every user gets a key of their own.
    let _ = vary_on;
    format!("template.cache.{fragment_name}")
}
// ANCHOR_END: todo_fragment_key

// ANCHOR: todo_cached_fragment
/// The fragment's HTML: from the cache when present, otherwise rendered by `render` and stored
/// for `timeout`. A Redis failure counts as a miss, so the page still renders without Redis.
pub async fn cached_fragment<F, Fut>(
    cache: &Cache,
    fragment_name: &str,
    timeout: Duration,
    vary_on: &[String],
    render: F,
) -> anyhow::Result<String>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<String>>,
{
    let _key = make_template_fragment_key(fragment_name, vary_on);
    // TODO: return the HTML stored under the key on a hit; on a miss, render it and store it
    // for `timeout`. A Redis error must not break the page: treat it as a miss.
    let _ = (cache, timeout);
    render().await
}
// ANCHOR_END: todo_cached_fragment
