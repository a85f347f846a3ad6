//! A thin cache client over one shared Redis connection (exercise 1).
//!
//! One [`ConnectionManager`] serves every request and reconnects by itself, and every command
//! has a short time limit: Redis is an optimisation, so an outage must never hang a request.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::settings::CacheSettings;

/// How long one Redis command may take before we give up on it.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);

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

/// A handle on the cache; clones share the same connection.
#[derive(Clone)]
pub struct Cache {
    connection: ConnectionManager,
    settings: CacheSettings,
}

impl Cache {
    /// Prepares the connection, opened lazily so that the service starts even without Redis.
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

    /// The full Redis key for `key`: `prefix:version:key`.
    pub fn make_key(&self, key: &str) -> String {
        format!("{}:{}:{}", self.settings.key_prefix, self.settings.key_version, key)
    }

    /// Checks that Redis answers.
    pub async fn ping(&self) -> Result<(), CacheError> {
        let mut conn = self.connection.clone();
        limited(async move { redis::cmd("PING").query_async::<String>(&mut conn).await }).await?;
        Ok(())
    }

    /// Reads `key` as bytes, `None` when it is missing. Bytes rather than a `String`: a page
    /// is stored whole (status, headers, body), and need not be text.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        limited(async move { conn.get(key).await }).await
    }

    /// Stores `value` under `key` for `ttl`. Every entry expires: nothing is cached forever.
    pub async fn set_for(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        let seconds = ttl.as_secs().max(1);
        limited(async move { conn.set_ex(key, value, seconds).await }).await
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
