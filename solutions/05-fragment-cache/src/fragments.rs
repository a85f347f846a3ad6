//! Template fragment caching: the counterpart of Django's `{% cache 500 sidebar user.id %}`.
//!
//! Template engines for Rust have no cache block tag, so the handler does the tag's job: it
//! asks for a fragment by name, timeout and vary-on values, and gets back the fragment's HTML,
//! from Redis on a hit or freshly rendered (and stored) on a miss. The page template then
//! inserts that HTML as a safe value.

use std::time::Duration;

use md5::{Digest, Md5};

use crate::cache::Cache;

// ANCHOR: todo_fragment_key
// ANCHOR: fragment_key
/// The cache key of a fragment, built exactly like Django's `make_template_fragment_key`:
/// `template.cache.<name>.<md5 of the vary-on values>`. Hashing keeps the key short and safe
/// whatever the values hold, and different values give different keys.
pub fn make_template_fragment_key(fragment_name: &str, vary_on: &[String]) -> String {
    let mut hasher = Md5::new();
    for value in vary_on {
        hasher.update(value.as_bytes());
        hasher.update(b":");
    }
    let digest: String = hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect();
    format!("template.cache.{fragment_name}.{digest}")
}
// ANCHOR_END: fragment_key
// ANCHOR_END: todo_fragment_key

// ANCHOR: todo_cached_fragment
// ANCHOR: cached_fragment
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
    let key = make_template_fragment_key(fragment_name, vary_on);
    match cache.get(&key).await {
        Ok(Some(html)) => return Ok(html),
        Ok(None) => {}
        Err(err) => tracing::warn!("reading fragment {key} failed, rendering it: {err}"),
    }
    let html = render().await?;
    if let Err(err) = cache.set_for(&key, &html, timeout).await {
        tracing::warn!("storing fragment {key} failed: {err}");
    }
    Ok(html)
}
// ANCHOR_END: cached_fragment
// ANCHOR_END: todo_cached_fragment

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_djangos_make_template_fragment_key() {
        // The values Django gives for make_template_fragment_key("sidebar", [1]) and
        // make_template_fragment_key("sidebar", [None]).
        assert_eq!(
            make_template_fragment_key("sidebar", &["1".to_owned()]),
            "template.cache.sidebar.3afcdbfeb6ecfbdd0ba628696e3cc163"
        );
        assert_eq!(
            make_template_fragment_key("sidebar", &["None".to_owned()]),
            "template.cache.sidebar.6846ba559f7f55c20a67d890d03d20e0"
        );
    }
}
