//! The cached entries of the task manager, under versioned keys.
//!
//! Each [`Entry`] has a *stamp*: a random token stored in Redis under `stamp:{entry}`. The
//! entry's value lives under `{entry}@{stamp}`. A reader reads the stamp first, then the
//! value; on a miss it loads from the database and stores the result under the stamp it read
//! *before* loading. A write retires the entry by giving it a new stamp.
//!
//! That order closes the slow-reader race: a reader that loaded the old rows before a write
//! stores them under the old stamp, where nobody looks any more. Deleting the value instead
//! would let such a reader put the stale value back *after* the delete.
//!
//! When Redis cannot take a new stamp (it is down), the entry is remembered as *unsynced*:
//! until every unsynced entry has been retired, reads skip the cache, so an old value that
//! survives in Redis is never served. Each read tries the retirements again first.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::{Cache, CacheError};

/// Something the service caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Entry {
    /// `GET /categories`.
    Categories,
    /// `GET /categories/{id}/tasks`.
    TasksOf(i64),
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Categories => write!(f, "categories"),
            Entry::TasksOf(category_id) => write!(f, "categories:{category_id}:tasks"),
        }
    }
}

/// The stamp of an entry that no write has retired yet (or whose stamp expired).
const FIRST_STAMP: &str = "0";

/// Reads through the cache and retires entries; clones share the unsynced list.
#[derive(Clone)]
pub struct EntryCache {
    cache: Cache,
    /// How long a value lives: the safety net if an invalidation is ever missed.
    ttl: Duration,
    unsynced: Arc<Mutex<BTreeSet<Entry>>>,
}

impl EntryCache {
    pub fn new(cache: Cache) -> Self {
        let ttl = cache.settings().default_timeout;
        Self { cache, ttl, unsynced: Arc::default() }
    }

    // ANCHOR: todo_read_and_invalidate
    // ANCHOR: read_through
    /// The cached value of `entry`, or `load`'s answer, stored for next time.
    pub async fn read_through<T, F, Fut>(&self, entry: Entry, load: F) -> workbook::db::Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = workbook::db::Result<T>>,
    {
        if !self.sync().await {
            // A value written before a failed invalidation may still be in Redis.
            return load().await;
        }
        // The stamp first: a write after this point retires whatever we store below.
        let Ok(stamp) = self.stamp(entry).await else {
            return load().await;
        };
        let key = value_key(entry, &stamp);
        match self.cache.get(&key).await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(err) => tracing::warn!("reading {key:?} failed, treating it as a miss: {err}"),
        }
        let value = load().await?;
        if let Err(err) = self.cache.set_for(&key, &value, self.ttl).await {
            tracing::warn!("could not cache {key:?}: {err}");
        }
        Ok(value)
    }
    // ANCHOR_END: read_through

    // ANCHOR: invalidate
    /// Makes the cached value of `entry` unreachable. If Redis cannot be told now, the entry
    /// is remembered and retired before the cache is trusted again.
    pub async fn invalidate(&self, entry: Entry) {
        if let Err(err) = self.retire(entry).await {
            tracing::warn!("could not invalidate {entry}, bypassing the cache until I can: {err}");
            self.unsynced().insert(entry);
        }
    }

    /// Gives `entry` a new stamp, never used before. It outlives every value stored under
    /// the old one, so an expired stamp can never bring an old value back.
    async fn retire(&self, entry: Entry) -> Result<(), CacheError> {
        let stamp = uuid::Uuid::new_v4().to_string();
        self.cache.set_for(&stamp_key(entry), &stamp, self.ttl * 2).await
    }
    // ANCHOR_END: invalidate

    // ANCHOR: unsynced
    /// Retires the entries whose invalidation failed; `true` when none is left.
    async fn sync(&self) -> bool {
        let pending: Vec<Entry> = self.unsynced().iter().copied().collect();
        for entry in pending {
            if self.retire(entry).await.is_ok() {
                self.unsynced().remove(&entry);
            }
        }
        self.unsynced().is_empty()
    }

    async fn stamp(&self, entry: Entry) -> Result<String, CacheError> {
        let stamp: Option<String> = self.cache.get(&stamp_key(entry)).await?;
        Ok(stamp.unwrap_or_else(|| FIRST_STAMP.to_owned()))
    }

    fn unsynced(&self) -> std::sync::MutexGuard<'_, BTreeSet<Entry>> {
        self.unsynced.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
    // ANCHOR_END: unsynced
    // ANCHOR_END: todo_read_and_invalidate
}

fn stamp_key(entry: Entry) -> String {
    format!("stamp:{entry}")
}

fn value_key(entry: Entry, stamp: &str) -> String {
    format!("{entry}@{stamp}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_stamp_gives_the_entry_a_new_key() {
        let entry = Entry::TasksOf(3);
        assert_eq!(stamp_key(entry), "stamp:categories:3:tasks");
        assert_ne!(value_key(entry, "0"), value_key(entry, "1f0c"));
    }
}
