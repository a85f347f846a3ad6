//! Several keys in one round trip: `MGET`, a pipeline of `SET ... EX`, one `DEL`.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Cache, CacheError};

// ANCHOR: todo_many
impl Cache {
    /// Reads several keys in ONE round trip (MGET); missing keys are left out.
    pub async fn get_many<T: DeserializeOwned>(
        &self,
        keys: &[String],
    ) -> Result<HashMap<String, T>, CacheError> {
        // TODO: one MGET, not a GET per key.
        let _ = keys;
        Err(CacheError::NotImplemented)
    }

    /// Stores several values for `ttl` in ONE round trip (a pipeline of `SET key value EX`:
    /// MSET cannot set a TTL).
    pub async fn set_many<T: Serialize>(
        &self,
        entries: &[(String, T)],
        ttl: Duration,
    ) -> Result<(), CacheError> {
        // TODO: `redis::pipe()`.
        let _ = (entries, ttl);
        Err(CacheError::NotImplemented)
    }

    /// Removes several keys with one DEL; returns how many existed.
    pub async fn delete_many(&self, keys: &[String]) -> Result<u64, CacheError> {
        // TODO: one DEL with every key.
        let _ = keys;
        Err(CacheError::NotImplemented)
    }
}
// ANCHOR_END: todo_many
