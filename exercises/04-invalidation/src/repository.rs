//! The data layer: every read and write of categories and tasks, in one place.
//!
//! Writes go through here and nowhere else, and each one announces what it changed as a
//! [`Change`] to the hooks registered with [`Repository::on_change`]. That is the counterpart
//! of Django's `post_save`/`post_delete` signals: code that must react to a change (the cache
//! invalidator) subscribes once, instead of every handler remembering to call it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Deserialize;
use workbook::Db;
use workbook::db::query_as;
use workbook::model::{Category, Task};
/// What a write did, with the rows as they are now (or were, for a delete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    CategoryCreated(Category),
    CategoryRenamed(Category),
    /// Deleting a category deletes its tasks too (`ON DELETE CASCADE`).
    CategoryDeleted(Category),
    TaskCreated(Task),
    TaskUpdated(Task),
    TaskDeleted(Task),
}

/// A function called after every write, before the write's request answers.
type Hook = Arc<dyn Fn(Change) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A new task, as `POST /tasks` receives it.
#[derive(Debug, Deserialize)]
pub struct NewTask {
    pub title: String,
    pub category_id: i64,
    pub owner_id: i64,
}

/// The fields `PUT /tasks/{id}` may change. A task stays in its category.
#[derive(Debug, Deserialize)]
pub struct TaskEdit {
    pub title: String,
    pub done: bool,
}

/// The categories and tasks of the database; clones share the hooks.
#[derive(Clone)]
pub struct Repository {
    db: Db,
    hooks: Vec<Hook>,
}

impl Repository {
    pub fn new(db: Db) -> Self {
        Self { db, hooks: Vec::new() }
    }
    /// Calls `hook` after every write, with what the write changed.
    pub fn on_change<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Change) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.hooks.push(Arc::new(move |change| Box::pin(hook(change))));
        self
    }

    /// Tells every hook about `change`, and waits for them: the write's answer must not
    /// leave before the cache forgot what the write made stale.
    async fn announce(&self, change: Change) {
        for hook in &self.hooks {
            hook(change.clone()).await;
        }
    }

    /// Every category, by id.
    pub async fn categories(&self) -> workbook::db::Result<Vec<Category>> {
        self.db.fetch_all(query_as("SELECT id, name FROM categories ORDER BY id")).await
    }

    /// The tasks of one category, by id; none for a category that does not exist.
    pub async fn tasks_in(&self, category_id: i64) -> workbook::db::Result<Vec<Task>> {
        let sql = "SELECT id, title, done, category_id, owner_id FROM tasks \
                   WHERE category_id = $1 ORDER BY id";
        self.db.fetch_all(query_as(sql).bind(category_id)).await
    }

    pub async fn create_category(&self, name: &str) -> workbook::db::Result<Category> {
        let category: Category = self
            .db
            .fetch_optional(
                query_as("INSERT INTO categories (name) VALUES ($1) RETURNING id, name").bind(name),
            )
            .await?
            .ok_or(workbook::db::Error::RowNotFound)?;
        self.announce(Change::CategoryCreated(category.clone())).await;
        Ok(category)
    }

    /// `None` when there is no such category.
    pub async fn rename_category(
        &self,
        id: i64,
        name: &str,
    ) -> workbook::db::Result<Option<Category>> {
        let renamed: Option<Category> = self
            .db
            .fetch_optional(
                query_as("UPDATE categories SET name = $1 WHERE id = $2 RETURNING id, name")
                    .bind(name)
                    .bind(id),
            )
            .await?;
        if let Some(category) = &renamed {
            self.announce(Change::CategoryRenamed(category.clone())).await;
        }
        Ok(renamed)
    }

    /// `None` when there is no such category.
    pub async fn delete_category(&self, id: i64) -> workbook::db::Result<Option<Category>> {
        let deleted: Option<Category> = self
            .db
            .fetch_optional(
                query_as("DELETE FROM categories WHERE id = $1 RETURNING id, name").bind(id),
            )
            .await?;
        if let Some(category) = &deleted {
            self.announce(Change::CategoryDeleted(category.clone())).await;
        }
        Ok(deleted)
    }

    pub async fn create_task(&self, new: &NewTask) -> workbook::db::Result<Task> {
        let sql = "INSERT INTO tasks (title, done, category_id, owner_id) \
                   VALUES ($1, FALSE, $2, $3) RETURNING id, title, done, category_id, owner_id";
        let task: Task = self
            .db
            .fetch_optional(query_as(sql).bind(&new.title).bind(new.category_id).bind(new.owner_id))
            .await?
            .ok_or(workbook::db::Error::RowNotFound)?;
        self.announce(Change::TaskCreated(task.clone())).await;
        Ok(task)
    }

    /// `None` when there is no such task.
    pub async fn update_task(
        &self,
        id: i64,
        edit: &TaskEdit,
    ) -> workbook::db::Result<Option<Task>> {
        let sql = "UPDATE tasks SET title = $1, done = $2 WHERE id = $3 \
                   RETURNING id, title, done, category_id, owner_id";
        let updated: Option<Task> = self
            .db
            .fetch_optional(query_as(sql).bind(&edit.title).bind(edit.done).bind(id))
            .await?;
        if let Some(task) = &updated {
            self.announce(Change::TaskUpdated(task.clone())).await;
        }
        Ok(updated)
    }

    /// `None` when there is no such task.
    pub async fn delete_task(&self, id: i64) -> workbook::db::Result<Option<Task>> {
        let sql =
            "DELETE FROM tasks WHERE id = $1 RETURNING id, title, done, category_id, owner_id";
        let deleted: Option<Task> = self.db.fetch_optional(query_as(sql).bind(id)).await?;
        if let Some(task) = &deleted {
            self.announce(Change::TaskDeleted(task.clone())).await;
        }
        Ok(deleted)
    }
}
