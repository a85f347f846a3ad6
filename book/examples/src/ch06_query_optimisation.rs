//! Chapter 6's worked example: the team page, a list of users with their open tasks.
//!
//! The exercise optimises the task list of a category; this page has the same diseases on
//! another table: an N+1 loop, a filter without an index, and no way to see either. Both
//! versions of the loader are here, so the lesson (and the tests) can compare them.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use workbook::Db;
use workbook::db::{query, query_as, query_scalar};
use workbook::model::User;

/// One line of the team page.
pub type TeamLine = (String, i64);

// ANCHOR: n_plus_one
/// The first version: one query for the users, then one more *per user*. Fifty users, fifty
/// one queries, and a page that gets slower as the team grows.
pub async fn team_naive(db: &Db) -> workbook::db::Result<Vec<TeamLine>> {
    let users: Vec<User> =
        db.fetch_all(query_as("SELECT id, username FROM users ORDER BY id")).await?;
    let mut lines = Vec::with_capacity(users.len());
    for user in users {
        let sql = "SELECT COUNT(*) FROM tasks WHERE owner_id = $1 AND NOT done";
        let open: i64 = db.fetch_scalar(query_scalar(sql).bind(user.id)).await?;
        lines.push((user.username, open));
    }
    Ok(lines)
}
// ANCHOR_END: n_plus_one

// ANCHOR: one_query
/// The same lines in one query, whatever the number of users: the database joins and counts,
/// which is what Django's `annotate(open=Count(...))` asks of it. The LEFT JOIN keeps users
/// without open tasks, with a count of 0.
pub async fn team(db: &Db) -> workbook::db::Result<Vec<TeamLine>> {
    db.fetch_all(query_as(
        "SELECT users.username, COUNT(tasks.id)
         FROM users LEFT JOIN tasks ON tasks.owner_id = users.id AND NOT tasks.done
         GROUP BY users.id, users.username ORDER BY users.id",
    ))
    .await
}
// ANCHOR_END: one_query

// ANCHOR: index
/// `WHERE owner_id = ...` and the join above read every task without an index on the column
/// (`SCAN tasks` in SQLite's `EXPLAIN QUERY PLAN`). Created at start-up; `IF NOT EXISTS`
/// makes that safe to repeat.
pub async fn create_owner_index(db: &Db) -> workbook::db::Result<()> {
    db.execute(query("CREATE INDEX IF NOT EXISTS tasks_owner_id ON tasks (owner_id)")).await?;
    Ok(())
}
// ANCHOR_END: index

// ANCHOR: query_count
/// Middleware: says in an `X-Queries` header how many queries the request ran. The support
/// crate counts every query run inside `profiled`, whichever handle or connection ran it.
pub async fn query_count(request: Request, next: Next) -> Response {
    let (mut response, profile) = workbook::profile::profiled(next.run(request)).await;
    response.headers_mut().insert("x-queries", HeaderValue::from(profile.queries));
    response
}
// ANCHOR_END: query_count

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;
    use workbook::profile::profiled;

    use super::*;
    use crate::testing::{database, database_and_config};

    #[tokio::test]
    async fn one_query_gives_the_same_page_as_the_loop() {
        let (db, _dir) = database(80).await;
        let (naive, loop_cost) = profiled(team_naive(&db)).await;
        let (joined, join_cost) = profiled(team(&db)).await;
        let naive = naive.unwrap();
        assert_eq!(naive, joined.unwrap());
        assert_eq!(loop_cost.queries, 1 + naive.len() as u64);
        assert_eq!(join_cost.queries, 1);
    }

    #[tokio::test]
    async fn the_index_turns_a_scan_into_a_search() {
        let (db, config, _dir) = database_and_config(20).await;
        let plan = |db: Db| async move {
            let sql = "EXPLAIN QUERY PLAN SELECT id FROM tasks WHERE owner_id = 1";
            let rows: Vec<(i64, i64, i64, String)> = db.fetch_all(query_as(sql)).await.unwrap();
            rows.into_iter().map(|row| row.3).collect::<Vec<_>>().join("; ")
        };
        let before = plan(db.clone()).await;
        assert!(before.contains("SCAN tasks"), "{before}");
        create_owner_index(&db).await.unwrap();
        create_owner_index(&db).await.unwrap(); // `IF NOT EXISTS`: start-up can repeat it
        // A new connection: an idle one of the pool may still plan with the schema it read
        // before the index existed (EXPLAIN does not make SQLite read the schema again).
        let after = plan(Db::connect(&config).await.unwrap()).await;
        // `USING COVERING INDEX` here: the index alone holds every column the query reads.
        assert!(after.contains("SEARCH tasks USING COVERING INDEX tasks_owner_id"), "{after}");
    }

    #[tokio::test]
    async fn the_header_counts_the_requests_queries() {
        let (db, _dir) = database(20).await;
        let app = Router::new()
            .route(
                "/team",
                get(move || {
                    let db = db.clone();
                    async move { format!("{:?}", team(&db).await) }
                }),
            )
            .layer(axum::middleware::from_fn(query_count));
        let request = axum::http::Request::get("/team").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.headers()["x-queries"], "1");
    }
}
