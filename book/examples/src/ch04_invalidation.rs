//! Chapter 4's worked example: a user's open-task count, kept right when a task is completed.
//!
//! The exercise keeps the category list and each category's task list right, whatever
//! changes; this example does it for one entity and one kind of write, so that the technique
//! stands out: the value's key carries a *generation*, and a write gives the user a new
//! generation instead of deleting the value.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use workbook::Db;
use workbook::db::{query, query_scalar};

/// How long a count may live: the safety net if a generation bump is ever lost.
const COUNT_TTL: u64 = 600;

// ANCHOR: keys
/// Where the current generation of `user_id`'s data is kept.
fn generation_key(user_id: i64) -> String {
    format!("example:generation:user:{user_id}")
}

/// The generation of a user no write has touched yet (or whose generation expired).
const FIRST_GENERATION: &str = "first";

/// Where the count lives while the generation is `generation`.
fn count_key(user_id: i64, generation: &str) -> String {
    format!("example:open-tasks:user:{user_id}@{generation}")
}
// ANCHOR_END: keys

// ANCHOR: read
/// How many of `user_id`'s tasks are still open.
pub async fn open_tasks(
    db: &Db,
    redis: &mut ConnectionManager,
    user_id: i64,
) -> workbook::db::Result<i64> {
    // The generation first, before the database: if a write lands while we count, it gives the
    // user a new generation, and what we store below goes under the old key, where nobody looks.
    let Ok(generation) = redis.get::<_, Option<String>>(generation_key(user_id)).await else {
        return count_open_tasks(db, user_id).await; // Redis away: slower, still right
    };
    let key = count_key(user_id, generation.as_deref().unwrap_or(FIRST_GENERATION));
    if let Ok(Some(count)) = redis.get::<_, Option<i64>>(&key).await {
        return Ok(count);
    }
    let count = count_open_tasks(db, user_id).await?;
    if let Err(err) = redis.set_ex::<_, _, ()>(&key, count, COUNT_TTL).await {
        tracing::warn!("could not cache {key}: {err}");
    }
    Ok(count)
}

async fn count_open_tasks(db: &Db, user_id: i64) -> workbook::db::Result<i64> {
    let sql = "SELECT COUNT(*) FROM tasks WHERE owner_id = $1 AND NOT done";
    db.fetch_scalar(query_scalar(sql).bind(user_id)).await
}
// ANCHOR_END: read

// ANCHOR: write
/// Marks task `task_id` done, then retires its owner's cached count. The write and its
/// invalidation live together, in the one function every caller uses: a handler that forgets
/// to invalidate cannot exist.
pub async fn complete_task(
    db: &Db,
    redis: &mut ConnectionManager,
    task_id: i64,
) -> workbook::db::Result<()> {
    let sql = "SELECT owner_id FROM tasks WHERE id = $1";
    let owner: i64 = db.fetch_scalar(query_scalar(sql).bind(task_id)).await?;
    db.execute(query("UPDATE tasks SET done = $1 WHERE id = $2").bind(true).bind(task_id)).await?;
    // A random generation is never used twice, even after an old one expired; and it lives
    // longer than any count, so no count can outlive the generation it was stored under.
    let generation = uuid::Uuid::new_v4().to_string();
    let retired = redis.set_ex::<_, _, ()>(generation_key(owner), generation, 2 * COUNT_TTL);
    if let Err(err) = retired.await {
        // The chapter's last section: what to do about this, so that no read serves the old
        // count once Redis is back. The exercise does it; this example only says so.
        tracing::warn!("user {owner}'s open-task count may be stale: {err}");
    }
    Ok(())
}
// ANCHOR_END: write

#[cfg(test)]
mod tests {
    use workbook::profile::profiled;

    use super::*;
    use crate::testing::{Redis, database};

    /// An open task of user 1.
    async fn open_task_of_user_one(db: &Db) -> i64 {
        let sql = "SELECT id FROM tasks WHERE owner_id = 1 AND NOT done ORDER BY id LIMIT 1";
        db.fetch_scalar(query_scalar(sql)).await.unwrap()
    }

    #[tokio::test]
    async fn completing_a_task_retires_the_owners_count_only() {
        let redis = Redis::start().await;
        let (db, _dir) = database(60).await;
        let mut conn = redis.connection().await;

        let before = open_tasks(&db, &mut conn, 1).await.unwrap();
        let other = open_tasks(&db, &mut conn, 2).await.unwrap();
        let (again, profile) = profiled(open_tasks(&db, &mut conn, 1)).await;
        assert_eq!((again.unwrap(), profile.queries), (before, 0), "the second read is a hit");

        complete_task(&db, &mut conn, open_task_of_user_one(&db).await).await.unwrap();
        assert_eq!(open_tasks(&db, &mut conn, 1).await.unwrap(), before - 1);
        let (unchanged, profile) = profiled(open_tasks(&db, &mut conn, 2)).await;
        assert_eq!((unchanged.unwrap(), profile.queries), (other, 0), "user 2 keeps its cache");
    }

    #[tokio::test]
    async fn a_slow_reader_cannot_bring_back_a_stale_count() {
        let redis = Redis::start().await;
        let (db, _dir) = database(60).await;
        let mut conn = redis.connection().await;

        // A reader takes the generation and counts the old rows...
        let generation: Option<String> = conn.get(generation_key(1)).await.unwrap();
        let stale = open_tasks(&db, &mut conn, 1).await.unwrap();
        // ...a write lands, and only then does the reader store what it counted.
        complete_task(&db, &mut conn, open_task_of_user_one(&db).await).await.unwrap();
        let old_key = count_key(1, generation.as_deref().unwrap_or(FIRST_GENERATION));
        conn.set_ex::<_, _, ()>(&old_key, stale, COUNT_TTL).await.unwrap();

        assert_eq!(open_tasks(&db, &mut conn, 1).await.unwrap(), stale - 1);
    }
}
