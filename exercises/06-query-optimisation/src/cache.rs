//! The page-view counter in Redis.

use std::time::Duration;

use redis::AsyncCommands;

use crate::settings::CacheSettings;

/// How long one Redis command may take: the page must not hang on a slow Redis.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);

// ANCHOR: todo_cache
#[derive(Clone)]
pub struct Cache {
    settings: CacheSettings,
}

impl Cache {
    pub fn new(settings: CacheSettings) -> Self {
        Self { settings }
    }

    /// TODO: this opens a new Redis connection for every command. Open one shared connection
    /// (`redis::aio::ConnectionManager`) in `new` and clone it here instead.
    async fn connection(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        let client = redis::Client::open(self.settings.url.as_str())?;
        client.get_multiplexed_async_connection().await
    }

    pub async fn ping(&self) -> redis::RedisResult<()> {
        let mut conn = self.connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok(())
    }

    /// Counts one more view of a category's page; returns the new total.
    pub async fn count_view(&self, category_id: i64) -> redis::RedisResult<u64> {
        let key = format!(
            "{}:{}:views:category:{category_id}",
            self.settings.key_prefix, self.settings.key_version
        );
        let increment = async {
            let mut conn = self.connection().await?;
            conn.incr(key, 1).await
        };
        match tokio::time::timeout(COMMAND_TIMEOUT, increment).await {
            Ok(result) => result,
            Err(_) => {
                Err(redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut)))
            }
        }
    }
}
// ANCHOR_END: todo_cache
