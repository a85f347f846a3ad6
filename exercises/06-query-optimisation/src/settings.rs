//! The cache settings, read from the environment (as in exercise 1).

use workbook::config::var_or;

#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// `REDIS_URL`, e.g. `redis://127.0.0.1:6379/1`.
    pub url: String,
    /// `CACHE_KEY_PREFIX` and `CACHE_KEY_VERSION`: keys are `prefix:version:key`.
    pub key_prefix: String,
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
