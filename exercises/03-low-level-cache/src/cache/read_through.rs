//! `get_or_set`: read through the cache, computing a cold key once however many ask for it.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Cache;

// ANCHOR: todo_read_through
impl Cache {
    /// Returns the cached value of `key`, or computes it once, stores it for `ttl` and returns
    /// it. Many concurrent callers for one cold key must cause ONE computation: join
    /// `self.flights` before computing, and look in the cache again once you hold the flight.
    /// A Redis failure must cost only the cache, never the answer.
    pub async fn get_or_set<T, E, F, Fut>(
        &self,
        key: &str,
        ttl: Duration,
        compute: F,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        // TODO: read, single-flight, read again, compute, store.
        let _ = (key, ttl);
        compute().await
    }
}
// ANCHOR_END: todo_read_through
