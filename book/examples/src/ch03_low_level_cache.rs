//! Chapter 3's worked example: the low-level cache API on data next to the exercise's reports.
//!
//! The exercise wraps these commands in a typed client and caches the three reports; this
//! example uses them directly, on the dashboard sidebar's category counts, a login counter and
//! the titles of recently viewed tasks.

use std::collections::HashMap;
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::Serialize;
use serde::de::DeserializeOwned;
use workbook::Db;
use workbook::sidebar::CategoryCount;

// ANCHOR: json
/// Reads a value stored as JSON. Missing, unreadable (written by older code) or unreachable
/// all mean the same to a cache: not here, compute it.
async fn read_json<T: DeserializeOwned>(redis: &mut ConnectionManager, key: &str) -> Option<T> {
    let text: Option<String> = redis.get(key).await.ok()?;
    serde_json::from_str(&text?).ok()
}

/// Stores `value` as JSON for `ttl`: a format any other service (Django included) can read.
async fn write_json<T: Serialize>(
    redis: &mut ConnectionManager,
    key: &str,
    value: &T,
    ttl: Duration,
) -> anyhow::Result<()> {
    let text = serde_json::to_string(value)?;
    redis.set_ex::<_, _, ()>(key, text, ttl.as_secs().max(1)).await?;
    Ok(())
}
// ANCHOR_END: json

// ANCHOR: cache_aside
/// Every category with its number of tasks, computed at most once per five minutes: look in
/// the cache, and only on a miss run the query and store its answer.
pub async fn category_counts(
    db: &Db,
    redis: &mut ConnectionManager,
) -> workbook::db::Result<Vec<CategoryCount>> {
    const KEY: &str = "example:sidebar:counts";
    if let Some(counts) = read_json(redis, KEY).await {
        return Ok(counts);
    }
    let counts = workbook::sidebar::category_counts(db, None).await?;
    if let Err(err) = write_json(redis, KEY, &counts, Duration::from_secs(300)).await {
        // The answer is right either way; only the next request pays for the miss.
        tracing::warn!("could not cache {KEY}: {err}");
    }
    Ok(counts)
}
// ANCHOR_END: cache_aside

// ANCHOR: counter
/// Counts a failed login of `username` in the current minute and returns the count so far.
/// INCR adds in Redis, atomically: two requests at once both count. (GET, add one, SET would
/// let one of them overwrite the other.) The counter's first increment gives it its TTL.
pub async fn count_failed_login(
    redis: &mut ConnectionManager,
    username: &str,
) -> redis::RedisResult<i64> {
    let key = format!("example:failed-logins:{username}");
    let count: i64 = redis.incr(&key, 1).await?;
    if count == 1 {
        redis.expire::<_, ()>(&key, 60).await?;
    }
    Ok(count)
}
// ANCHOR_END: counter

// ANCHOR: many
/// Remembers the titles of tasks a user has seen, in one round trip: a pipeline sends every
/// `SET ... EX` at once and reads the replies together.
pub async fn remember_titles(
    redis: &mut ConnectionManager,
    titles: &[(i64, String)],
) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    for (id, title) in titles {
        pipe.set_ex(format!("example:title:{id}"), title, 600).ignore();
    }
    pipe.query_async(redis).await
}

/// The titles of `ids` that are cached, in one MGET however many ids there are.
pub async fn cached_titles(
    redis: &mut ConnectionManager,
    ids: &[i64],
) -> redis::RedisResult<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new()); // MGET with no key is an error
    }
    let keys: Vec<String> = ids.iter().map(|id| format!("example:title:{id}")).collect();
    let titles: Vec<Option<String>> = redis.mget(keys).await?;
    // MGET answers in the order asked, with nil for a missing key.
    Ok(ids.iter().zip(titles).filter_map(|(id, title)| Some((*id, title?))).collect())
}
// ANCHOR_END: many

// ANCHOR: scan
/// How many keys match the glob `pattern`. SCAN walks the keyspace a batch at a time and hands
/// back a cursor to continue from (0 when the walk is over), so Redis serves other clients
/// between batches; KEYS would stop the whole server until it had read every key.
pub async fn count_matching(
    redis: &mut ConnectionManager,
    pattern: &str,
) -> redis::RedisResult<usize> {
    let mut cursor = 0u64;
    let mut count = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(100)
            .query_async(redis)
            .await?;
        count += keys.len();
        if next == 0 {
            return Ok(count);
        }
        cursor = next;
    }
}
// ANCHOR_END: scan

#[cfg(test)]
mod tests {
    use workbook::profile::profiled;

    use super::*;
    use crate::testing::{Redis, database};

    #[tokio::test]
    async fn the_counts_are_computed_once_then_read_from_redis() {
        let redis = Redis::start().await;
        let (db, _dir) = database(30).await;
        let mut conn = redis.connection().await;

        let (first, profile) = profiled(category_counts(&db, &mut conn)).await;
        assert_eq!(profile.queries, 1);
        let (second, profile) = profiled(category_counts(&db, &mut conn)).await;
        assert_eq!(profile.queries, 0, "the second call is a hit");
        assert_eq!(first.unwrap(), second.unwrap());
        let ttl: i64 = conn.ttl("example:sidebar:counts").await.unwrap();
        assert!((1..=300).contains(&ttl));
    }

    #[tokio::test]
    async fn concurrent_increments_are_all_counted() {
        let redis = Redis::start().await;
        let conn = redis.connection().await;
        let attempts: Vec<_> = (0..20)
            .map(|_| {
                let mut conn = conn.clone();
                tokio::spawn(async move { count_failed_login(&mut conn, "alice").await })
            })
            .collect();
        for attempt in attempts {
            attempt.await.unwrap().unwrap();
        }
        let mut conn = conn.clone();
        assert_eq!(count_failed_login(&mut conn, "alice").await.unwrap(), 21);
        let ttl: i64 = conn.ttl("example:failed-logins:alice").await.unwrap();
        assert!((1..=60).contains(&ttl), "the counter expires; TTL {ttl}");
    }

    #[tokio::test]
    async fn many_keys_in_one_round_trip_each_way() {
        let redis = Redis::start().await;
        let mut conn = redis.connection().await;
        let titles = [(1, "Water the plants".to_owned()), (2, "Fix the bike".to_owned())];
        remember_titles(&mut conn, &titles).await.unwrap();

        let found = cached_titles(&mut conn, &[2, 3, 1]).await.unwrap();
        assert_eq!(found.len(), 2, "task 3 was never stored");
        assert_eq!(found[&1], "Water the plants");
        assert!(cached_titles(&mut conn, &[]).await.unwrap().is_empty());
        assert_eq!(count_matching(&mut conn, "example:title:*").await.unwrap(), 2);
        assert_eq!(count_matching(&mut conn, "example:nothing:*").await.unwrap(), 0);
    }
}
