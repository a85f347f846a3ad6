//! Deleting by pattern: `SCAN` a batch at a time, never `KEYS`.

use super::{Cache, CacheError};

// ANCHOR: todo_patterns
impl Cache {
    /// Deletes every key matching the glob `pattern`; returns how many.
    pub async fn delete_pattern(&self, pattern: &str) -> Result<u64, CacheError> {
        // TODO: SCAN ... MATCH in batches and DEL what it finds. Never KEYS: it blocks Redis.
        let _ = pattern;
        Err(CacheError::NotImplemented)
    }
}
// ANCHOR_END: todo_patterns
