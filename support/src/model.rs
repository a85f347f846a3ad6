//! The task manager's data: the same three tables as the seed lesson's Django models.

use crate::db::row;
use serde::{Deserialize, Serialize};

row! {
    /// Someone who logs in and owns tasks.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct User {
        pub id: i64,
        pub username: String,
    }
}

row! {
    /// A named group of tasks (`Category` in the seed lesson).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Category {
        pub id: i64,
        pub name: String,
    }
}

row! {
    /// One to-do item (`Task` in the seed lesson).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Task {
        pub id: i64,
        pub title: String,
        pub done: bool,
        pub category_id: i64,
        pub owner_id: i64,
    }
}

row! {
    /// One line of a category's task list: a task with the names the page shows instead of ids
    /// (what Django's `select_related("category", "owner")` loads). Declared here, with the other
    /// rows, because reading a row needs `sqlx`, which exercise code does not reach.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct TaskLine {
        pub id: i64,
        pub title: String,
        pub done: bool,
        pub category: String,
        pub owner: String,
    }
}
