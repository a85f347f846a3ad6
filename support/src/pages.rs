//! The task manager's HTML pages, rendered from the database.
//!
//! These are the "expensive views" of the caching exercises: each one runs real, counted
//! queries (slowed down by `WORKBOOK_QUERY_DELAY_MS` when it is set). Every function returns
//! `Ok(None)` when what the page is about does not exist, so the caller can answer `404`.
//!
//! Each task is one `<li id="t{id}">`, and the pages of a user say whose they are in
//! `data-user`: the grader recognises a page by these markers.

use crate::Db;
use crate::db::row;
use crate::db::{query_as, query_scalar};
use crate::model::{Category, User};

row! {
    /// One line of a task list: the task with its category's name.
    #[derive(Debug)]
    struct TaskLine {
        id: i64,
        title: String,
        done: bool,
        category: String,
    }
}

/// The query of task lines, completed with `WHERE`/`ORDER BY` (sqlx wants static SQL).
macro_rules! task_lines {
    ($rest:literal) => {
        concat!(
            "SELECT tasks.id, tasks.title, tasks.done, categories.name AS category ",
            "FROM tasks JOIN categories ON categories.id = tasks.category_id ",
            $rest
        )
    };
}

/// `All tasks`, or the tasks of one category; `None` when the category does not exist.
pub async fn task_list(db: &Db, category: Option<i64>) -> sqlx::Result<Option<String>> {
    let (heading, lines) = match category {
        None => {
            let sql = task_lines!("ORDER BY tasks.id");
            ("All tasks".to_owned(), db.fetch_all(query_as(sql)).await?)
        }
        Some(id) => {
            let found: Option<Category> = db
                .fetch_optional(query_as("SELECT id, name FROM categories WHERE id = $1").bind(id))
                .await?;
            let Some(category) = found else { return Ok(None) };
            let sql = task_lines!("WHERE tasks.category_id = $1 ORDER BY tasks.id");
            (category.name, db.fetch_all(query_as(sql).bind(id)).await?)
        }
    };
    let body = format!("<h1>{} ({})</h1>\n{}", escape(&heading), lines.len(), list(&lines));
    Ok(Some(document(&heading, "", &body)))
}

/// One task's page; `None` when there is no such task.
pub async fn task_detail(db: &Db, id: i64) -> sqlx::Result<Option<String>> {
    let sql = task_lines!("WHERE tasks.id = $1");
    let found: Option<TaskLine> = db.fetch_optional(query_as(sql).bind(id)).await?;
    Ok(found.map(|task| {
        let state = if task.done { "done" } else { "open" };
        let body = format!(
            "<h1 id=\"t{}\" class=\"{state}\">{}</h1>\n<p class=\"cat\">{}</p>",
            task.id,
            escape(&task.title),
            escape(&task.category)
        );
        document(&task.title, "", &body)
    }))
}

/// The tasks `username` owns; `None` when there is no such user.
pub async fn user_tasks(db: &Db, username: &str) -> sqlx::Result<Option<String>> {
    let Some(user) = find_user(db, username).await? else { return Ok(None) };
    let sql = task_lines!("WHERE tasks.owner_id = $1 ORDER BY tasks.id");
    let lines: Vec<TaskLine> = db.fetch_all(query_as(sql).bind(user.id)).await?;
    let heading = format!("Tasks of {}", user.username);
    let body = format!("<h1>{} ({})</h1>\n{}", escape(&heading), lines.len(), list(&lines));
    Ok(Some(document(&heading, &user.username, &body)))
}

/// A user's dashboard: a greeting and how many of their tasks are still open.
pub async fn dashboard(db: &Db, username: &str) -> sqlx::Result<Option<String>> {
    let Some(user) = find_user(db, username).await? else { return Ok(None) };
    let open: i64 = db
        .fetch_scalar(
            query_scalar("SELECT COUNT(*) FROM tasks WHERE owner_id = $1 AND NOT done")
                .bind(user.id),
        )
        .await?;
    let body = format!(
        "<h1>Dashboard</h1>\n<p>Hello {}, you have {open} open tasks.</p>",
        escape(&user.username)
    );
    Ok(Some(document("Dashboard", &user.username, &body)))
}

async fn find_user(db: &Db, username: &str) -> sqlx::Result<Option<User>> {
    db.fetch_optional(query_as("SELECT id, username FROM users WHERE username = $1").bind(username))
        .await
}

fn list(lines: &[TaskLine]) -> String {
    let items: Vec<String> = lines
        .iter()
        .map(|task| {
            let state = if task.done { "done" } else { "open" };
            format!(
                "  <li id=\"t{}\" class=\"{state}\">{} <span class=\"cat\">{}</span></li>",
                task.id,
                escape(&task.title),
                escape(&task.category)
            )
        })
        .collect();
    format!("<ul>\n{}\n</ul>", items.join("\n"))
}

/// The page around `body`; `user` is empty on pages that belong to nobody.
fn document(title: &str, user: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{}</title>\
         </head>\n<body data-user=\"{}\">\n{body}\n</body>\n</html>\n",
        escape(title),
        escape(user)
    )
}

/// Escapes text for HTML, so that a task titled `<script>` shows as text.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::Config;
    use crate::seed::Dataset;

    async fn temp_db(dir: &std::path::Path) -> Db {
        let config = Config {
            bind: "127.0.0.1:0".parse().unwrap(),
            database_url: format!("sqlite://{}", dir.join("pages.sqlite3").display()),
            seed: 9,
            tasks: 40,
            query_delay: Duration::ZERO,
        };
        Db::open(&config).await.expect("open the test database")
    }

    #[tokio::test]
    async fn pages_show_exactly_their_tasks() {
        let dir = tempfile::tempdir().unwrap();
        let db = temp_db(dir.path()).await;
        let data = Dataset::generate(9, 40);

        let all = task_list(&db, None).await.unwrap().unwrap();
        assert!(data.tasks.iter().all(|task| all.contains(&format!("id=\"t{}\"", task.id))));

        let category = data.tasks[0].category_id;
        let filtered = task_list(&db, Some(category)).await.unwrap().unwrap();
        for task in &data.tasks {
            let shown = filtered.contains(&format!("id=\"t{}\"", task.id));
            assert_eq!(shown, task.category_id == category);
        }

        let alice = user_tasks(&db, "alice").await.unwrap().unwrap();
        assert!(alice.contains("data-user=\"alice\""));
        for task in &data.tasks {
            assert_eq!(alice.contains(&format!("id=\"t{}\"", task.id)), task.owner_id == 1);
        }
    }

    #[tokio::test]
    async fn missing_things_give_none() {
        let dir = tempfile::tempdir().unwrap();
        let db = temp_db(dir.path()).await;
        assert!(task_list(&db, Some(999)).await.unwrap().is_none());
        assert!(task_detail(&db, 999).await.unwrap().is_none());
        assert!(user_tasks(&db, "mallory").await.unwrap().is_none());
        assert!(dashboard(&db, "mallory").await.unwrap().is_none());
        assert!(dashboard(&db, "bob").await.unwrap().unwrap().contains("Hello bob"));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
