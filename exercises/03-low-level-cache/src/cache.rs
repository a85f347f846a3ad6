//! A small typed cache client over Redis: the counterpart of `django.core.cache.cache`.
//!
//! - Keys are `prefix:version:key` (see exercise 1).
//! - Values go through serde (JSON): any `Serialize` type goes in, the same type comes out.
//! - Every command has a short time limit: Redis is an optimisation, never a reason to hang.
//! - Many-key operations cost one round trip (MGET, a pipeline), not one per key.

// The handlers use every method once `reports.rs` is written; until then some are unused.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::settings::CacheSettings;
use crate::single_flight::Flights;

// ANCHOR: todo_cache_error
/// Why a cache operation did not happen.
#[derive(Debug)]
pub enum CacheError {
    /// TODO: replace with the real failures (a Redis error, a time-out, a value of the wrong
    /// shape).
    NotImplemented,
}

impl std::fmt::Display for CacheError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheError::NotImplemented => write!(f, "the cache is not implemented yet"),
        }
    }
}

// `?` turns it into a boxed error, and error reporters show it like any other.
impl std::error::Error for CacheError {}
// ANCHOR_END: todo_cache_error

// ANCHOR: todo_cache
/// A handle on the cache; clones share the same connection.
#[derive(Clone)]
pub struct Cache {
    // TODO: the shared `redis::aio::ConnectionManager`, as in exercise 1.
    settings: CacheSettings,
    flights: Flights,
}

impl Cache {
    /// Prepares the connection to `settings.url`, with time limits.
    pub fn connect(settings: CacheSettings) -> anyhow::Result<Self> {
        Ok(Self { settings, flights: Flights::default() })
    }

    pub fn settings(&self) -> &CacheSettings {
        &self.settings
    }

    /// The full Redis key for `key`: `prefix:version:key`.
    pub fn make_key(&self, key: &str) -> String {
        format!("{}:{}:{}", self.settings.key_prefix, self.settings.key_version, key)
    }

    /// Checks that Redis answers.
    pub async fn ping(&self) -> Result<(), CacheError> {
        // TODO: PING, as in exercise 1.
        Err(CacheError::NotImplemented)
    }

    /// Reads `key` and deserialises it; `None` when it is missing.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, CacheError> {
        // TODO: GET the full key, then `serde_json::from_str`.
        let _ = key;
        Err(CacheError::NotImplemented)
    }

    /// Reads `key`, or `default` when it is missing or Redis is unavailable.
    pub async fn get_or<T: DeserializeOwned>(&self, key: &str, default: T) -> T {
        self.get(key).await.ok().flatten().unwrap_or(default)
    }

    /// Stores `value` under `key` for the default timeout.
    pub async fn set<T: Serialize>(&self, key: &str, value: &T) -> Result<(), CacheError> {
        self.set_for(key, value, self.settings.default_timeout).await
    }

    /// Stores `value` under `key` for `ttl`: `SET key value EX seconds`, never without a TTL.
    pub async fn set_for<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        // TODO: serialise with serde_json and SET ... EX.
        let _ = (key, value, ttl);
        Err(CacheError::NotImplemented)
    }

    /// Returns the cached value of `key`, or computes it once, stores it for `ttl` and returns
    /// it. Many concurrent callers for one cold key must cause ONE computation: join
    /// `self.flights` before computing, and look in the cache again once you hold the flight.
    /// A Redis failure must cost only the cache, never the answer.
    pub async fn get_or_set<T, E, F, Fut>(
        &self,
        key: &str,
        ttl: Duration,
        compute: F,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        // TODO: read, single-flight, read again, compute, store.
        let _ = (key, ttl);
        compute().await
    }

    /// Removes `key`; `true` when it existed.
    pub async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        // TODO: DEL.
        let _ = key;
        Err(CacheError::NotImplemented)
    }

    /// Reads several keys in ONE round trip (MGET); missing keys are left out.
    pub async fn get_many<T: DeserializeOwned>(
        &self,
        keys: &[String],
    ) -> Result<HashMap<String, T>, CacheError> {
        // TODO: one MGET, not a GET per key.
        let _ = keys;
        Err(CacheError::NotImplemented)
    }

    /// Stores several values for `ttl` in ONE round trip (a pipeline of `SET key value EX`:
    /// MSET cannot set a TTL).
    pub async fn set_many<T: Serialize>(
        &self,
        entries: &[(String, T)],
        ttl: Duration,
    ) -> Result<(), CacheError> {
        // TODO: `redis::pipe()`.
        let _ = (entries, ttl);
        Err(CacheError::NotImplemented)
    }

    /// Removes several keys with one DEL; returns how many existed.
    pub async fn delete_many(&self, keys: &[String]) -> Result<u64, CacheError> {
        // TODO: one DEL with every key.
        let _ = keys;
        Err(CacheError::NotImplemented)
    }

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

    /// Deletes every key matching the glob `pattern`; returns how many.
    pub async fn delete_pattern(&self, pattern: &str) -> Result<u64, CacheError> {
        // TODO: SCAN ... MATCH in batches and DEL what it finds. Never KEYS: it blocks Redis.
        let _ = pattern;
        Err(CacheError::NotImplemented)
    }
}
// ANCHOR_END: todo_cache
