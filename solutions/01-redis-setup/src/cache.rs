//! A thin cache client over one shared Redis connection.
//!
//! Two decisions matter here:
//! - **One connection for the whole process.** A [`ConnectionManager`] multiplexes every
//!   request over a single connection and reconnects on its own after Redis restarts, so we
//!   create it once at start-up and clone the handle (cloning is cheap).
//! - **Redis is an optimisation, not a dependency.** Every command has a short time limit, so a
//!   Redis that is down or slow costs a request a few hundred milliseconds, never a hang.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::settings::CacheSettings;

// ANCHOR: todo_cache_error
// ANCHOR: timeout
/// How long one Redis command may take before we give up on it.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
// ANCHOR_END: timeout

/// Why a cache operation did not happen.
#[derive(Debug)]
pub enum CacheError {
    Redis(redis::RedisError),
    TimedOut,
}

impl std::fmt::Display for CacheError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheError::Redis(err) => write!(f, "redis error: {err}"),
            CacheError::TimedOut => write!(f, "redis did not answer within {COMMAND_TIMEOUT:?}"),
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
    connection: ConnectionManager,
    settings: CacheSettings,
}

impl Cache {
    // ANCHOR: connect
    /// Prepares the connection. It is opened lazily, so the service starts even while Redis
    /// is down and connects as soon as Redis is reachable.
    pub fn connect(settings: CacheSettings) -> anyhow::Result<Self> {
        let client = redis::Client::open(settings.url.as_str())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self { connection, settings })
    }
    // ANCHOR_END: connect

    pub fn settings(&self) -> &CacheSettings {
        &self.settings
    }

    // ANCHOR: make_key
    /// The full Redis key for `key`: `prefix:version:key`, as Django's `make_key` builds it.
    pub fn make_key(&self, key: &str) -> String {
        format!("{}:{}:{}", self.settings.key_prefix, self.settings.key_version, key)
    }
    // ANCHOR_END: make_key

    /// Checks that Redis answers.
    pub async fn ping(&self) -> Result<(), CacheError> {
        let mut conn = self.connection.clone();
        limited(async move { redis::cmd("PING").query_async::<String>(&mut conn).await }).await?;
        Ok(())
    }

    /// Reads `key`; `None` when it is missing.
    pub async fn get(&self, key: &str) -> Result<Option<String>, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        limited(async move { conn.get(key).await }).await
    }

    /// Stores `value` under `key` for the default timeout.
    pub async fn set(&self, key: &str, value: &str) -> Result<(), CacheError> {
        self.set_for(key, value, self.settings.default_timeout).await
    }

    // ANCHOR: set_for
    /// Stores `value` under `key` for `ttl`. Every entry expires: nothing is cached forever.
    pub async fn set_for(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        let seconds = ttl.as_secs().max(1);
        limited(async move { conn.set_ex(key, value, seconds).await }).await
    }
    // ANCHOR_END: set_for

    /// Removes `key`; `true` when it existed.
    pub async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        let removed: u64 = limited(async move { conn.del(key).await }).await?;
        Ok(removed > 0)
    }
}

// ANCHOR: limited
/// Runs one Redis command under [`COMMAND_TIMEOUT`].
async fn limited<T>(command: impl Future<Output = redis::RedisResult<T>>) -> Result<T, CacheError> {
    match tokio::time::timeout(COMMAND_TIMEOUT, command).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(CacheError::Redis(err)),
        Err(_) => Err(CacheError::TimedOut),
    }
}
// ANCHOR_END: limited
// ANCHOR_END: todo_cache
