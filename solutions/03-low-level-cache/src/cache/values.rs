//! One key at a time: read, store with a TTL, delete.

use std::time::Duration;

use redis::AsyncCommands;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Cache, CacheError, limited, ttl_seconds};

// ANCHOR: todo_values
impl Cache {
    // ANCHOR: get
    /// Reads `key`; `None` when it is missing.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        let stored: Option<String> = limited(async move { conn.get(key).await }).await?;
        Ok(stored.map(|text| serde_json::from_str(&text)).transpose()?)
    }

    /// Reads `key`, or `default` when it is missing or Redis is unavailable.
    pub async fn get_or<T: DeserializeOwned>(&self, key: &str, default: T) -> T {
        self.get(key).await.ok().flatten().unwrap_or(default)
    }
    // ANCHOR_END: get

    // ANCHOR: set
    /// Stores `value` under `key` for the default timeout.
    pub async fn set<T: Serialize>(&self, key: &str, value: &T) -> Result<(), CacheError> {
        self.set_for(key, value, self.settings.default_timeout).await
    }

    /// Stores `value` under `key` for `ttl`. Every entry expires: nothing is cached forever.
    pub async fn set_for<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let text = serde_json::to_string(value)?;
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        limited(async move { conn.set_ex(key, text, ttl_seconds(ttl)).await }).await
    }
    // ANCHOR_END: set

    /// Removes `key`; `true` when it existed.
    pub async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        let removed: u64 = limited(async move { conn.del(key).await }).await?;
        Ok(removed > 0)
    }
}
// ANCHOR_END: todo_values
