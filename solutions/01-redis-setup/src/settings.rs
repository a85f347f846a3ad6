//! The cache settings, read from the environment: the counterpart of Django's `CACHES`.

use std::time::Duration;

use workbook::config::var_or;

// ANCHOR: settings
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
        Ok(Self {
            url: var_or("REDIS_URL", "redis://127.0.0.1:6379/1")?,
            key_prefix: var_or("CACHE_KEY_PREFIX", "workbook")?,
            key_version: var_or("CACHE_KEY_VERSION", "1")?,
            default_timeout: Duration::from_secs(var_or("CACHE_DEFAULT_TIMEOUT", "300")?),
            session_ttl: Duration::from_secs(var_or("SESSION_TTL", "1209600")?),
        })
    }
}
// ANCHOR_END: todo_from_env
// ANCHOR_END: settings
