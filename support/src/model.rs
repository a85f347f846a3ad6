//! The task manager's data: the same three tables as the seed lesson's Django models.

use serde::{Deserialize, Serialize};

/// Someone who logs in and owns tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
}

/// A named group of tasks (`Category` in the seed lesson).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Category {
    pub id: i64,
    pub name: String,
}

/// One to-do item (`Task` in the seed lesson).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub done: bool,
    pub category_id: i64,
    pub owner_id: i64,
}

/// One line of a category's task list: a task with the names the page shows instead of ids
/// (what Django's `select_related("category", "owner")` loads). Declared here, with the other
/// rows, because a row's `FromRow` derive needs `sqlx`, which exercise code does not reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct TaskLine {
    pub id: i64,
    pub title: String,
    pub done: bool,
    pub category: String,
    pub owner: String,
}
