//! Chapter 4's worked example: search results, kept right whatever task changes.
//!
//! A search for "bike" can be cached under its term, but a write cannot tell which terms it
//! made stale: renaming a task to "Fix the bike" changes the answers for "bike", "fix", "ike"
//! and every other piece of both titles, keys nobody can list. So every search key carries the
//! task table's *generation*, and a write moves the table to the next generation instead of
//! deleting anything: every old answer becomes unreachable at once, and expires on its own.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use workbook::Db;
use workbook::db::{query, query_as};

/// How long the results of one search may live.
const RESULTS_TTL: u64 = 300;

// ANCHOR: keys
/// The task table's generation: one counter for every search. It has no TTL, so it only ever
/// grows and no generation comes round twice.
const GENERATION_KEY: &str = "example:tasks:generation";

/// Where the results of searching for `term` live while the table is at `generation`.
fn results_key(generation: u64, term: &str) -> String {
    format!("example:tasks:search:{generation}:{term}")
}
// ANCHOR_END: keys

// ANCHOR: read
/// The titles of the tasks whose title contains `term`.
pub async fn search(
    db: &Db,
    redis: &mut ConnectionManager,
    term: &str,
) -> workbook::db::Result<Vec<String>> {
    // The generation before the database: the answer is filed under the generation it was
    // true for, so a write that lands while we search leaves it where no one looks.
    let Ok(generation) = redis.get::<_, Option<u64>>(GENERATION_KEY).await else {
        return search_database(db, term).await; // Redis away: slower, still right
    };
    let key = results_key(generation.unwrap_or(0), term);
    if let Ok(Some(cached)) = redis.get::<_, Option<String>>(&key).await
        && let Ok(titles) = serde_json::from_str(&cached)
    {
        return Ok(titles);
    }
    let titles = search_database(db, term).await?;
    let json = serde_json::to_string(&titles).expect("a list of strings is JSON");
    if let Err(err) = redis.set_ex::<_, _, ()>(&key, json, RESULTS_TTL).await {
        tracing::warn!("could not cache the search for {term:?}: {err}");
    }
    Ok(titles)
}

async fn search_database(db: &Db, term: &str) -> workbook::db::Result<Vec<String>> {
    let sql = "SELECT title FROM tasks WHERE title LIKE $1 ORDER BY id";
    let rows = db.fetch_all(query_as::<(String,)>(sql).bind(format!("%{term}%"))).await?;
    Ok(rows.into_iter().map(|(title,)| title).collect())
}
// ANCHOR_END: read

// ANCHOR: write
/// Renames task `task_id`, then moves the table to its next generation: no cached search
/// can show the old title any more, whichever terms it was for.
pub async fn rename_task(
    db: &Db,
    redis: &mut ConnectionManager,
    task_id: i64,
    title: &str,
) -> workbook::db::Result<()> {
    db.execute(query("UPDATE tasks SET title = $1 WHERE id = $2").bind(title).bind(task_id))
        .await?;
    // After the write, not before: a search in between would file the old title under the
    // new generation.
    if let Err(err) = redis.incr::<_, _, u64>(GENERATION_KEY, 1).await {
        tracing::warn!("cached searches may show task {task_id}'s old title: {err}");
    }
    Ok(())
}
// ANCHOR_END: write

#[cfg(test)]
mod tests {
    use workbook::profile::profiled;

    use super::*;
    use crate::testing::{Redis, database};

    /// A task of the seed data and a word of its title.
    async fn a_task(db: &Db) -> (i64, String) {
        let sql = "SELECT id, title FROM tasks ORDER BY id LIMIT 1";
        let (id, title) = db.fetch_all(query_as::<(i64, String)>(sql)).await.unwrap().remove(0);
        (id, title.split_whitespace().next().unwrap().to_owned())
    }

    #[tokio::test]
    async fn a_rename_retires_every_search_at_once() {
        let redis = Redis::start().await;
        let (db, _dir) = database(60).await;
        let mut conn = redis.connection().await;
        let (id, word) = a_task(&db).await;

        let before = search(&db, &mut conn, &word).await.unwrap();
        let (again, profile) = profiled(search(&db, &mut conn, &word)).await;
        assert_eq!((again.unwrap(), profile.queries), (before.clone(), 0), "a hit");

        rename_task(&db, &mut conn, id, "Zebra crossing").await.unwrap();
        let after = search(&db, &mut conn, &word).await.unwrap();
        assert!(after.len() < before.len(), "{word:?}: {before:?} then {after:?}");
        let zebra = search(&db, &mut conn, "Zebra").await.unwrap();
        assert_eq!(zebra, ["Zebra crossing"]);
    }

    #[tokio::test]
    async fn a_slow_search_cannot_bring_back_an_old_title() {
        let redis = Redis::start().await;
        let (db, _dir) = database(60).await;
        let mut conn = redis.connection().await;
        let (id, word) = a_task(&db).await;

        // A search takes the generation and reads the old titles...
        let generation: Option<u64> = conn.get(GENERATION_KEY).await.unwrap();
        let stale = search_database(&db, &word).await.unwrap();
        // ...a rename lands, and only then does the search store what it read.
        rename_task(&db, &mut conn, id, "Zebra crossing").await.unwrap();
        let old_key = results_key(generation.unwrap_or(0), &word);
        conn.set_ex::<_, _, ()>(&old_key, serde_json::to_string(&stale).unwrap(), RESULTS_TTL)
            .await
            .unwrap();

        assert_ne!(search(&db, &mut conn, &word).await.unwrap(), stale);
    }
}
