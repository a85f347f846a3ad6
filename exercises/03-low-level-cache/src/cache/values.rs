//! One key at a time: read, store with a TTL, delete.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Cache, CacheError};

// ANCHOR: todo_values
impl Cache {
    /// Reads `key` and deserialises it; `None` when it is missing.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, CacheError> {
        // TODO: GET the full key, then `serde_json::from_str`.
        let _ = key;
        Err(CacheError::NotImplemented)
    }

    /// Reads `key`, or `default` when it is missing or Redis is unavailable.
    pub async fn get_or<T: DeserializeOwned>(&self, key: &str, default: T) -> T {
        self.get(key).await.ok().flatten().unwrap_or(default)
    }

    /// Stores `value` under `key` for the default timeout.
    pub async fn set<T: Serialize>(&self, key: &str, value: &T) -> Result<(), CacheError> {
        self.set_for(key, value, self.settings.default_timeout).await
    }

    /// Stores `value` under `key` for `ttl`: `SET key value EX seconds`, never without a TTL.
    pub async fn set_for<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        // TODO: serialise with serde_json and SET ... EX.
        let _ = (key, value, ttl);
        Err(CacheError::NotImplemented)
    }

    /// Removes `key`; `true` when it existed.
    pub async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        // TODO: DEL.
        let _ = key;
        Err(CacheError::NotImplemented)
    }
}
// ANCHOR_END: todo_values
