//! A key's time to live: read it, set it again, take it away.

use std::time::Duration;

use redis::AsyncCommands;

use super::{Cache, CacheError, limited, ttl_seconds};

// ANCHOR: todo_expiry
impl Cache {
    /// Time left to live: `Ok(None)` when the key exists but never expires or does not exist.
    pub async fn ttl(&self, key: &str) -> Result<Option<Duration>, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        let seconds: i64 = limited(async move { conn.ttl(key).await }).await?;
        // -1: no expiry, -2: no such key.
        Ok(u64::try_from(seconds).ok().map(Duration::from_secs))
    }

    /// Gives `key` a new time to live; `false` when the key does not exist.
    pub async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        let seconds = ttl_seconds(ttl) as i64;
        limited(async move { conn.expire(key, seconds).await }).await
    }

    /// Removes the time to live of `key`, so it stays until deleted.
    pub async fn persist(&self, key: &str) -> Result<bool, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        limited(async move { conn.persist(key).await }).await
    }
}
// ANCHOR_END: todo_expiry
