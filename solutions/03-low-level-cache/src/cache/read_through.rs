//! `get_or_set`: read through the cache, computing a cold key once however many ask for it.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Cache;

// ANCHOR: todo_read_through
impl Cache {
    // ANCHOR: get_or_set
    /// Returns the cached value of `key`, or computes it once, stores it for `ttl` and returns
    /// it. Concurrent callers for the same cold key wait for one computation (single-flight)
    /// instead of all running it. A Redis failure only costs the cache, never the answer.
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
        if let Some(value) = self.cached(key).await {
            return Ok(value);
        }
        let _flight = self.flights.join(key).await;
        // Whoever held the flight before us has probably stored the value by now.
        if let Some(value) = self.cached(key).await {
            return Ok(value);
        }
        let value = compute().await?;
        if let Err(err) = self.set_for(key, &value, ttl).await {
            tracing::warn!("could not cache {key:?}: {err}");
        }
        Ok(value)
    }
    // ANCHOR_END: get_or_set

    /// A cache read where a failure is only a miss.
    async fn cached<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.get(key).await.unwrap_or_else(|err| {
            tracing::warn!("cache read of {key:?} failed, treating it as a miss: {err}");
            None
        })
    }
}
// ANCHOR_END: todo_read_through
