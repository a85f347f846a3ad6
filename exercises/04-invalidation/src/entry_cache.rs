//! The cached entries of the task manager, under versioned keys.
//!
//! Each [`Entry`] has a *stamp*: a random token stored in Redis under `stamp:{entry}`. The
//! entry's value lives under `{entry}@{stamp}`. A reader reads the stamp first, then the
//! value; on a miss it loads from the database and stores the result under the stamp it read
//! *before* loading. A write retires the entry by giving it a new stamp.
//!
//! When Redis cannot take a new stamp (it is down), remember the entry as *unsynced*: until
//! every unsynced entry has been retired, reads skip the cache.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::Cache;

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
    /// The cached value of `entry`, or `load`'s answer, stored for next time.
    pub async fn read_through<T, F, Fut>(&self, entry: Entry, load: F) -> workbook::db::Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = workbook::db::Result<T>>,
    {
        // TODO: skip the cache while an entry is unsynced (retry retiring them first). Read
        // the entry's stamp (`stamp_key`, "0" when missing), then the value under
        // `value_key(entry, &stamp)`. On a miss, load and store for `self.ttl` under the stamp
        // you read *before* loading. A Redis error is a miss, never an error page.
        let _ = (&self.cache, self.ttl, &self.unsynced, entry);
        load().await
    }

    /// Makes the cached value of `entry` unreachable. If Redis cannot be told now, the entry
    /// is remembered and retired before the cache is trusted again.
    pub async fn invalidate(&self, entry: Entry) {
        // TODO: give the entry a new stamp, never used before (`uuid::Uuid::new_v4()`), with a
        // TTL longer than the values'. If that fails, add the entry to `self.unsynced`.
        let _ = entry;
    }
    // ANCHOR_END: todo_read_and_invalidate
}

/// Where the stamp of `entry` lives.
#[allow(dead_code)] // until read_through and invalidate use it
fn stamp_key(entry: Entry) -> String {
    format!("stamp:{entry}")
}

/// Where the value of `entry` lives while its stamp is `stamp`.
#[allow(dead_code)] // until read_through uses it
fn value_key(entry: Entry, stamp: &str) -> String {
    format!("{entry}@{stamp}")
}
