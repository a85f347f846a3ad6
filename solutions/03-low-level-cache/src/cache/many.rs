//! Several keys in one round trip: `MGET`, a pipeline of `SET ... EX`, one `DEL`.

use std::collections::HashMap;
use std::time::Duration;

use redis::AsyncCommands;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Cache, CacheError, limited, ttl_seconds};

// ANCHOR: todo_many
impl Cache {
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
}
// ANCHOR_END: todo_many
