//! The hook on the data layer that keeps the cache honest: each [`Change`] retires exactly the
//! cached entries it made stale, and nothing else.

use crate::entry_cache::{Entry, EntryCache};
use crate::repository::Change;

// ANCHOR: todo_stale_entries
/// The cached entries that no longer agree with the database after `change`.
pub fn stale_entries(change: &Change) -> Vec<Entry> {
    // TODO: for each kind of `Change` (see `src/repository.rs`), which cached answers show
    // something it altered, and which do not? Return exactly those: too few serves stale data,
    // too many throws cached work away.
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
