//! A small typed cache client over Redis: the counterpart of `django.core.cache.cache`.
//!
//! - Keys are `prefix:version:key` ([`Cache::make_key`]), so a version bump retires them all.
//! - Values go through serde (JSON): any `Serialize` type goes in, the same type comes out.
//! - Every command has a short time limit: Redis is an optimisation, never a reason to hang.
//! - Many-key operations cost one round trip (MGET, a pipeline), not one per key.
//!
//! Exercise 4 (invalidation) builds on this client.
//!
//! # Layout
//!
//! The client is this module; each file below adds one group of its methods, in the order
//! the lesson takes them:
//! - `values`: one key: `get`, `set_for`, `delete`;
//! - `read_through`: `get_or_set`, computing a cold key once (with `single_flight`);
//! - `many`: several keys in one round trip;
//! - `incr`: counters that Redis adds to atomically;
//! - `expiry`: a key's time to live;
//! - `patterns`: deleting by pattern, with `SCAN`.

mod expiry;
mod incr;
mod many;
mod patterns;
mod read_through;
mod values;

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::settings::CacheSettings;
use crate::single_flight::Flights;

// ANCHOR: todo_cache_error
/// How long one Redis command may take before we give up on it.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);

/// Why a cache operation did not happen.
#[derive(Debug)]
pub enum CacheError {
    Redis(redis::RedisError),
    TimedOut,
    /// The stored bytes are not a value of the asked type (written by older code, perhaps).
    Format(serde_json::Error),
}

impl std::fmt::Display for CacheError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheError::Redis(err) => write!(f, "redis error: {err}"),
            CacheError::TimedOut => write!(f, "redis did not answer within {COMMAND_TIMEOUT:?}"),
            CacheError::Format(err) => write!(f, "cached value has the wrong shape: {err}"),
        }
    }
}

// `?` turns it into a boxed error, and error reporters show it like any other.
impl std::error::Error for CacheError {}

impl From<serde_json::Error> for CacheError {
    fn from(err: serde_json::Error) -> Self {
        CacheError::Format(err)
    }
}
// ANCHOR_END: todo_cache_error

// ANCHOR: todo_client
/// A handle on the cache; clones share the same connection.
#[derive(Clone)]
pub struct Cache {
    connection: ConnectionManager,
    settings: CacheSettings,
    flights: Flights,
}

impl Cache {
    /// Prepares the connection; it opens lazily, so the service starts even without Redis.
    pub fn connect(settings: CacheSettings) -> anyhow::Result<Self> {
        let client = redis::Client::open(settings.url.as_str())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self { connection, settings, flights: Flights::default() })
    }

    pub fn settings(&self) -> &CacheSettings {
        &self.settings
    }

    /// The full Redis key for `key`: `prefix:version:key`, as Django's `make_key` builds it.
    pub fn make_key(&self, key: &str) -> String {
        format!("{}:{}:{}", self.settings.key_prefix, self.settings.key_version, key)
    }

    /// Checks that Redis answers.
    pub async fn ping(&self) -> Result<(), CacheError> {
        let mut conn = self.connection.clone();
        limited(async move { redis::cmd("PING").query_async::<String>(&mut conn).await }).await?;
        Ok(())
    }
}

/// Redis counts TTLs in whole seconds, and `EX 0` is an error: round up to at least one.
fn ttl_seconds(ttl: Duration) -> u64 {
    ttl.as_secs().max(1)
}

/// Runs one Redis command under [`COMMAND_TIMEOUT`].
async fn limited<T>(command: impl Future<Output = redis::RedisResult<T>>) -> Result<T, CacheError> {
    match tokio::time::timeout(COMMAND_TIMEOUT, command).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(CacheError::Redis(err)),
        Err(_) => Err(CacheError::TimedOut),
    }
}
// ANCHOR_END: todo_client
