//! The hook on the data layer that keeps the cache honest: each [`Change`] retires exactly the
//! cached entries it made stale, and nothing else.

use crate::entry_cache::{Entry, EntryCache};
use crate::repository::Change;

// ANCHOR: todo_stale_entries
/// The cached entries that no longer agree with the database after `change`.
pub fn stale_entries(change: &Change) -> Vec<Entry> {
    // TODO: a new or renamed category changes `Entry::Categories`; a deleted one also takes
    // its tasks (`Entry::TasksOf(id)`); any task change stales its category's task list.
    let _ = change;
    Vec::new()
}
// ANCHOR_END: todo_stale_entries

/// What the repository calls after each write.
pub async fn invalidate(cache: EntryCache, change: Change) {
    for entry in stale_entries(&change) {
        cache.invalidate(entry).await;
    }
}
