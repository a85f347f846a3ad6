//! A small typed cache client over Redis: the counterpart of `django.core.cache.cache`.
//!
//! - Keys are `prefix:version:key` (see exercise 1).
//! - Values go through serde (JSON): any `Serialize` type goes in, the same type comes out.
//! - Every command has a short time limit: Redis is an optimisation, never a reason to hang.
//! - Many-key operations cost one round trip (MGET, a pipeline), not one per key.
//!
//! # Layout
//!
//! The client is this module; each file below adds one group of its methods. Write them in
//! this order, one file a step:
//! - `values`: one key: `get`, `set_for`, `delete`;
//! - `read_through`: `get_or_set`, computing a cold key once (with `single_flight`);
//! - `many`: several keys in one round trip;
//! - `incr`: counters that Redis adds to atomically;
//! - `expiry`: a key's time to live;
//! - `patterns`: deleting by pattern, with `SCAN`.

// The handlers use every method once `reports.rs` is written; until then some are unused.
#![allow(dead_code)]

mod expiry;
mod incr;
mod many;
mod patterns;
mod read_through;
mod values;

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

// ANCHOR: todo_client
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
}
// ANCHOR_END: todo_client
