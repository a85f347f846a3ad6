//! A thin cache client over one shared Redis connection.
//!
//! Decide here how the service talks to Redis: one connection shared by every request, with a
//! short time limit on every command so that a Redis outage never hangs a request.

use std::time::Duration;

use crate::settings::CacheSettings;

// ANCHOR: todo_cache_error
/// Why a cache operation did not happen.
#[derive(Debug)]
pub enum CacheError {
    /// TODO: replace with the real failures (a Redis error, a time-out).
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
    // TODO: keep the shared Redis connection here (see `redis::aio::ConnectionManager`).
    settings: CacheSettings,
}

impl Cache {
    /// Prepares the connection to `settings.url`.
    pub fn connect(settings: CacheSettings) -> anyhow::Result<Self> {
        // TODO: create the connection once, here, with time limits on connecting and on
        // responses, so that it can be shared by every request.
        Ok(Self { settings })
    }

    pub fn settings(&self) -> &CacheSettings {
        &self.settings
    }

    /// The full Redis key for `key`.
    pub fn make_key(&self, key: &str) -> String {
        // TODO: `prefix:version:key`, as Django's `make_key` builds it.
        key.to_owned()
    }

    /// Checks that Redis answers.
    pub async fn ping(&self) -> Result<(), CacheError> {
        // TODO: send PING.
        Err(CacheError::NotImplemented)
    }

    /// Reads `key`; `None` when it is missing.
    pub async fn get(&self, key: &str) -> Result<Option<String>, CacheError> {
        // TODO: GET the full key.
        let _ = self.make_key(key);
        Err(CacheError::NotImplemented)
    }

    /// Stores `value` under `key` for the default timeout.
    pub async fn set(&self, key: &str, value: &str) -> Result<(), CacheError> {
        self.set_for(key, value, self.settings.default_timeout).await
    }

    /// Stores `value` under `key` for `ttl`.
    pub async fn set_for(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        // TODO: SET the full key with an expiry (SET key value EX seconds).
        let _ = (self.make_key(key), value, ttl);
        Err(CacheError::NotImplemented)
    }

    /// Removes `key`; `true` when it existed.
    pub async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        // TODO: DEL the full key.
        let _ = self.make_key(key);
        Err(CacheError::NotImplemented)
    }
}
// ANCHOR_END: todo_cache
