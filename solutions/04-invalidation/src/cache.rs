//! A small typed cache client over Redis, cut down from exercise 3's to what this one needs.
//!
//! - Keys are `prefix:version:key` ([`Cache::make_key`]), so a version bump retires them all.
//! - Values go through serde (JSON).
//! - Every command has a short time limit: Redis is an optimisation, never a reason to hang.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::settings::CacheSettings;

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

/// A handle on the cache; clones share the same connection.
#[derive(Clone)]
pub struct Cache {
    connection: ConnectionManager,
    settings: CacheSettings,
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
        Ok(Self { connection, settings })
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

    /// Reads `key`; `None` when it is missing.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        let stored: Option<String> = limited(async move { conn.get(key).await }).await?;
        Ok(stored.map(|text| serde_json::from_str(&text)).transpose()?)
    }

    /// Stores `value` under `key` for `ttl`. Every entry expires: nothing is cached forever.
    pub async fn set_for<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let text = serde_json::to_string(value)?;
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        let seconds = ttl.as_secs().max(1);
        limited(async move { conn.set_ex(key, text, seconds).await }).await
    }
}

/// Runs one Redis command under [`COMMAND_TIMEOUT`].
async fn limited<T>(command: impl Future<Output = redis::RedisResult<T>>) -> Result<T, CacheError> {
    match tokio::time::timeout(COMMAND_TIMEOUT, command).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(CacheError::Redis(err)),
        Err(_) => Err(CacheError::TimedOut),
    }
}
