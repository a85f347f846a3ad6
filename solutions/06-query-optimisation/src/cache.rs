//! The page-view counter in Redis, over one shared connection.
//!
//! A [`ConnectionManager`] multiplexes every request over a single connection: for Redis that
//! *is* the bounded pool (a pool of one), because Redis answers commands in order and a single
//! pipe keeps it busy. It is created once and cloned into handlers, never opened per request.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::profiling;
use crate::settings::CacheSettings;

/// How long one Redis command may take: the page must not hang on a slow Redis.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);

// ANCHOR: todo_cache
#[derive(Clone)]
pub struct Cache {
    connection: ConnectionManager,
    settings: CacheSettings,
}

impl Cache {
    // ANCHOR: shared_connection
    /// Prepares the shared connection; it is opened lazily, on the first command.
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
    // ANCHOR_END: shared_connection

    pub async fn ping(&self) -> redis::RedisResult<()> {
        let mut conn = self.connection.clone();
        profiling::time_cache(redis::cmd("PING").query_async::<String>(&mut conn)).await?;
        Ok(())
    }

    /// Counts one more view of a category's page; returns the new total.
    pub async fn count_view(&self, category_id: i64) -> redis::RedisResult<u64> {
        let mut conn = self.connection.clone();
        let key = format!(
            "{}:{}:views:category:{category_id}",
            self.settings.key_prefix, self.settings.key_version
        );
        let increment = async move { conn.incr(key, 1).await };
        match tokio::time::timeout(COMMAND_TIMEOUT, profiling::time_cache(increment)).await {
            Ok(result) => result,
            Err(_) => {
                Err(redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut)))
            }
        }
    }
}
// ANCHOR_END: todo_cache
