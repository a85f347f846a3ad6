//! The task list of a category: one query, whatever the number of tasks.

use workbook::Db;

pub use workbook::model::TaskLine;

// ANCHOR: todo_in_category
// ANCHOR: join
/// The tasks of `category_id` with their category and owner names, in one query: the JOINs
/// do what `select_related("category", "owner")` does in Django.
pub async fn in_category(db: &Db, category_id: i64) -> workbook::db::Result<Vec<TaskLine>> {
    db.fetch_all(
        workbook::db::query_as(
            "SELECT tasks.id, tasks.title, tasks.done,
                    categories.name AS category, users.username AS owner
             FROM tasks
             JOIN categories ON categories.id = tasks.category_id
             JOIN users ON users.id = tasks.owner_id
             WHERE tasks.category_id = $1
             ORDER BY tasks.id",
        )
        .bind(category_id),
    )
    .await
}
// ANCHOR_END: join
// ANCHOR_END: todo_in_category

// ANCHOR: todo_index
// ANCHOR: index
/// The index the filter needs. Without it `WHERE tasks.category_id = $1` reads every task
/// (`SCAN tasks` in `EXPLAIN QUERY PLAN`); with it SQLite jumps to the category's tasks
/// (`SEARCH tasks USING INDEX tasks_category_id`). `IF NOT EXISTS` makes start-up repeatable.
pub async fn create_indexes(db: &Db) -> workbook::db::Result<()> {
    db.execute(workbook::db::query(
        "CREATE INDEX IF NOT EXISTS tasks_category_id ON tasks (category_id)",
    ))
    .await?;
    Ok(())
}
// ANCHOR_END: index
// ANCHOR_END: todo_index
