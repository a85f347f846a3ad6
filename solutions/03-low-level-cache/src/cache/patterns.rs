//! Deleting by pattern: `SCAN` a batch at a time, never `KEYS`.

use redis::AsyncCommands;

use super::{Cache, CacheError, limited};

/// How many keys one SCAN step asks for when deleting by pattern.
const SCAN_BATCH: usize = 500;

// ANCHOR: todo_patterns
impl Cache {
    // ANCHOR: delete_pattern
    /// Deletes every key matching the glob `pattern` (e.g. `stats:*`); returns how many.
    ///
    /// SCAN walks the keyspace a batch at a time, so Redis keeps serving other clients;
    /// KEYS would block the whole server while it reads every key.
    pub async fn delete_pattern(&self, pattern: &str) -> Result<u64, CacheError> {
        let full_pattern = self.make_key(pattern);
        let mut cursor = 0u64;
        let mut deleted = 0;
        loop {
            let mut conn = self.connection.clone();
            let scan = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&full_pattern)
                .arg("COUNT")
                .arg(SCAN_BATCH)
                .to_owned();
            let (next, keys): (u64, Vec<String>) =
                limited(async move { scan.query_async(&mut conn).await }).await?;
            if !keys.is_empty() {
                let mut conn = self.connection.clone();
                deleted += limited(async move { conn.del::<_, u64>(keys).await }).await?;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }
    // ANCHOR_END: delete_pattern
}
// ANCHOR_END: todo_patterns
