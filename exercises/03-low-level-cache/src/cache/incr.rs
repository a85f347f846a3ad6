//! Counters: Redis adds atomically, so concurrent requests never lose an update.

use super::{Cache, CacheError};

// ANCHOR: todo_incr
impl Cache {
    /// Adds `by` to the counter at `key` ATOMICALLY (INCRBY) and returns the new value; a
    /// missing key starts at 0. Never GET, add and SET: concurrent requests would lose updates.
    pub async fn incr(&self, key: &str, by: i64) -> Result<i64, CacheError> {
        // TODO: INCRBY.
        let _ = (key, by);
        Err(CacheError::NotImplemented)
    }

    /// Subtracts `by` atomically (DECRBY); a missing key starts at 0.
    pub async fn decr(&self, key: &str, by: i64) -> Result<i64, CacheError> {
        // TODO: DECRBY.
        let _ = (key, by);
        Err(CacheError::NotImplemented)
    }
}
// ANCHOR_END: todo_incr
