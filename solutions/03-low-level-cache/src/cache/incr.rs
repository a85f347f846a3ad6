//! Counters: Redis adds atomically, so concurrent requests never lose an update.

use redis::AsyncCommands;

use super::{Cache, CacheError, limited};

// ANCHOR: todo_incr
impl Cache {
    // ANCHOR: incr
    /// Adds `by` to the counter at `key` atomically (INCRBY) and returns the new value.
    /// Unlike Django, a missing key is not an error: Redis starts it at 0, so the first
    /// `incr(key, 1)` returns 1. A counter keeps no TTL unless you [`Cache::expire`] it.
    pub async fn incr(&self, key: &str, by: i64) -> Result<i64, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        limited(async move { conn.incr(key, by).await }).await
    }

    /// Subtracts `by` from the counter at `key` atomically (DECRBY); a missing key starts at 0.
    pub async fn decr(&self, key: &str, by: i64) -> Result<i64, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        limited(async move { conn.decr(key, by).await }).await
    }
    // ANCHOR_END: incr
}
// ANCHOR_END: todo_incr
