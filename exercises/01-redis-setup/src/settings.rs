//! The cache settings, read from the environment: the counterpart of Django's `CACHES`.

use std::time::Duration;

/// Everything the service needs to know to use Redis as its cache.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// `REDIS_URL`, e.g. `redis://127.0.0.1:6379/1` (the last part is the database index).
    pub url: String,
    /// `CACHE_KEY_PREFIX`: keeps this service's keys apart from anyone else's.
    pub key_prefix: String,
    /// `CACHE_KEY_VERSION`: bump it to make every old entry unreachable at once.
    pub key_version: u32,
    /// `CACHE_DEFAULT_TIMEOUT`: how long an entry lives unless told otherwise.
    pub default_timeout: Duration,
    /// `SESSION_TTL`: how long a login lasts.
    pub session_ttl: Duration,
}

// ANCHOR: todo_from_env
impl CacheSettings {
    pub fn from_env() -> anyhow::Result<Self> {
        // TODO: read each setting from its environment variable, keeping these values as the
        // defaults for when a variable is unset. `workbook::config::var_or` does the parsing.
        Ok(Self {
            url: "redis://127.0.0.1:6379/1".to_owned(),
            key_prefix: "workbook".to_owned(),
            key_version: 1,
            default_timeout: Duration::from_secs(300),
            session_ttl: Duration::from_secs(1_209_600),
        })
    }
}
// ANCHOR_END: todo_from_env
