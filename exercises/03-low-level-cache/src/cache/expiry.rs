//! A key's time to live: read it, set it again, take it away.

use std::time::Duration;

use super::{Cache, CacheError};

// ANCHOR: todo_expiry
impl Cache {
    /// Time left to live: `None` when the key never expires or does not exist.
    pub async fn ttl(&self, key: &str) -> Result<Option<Duration>, CacheError> {
        // TODO: TTL (-1: no expiry, -2: no such key).
        let _ = key;
        Err(CacheError::NotImplemented)
    }

    /// Gives `key` a new time to live; `false` when the key does not exist.
    pub async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, CacheError> {
        // TODO: EXPIRE.
        let _ = (key, ttl);
        Err(CacheError::NotImplemented)
    }

    /// Removes the time to live of `key`.
    pub async fn persist(&self, key: &str) -> Result<bool, CacheError> {
        // TODO: PERSIST.
        let _ = key;
        Err(CacheError::NotImplemented)
    }
}
// ANCHOR_END: todo_expiry
