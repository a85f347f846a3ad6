//! The task list of a category.

use workbook::Db;
use workbook::model::Task;

pub use workbook::model::TaskLine;

// ANCHOR: todo_in_category
/// The tasks of `category_id` with their category and owner names.
///
/// TODO: this runs 1 + 2 × (number of tasks) queries, the N+1 problem. Load the page in a
/// constant number of queries (a JOIN, or a batched `IN (...)` query per related table).
pub async fn in_category(db: &Db, category_id: i64) -> workbook::db::Result<Vec<TaskLine>> {
    let tasks: Vec<Task> = db
        .fetch_all(
            workbook::db::query_as(
                "SELECT id, title, done, category_id, owner_id FROM tasks
                 WHERE category_id = $1 ORDER BY id",
            )
            .bind(category_id),
        )
        .await?;
    let mut lines = Vec::with_capacity(tasks.len());
    for task in tasks {
        let category: String = db
            .fetch_scalar(
                workbook::db::query_scalar("SELECT name FROM categories WHERE id = $1")
                    .bind(task.category_id),
            )
            .await?;
        let owner: String = db
            .fetch_scalar(
                workbook::db::query_scalar("SELECT username FROM users WHERE id = $1")
                    .bind(task.owner_id),
            )
            .await?;
        lines.push(TaskLine { id: task.id, title: task.title, done: task.done, category, owner });
    }
    Ok(lines)
}
// ANCHOR_END: todo_in_category

// ANCHOR: todo_index
// TODO: an index for `WHERE category_id = $1`, created at start-up. Check it with
// `EXPLAIN QUERY PLAN` in the sqlite3 shell: `SCAN tasks` means every task is read (on
// PostgreSQL, `EXPLAIN` in psql says `Seq Scan`).
// ANCHOR_END: todo_index
