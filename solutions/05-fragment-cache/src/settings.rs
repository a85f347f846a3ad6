//! The cache settings, read from the environment: the counterpart of Django's `CACHES`.

use workbook::config::var_or;

/// Everything the service needs to know to use Redis as its cache.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// `REDIS_URL`, e.g. `redis://127.0.0.1:6379/1` (the last part is the database index).
    pub url: String,
    /// `CACHE_KEY_PREFIX`: keeps this service's keys apart from anyone else's.
    pub key_prefix: String,
    /// `CACHE_KEY_VERSION`: bump it to make every old entry unreachable at once.
    pub key_version: u32,
}

impl CacheSettings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            url: var_or("REDIS_URL", "redis://127.0.0.1:6379/1")?,
            key_prefix: var_or("CACHE_KEY_PREFIX", "workbook")?,
            key_version: var_or("CACHE_KEY_VERSION", "1")?,
        })
    }
}
