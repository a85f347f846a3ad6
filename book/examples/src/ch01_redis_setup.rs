//! Chapter 1's worked example: one-off notices ("Task 12 was assigned to you"), kept in Redis
//! until the user has seen them.
//!
//! The exercise builds the service's general cache client and its sessions; this store is a
//! smaller neighbour built on the same decisions: settings from the environment, one shared
//! connection, namespaced keys, a TTL on every write and a time limit on every command.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use workbook::config::var_or;

// ANCHOR: settings
/// Where notices live and for how long, from `NOTICES_REDIS_URL`, `NOTICES_KEY_PREFIX` and
/// `NOTICES_TTL` (seconds). The defaults are for a laptop; every deployment overrides them.
#[derive(Debug, Clone)]
pub struct NoticeSettings {
    pub url: String,
    pub key_prefix: String,
    pub ttl: Duration,
}

impl NoticeSettings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            url: var_or("NOTICES_REDIS_URL", "redis://127.0.0.1:6379/2")?,
            key_prefix: var_or("NOTICES_KEY_PREFIX", "notices")?,
            ttl: Duration::from_secs(var_or("NOTICES_TTL", "86400")?),
        })
    }
}
// ANCHOR_END: settings

// ANCHOR: time_limit
/// A notice is a nicety: after this long, give up on Redis and carry on without it.
const TIME_LIMIT: Duration = Duration::from_millis(300);

/// Why Redis did not do what we asked.
#[derive(Debug)]
pub enum NoticeError {
    Redis(redis::RedisError),
    TooSlow,
}

/// Runs one Redis command, but never for longer than [`TIME_LIMIT`].
async fn within_time_limit<T>(
    command: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, NoticeError> {
    match tokio::time::timeout(TIME_LIMIT, command).await {
        Ok(result) => result.map_err(NoticeError::Redis),
        Err(_elapsed) => Err(NoticeError::TooSlow),
    }
}
// ANCHOR_END: time_limit

/// The notices of every user; clones share one connection.
#[derive(Clone)]
pub struct NoticeBoard {
    connection: ConnectionManager,
    settings: NoticeSettings,
}

impl NoticeBoard {
    // ANCHOR: connect
    /// Prepares the one connection every request will share. Nothing is sent yet: the service
    /// starts even while Redis is down, and the manager connects (and reconnects) by itself.
    pub fn connect(settings: NoticeSettings) -> anyhow::Result<Self> {
        let client = redis::Client::open(settings.url.as_str())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIME_LIMIT))
            .set_response_timeout(Some(TIME_LIMIT));
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self { connection, settings })
    }
    // ANCHOR_END: connect

    // ANCHOR: key
    /// `notices:alice`: the prefix keeps our keys apart from every other user of this Redis.
    pub fn key(&self, username: &str) -> String {
        format!("{}:{username}", self.settings.key_prefix)
    }
    // ANCHOR_END: key

    // ANCHOR: post
    /// Leaves `text` for `username`. SETEX stores it and its TTL in one command, so there is
    /// no moment in which the key exists without an expiry.
    pub async fn post(&self, username: &str, text: &str) -> Result<(), NoticeError> {
        let (mut conn, key) = (self.connection.clone(), self.key(username));
        let seconds = self.settings.ttl.as_secs().max(1);
        within_time_limit(async move { conn.set_ex(key, text, seconds).await }).await
    }
    // ANCHOR_END: post

    // ANCHOR: take
    /// The user's notice, removed as it is read (GETDEL). A Redis that is down or slow reads as
    /// "no notice": the page renders without it rather than failing.
    pub async fn take(&self, username: &str) -> Option<String> {
        let (mut conn, key) = (self.connection.clone(), self.key(username));
        match within_time_limit(async move { conn.get_del(key).await }).await {
            Ok(notice) => notice,
            Err(err) => {
                tracing::warn!("notices unavailable, showing none: {err:?}");
                None
            }
        }
    }
    // ANCHOR_END: take
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::testing::Redis;

    fn settings(url: String) -> NoticeSettings {
        NoticeSettings { url, key_prefix: "notices".to_owned(), ttl: Duration::from_secs(60) }
    }

    #[tokio::test]
    async fn a_notice_is_shown_once_and_expires_on_its_own() {
        let redis = Redis::start().await;
        let board = NoticeBoard::connect(settings(redis.url())).unwrap();
        board.post("alice", "Task 12 was assigned to you").await.unwrap();

        let ttl: i64 = redis.connection().await.ttl("notices:alice").await.unwrap();
        assert!((1..=60).contains(&ttl), "the notice's TTL is {ttl}");
        assert_eq!(board.take("alice").await.as_deref(), Some("Task 12 was assigned to you"));
        assert_eq!(board.take("alice").await, None, "a notice is shown once");
        assert_eq!(board.take("bob").await, None);
    }

    #[tokio::test]
    async fn without_redis_there_are_no_notices_and_no_hang() {
        // Nothing listens on port 1.
        let board = NoticeBoard::connect(settings("redis://127.0.0.1:1/0".to_owned())).unwrap();
        let started = Instant::now();
        assert_eq!(board.take("alice").await, None);
        assert!(board.post("alice", "hello").await.is_err());
        assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    }

    #[test]
    fn settings_fall_back_to_their_defaults() {
        let settings = NoticeSettings::from_env().unwrap();
        assert_eq!(settings.key_prefix, "notices");
        assert_eq!(settings.ttl, Duration::from_secs(86_400));
    }
}
