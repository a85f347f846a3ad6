//! A small typed cache client over Redis: the counterpart of `django.core.cache.cache`.
//!
//! - Keys are `prefix:version:key` ([`Cache::make_key`]), so a version bump retires them all.
//! - Values go through serde (JSON): any `Serialize` type goes in, the same type comes out.
//! - Every command has a short time limit: Redis is an optimisation, never a reason to hang.
//! - Many-key operations cost one round trip (MGET, a pipeline), not one per key.
//!
//! Exercise 4 (invalidation) builds on this client.

use std::collections::HashMap;
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::settings::CacheSettings;
use crate::single_flight::Flights;

// ANCHOR: todo_cache_error
/// How long one Redis command may take before we give up on it.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// How many keys one SCAN step asks for when deleting by pattern.
const SCAN_BATCH: usize = 500;

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

// ANCHOR: todo_cache
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

    // ANCHOR: get
    /// Reads `key`; `None` when it is missing.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        let stored: Option<String> = limited(async move { conn.get(key).await }).await?;
        Ok(stored.map(|text| serde_json::from_str(&text)).transpose()?)
    }

    /// Reads `key`, or `default` when it is missing or Redis is unavailable.
    pub async fn get_or<T: DeserializeOwned>(&self, key: &str, default: T) -> T {
        self.get(key).await.ok().flatten().unwrap_or(default)
    }
    // ANCHOR_END: get

    // ANCHOR: set
    /// Stores `value` under `key` for the default timeout.
    pub async fn set<T: Serialize>(&self, key: &str, value: &T) -> Result<(), CacheError> {
        self.set_for(key, value, self.settings.default_timeout).await
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
        limited(async move { conn.set_ex(key, text, ttl_seconds(ttl)).await }).await
    }
    // ANCHOR_END: set

    // ANCHOR: get_or_set
    /// Returns the cached value of `key`, or computes it once, stores it for `ttl` and returns
    /// it. Concurrent callers for the same cold key wait for one computation (single-flight)
    /// instead of all running it. A Redis failure only costs the cache, never the answer.
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
        if let Some(value) = self.cached(key).await {
            return Ok(value);
        }
        let _flight = self.flights.join(key).await;
        // Whoever held the flight before us has probably stored the value by now.
        if let Some(value) = self.cached(key).await {
            return Ok(value);
        }
        let value = compute().await?;
        if let Err(err) = self.set_for(key, &value, ttl).await {
            tracing::warn!("could not cache {key:?}: {err}");
        }
        Ok(value)
    }
    // ANCHOR_END: get_or_set

    /// A cache read where a failure is only a miss.
    async fn cached<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.get(key).await.unwrap_or_else(|err| {
            tracing::warn!("cache read of {key:?} failed, treating it as a miss: {err}");
            None
        })
    }

    /// Removes `key`; `true` when it existed.
    pub async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        let removed: u64 = limited(async move { conn.del(key).await }).await?;
        Ok(removed > 0)
    }

    // ANCHOR: many
    /// Reads several keys in one round trip (MGET); missing keys are left out of the answer.
    pub async fn get_many<T: DeserializeOwned>(
        &self,
        keys: &[String],
    ) -> Result<HashMap<String, T>, CacheError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let full_keys: Vec<String> = keys.iter().map(|key| self.make_key(key)).collect();
        let mut conn = self.connection.clone();
        let stored: Vec<Option<String>> =
            limited(async move { conn.mget(full_keys).await }).await?;
        let mut found = HashMap::new();
        for (key, text) in keys.iter().zip(stored) {
            if let Some(text) = text {
                found.insert(key.clone(), serde_json::from_str(&text)?);
            }
        }
        Ok(found)
    }

    /// Stores several values for `ttl` in one round trip: a pipeline of `SET key value EX`,
    /// because MSET cannot give its keys a TTL.
    pub async fn set_many<T: Serialize>(
        &self,
        entries: &[(String, T)],
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let mut pipe = redis::pipe();
        for (key, value) in entries {
            pipe.set_ex(self.make_key(key), serde_json::to_string(value)?, ttl_seconds(ttl))
                .ignore();
        }
        let mut conn = self.connection.clone();
        limited(async move { pipe.query_async::<()>(&mut conn).await }).await
    }
    // ANCHOR_END: many

    /// Removes several keys with one DEL; returns how many existed.
    pub async fn delete_many(&self, keys: &[String]) -> Result<u64, CacheError> {
        if keys.is_empty() {
            return Ok(0);
        }
        let full_keys: Vec<String> = keys.iter().map(|key| self.make_key(key)).collect();
        let mut conn = self.connection.clone();
        limited(async move { conn.del(full_keys).await }).await
    }

    // ANCHOR: incr
    /// Adds `by` to the counter at `key` atomically (INCRBY) and returns the new value.
    /// Unlike Django, a missing key is not an error: Redis starts it at 0, so the first
    /// `incr(key, 1)` returns 1. A counter keeps no TTL unless you [`Cache::expire`] it.
    pub async fn incr(&self, key: &str, by: i64) -> Result<i64, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        limited(async move { conn.incr(key, by).await }).await
    }

    /// Subtracts `by` from the counter at `key` atomically (DECRBY); a missing key starts at 0.
    pub async fn decr(&self, key: &str, by: i64) -> Result<i64, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        limited(async move { conn.decr(key, by).await }).await
    }
    // ANCHOR_END: incr

    /// Time left to live: `Ok(None)` when the key exists but never expires or does not exist.
    pub async fn ttl(&self, key: &str) -> Result<Option<Duration>, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        let seconds: i64 = limited(async move { conn.ttl(key).await }).await?;
        // -1: no expiry, -2: no such key.
        Ok(u64::try_from(seconds).ok().map(Duration::from_secs))
    }

    /// Gives `key` a new time to live; `false` when the key does not exist.
    pub async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        let seconds = ttl_seconds(ttl) as i64;
        limited(async move { conn.expire(key, seconds).await }).await
    }

    /// Removes the time to live of `key`, so it stays until deleted.
    pub async fn persist(&self, key: &str) -> Result<bool, CacheError> {
        let (mut conn, key) = (self.connection.clone(), self.make_key(key));
        limited(async move { conn.persist(key).await }).await
    }

    // ANCHOR: delete_pattern
    /// Deletes every key matching the glob `pattern` (e.g. `stats:*`); returns how many.
    ///
    /// SCAN walks the keyspace a batch at a time, so Redis keeps serving other clients;
    /// KEYS would block the whole server while it reads every key.
    pub async fn delete_pattern(&self, pattern: &str) -> Result<u64, CacheError> {
        let full_pattern = self.make_key(pattern);
        let mut cursor = 0u64;
        let mut deleted = 0;
        loop {
            let mut conn = self.connection.clone();
            let scan = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&full_pattern)
                .arg("COUNT")
                .arg(SCAN_BATCH)
                .to_owned();
            let (next, keys): (u64, Vec<String>) =
                limited(async move { scan.query_async(&mut conn).await }).await?;
            if !keys.is_empty() {
                let mut conn = self.connection.clone();
                deleted += limited(async move { conn.del::<_, u64>(keys).await }).await?;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }
    // ANCHOR_END: delete_pattern
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
// ANCHOR_END: todo_cache
