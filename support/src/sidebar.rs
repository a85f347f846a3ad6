//! The dashboard sidebar's data: every category with how many tasks it holds.
//!
//! This is the expensive part of the dashboard page (an aggregate over every task), so it is
//! what exercise 5 caches as a template fragment. Each call counts as one computation in
//! [`crate::stats`]: the grader reads that counter to tell how often the fragment was rebuilt.

use crate::db::row;
use serde::{Deserialize, Serialize};

use crate::db::{Db, query_as};
use crate::stats;

row! {
    /// One line of the sidebar.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct CategoryCount {
        pub id: i64,
        pub name: String,
        /// Tasks in the category: the owner's own, or everybody's for an anonymous visitor.
        pub tasks: i64,
    }
}

/// Every category, by name, with the task count of `owner` (or of all users for `None`).
pub async fn category_counts(db: &Db, owner: Option<i64>) -> sqlx::Result<Vec<CategoryCount>> {
    stats::count_computation();
    db.fetch_all(
        query_as(
            "SELECT categories.id, categories.name, COUNT(tasks.id) AS tasks
             FROM categories
             LEFT JOIN tasks ON tasks.category_id = categories.id
                 AND ($1 IS NULL OR tasks.owner_id = $1)
             GROUP BY categories.id
             ORDER BY categories.name",
        )
        .bind(owner),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::seed::Dataset;

    #[tokio::test]
    async fn counts_match_the_seed_for_one_owner_and_for_everyone() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            bind: "127.0.0.1:0".parse().unwrap(),
            database_url: format!("sqlite://{}", dir.path().join("test.sqlite3").display()),
            seed: 9,
            tasks: 60,
            query_delay: std::time::Duration::ZERO,
        };
        let db = Db::open(&config).await.unwrap();
        let data = Dataset::generate(9, 60);
        let before = stats::Stats::counters();

        let everyone = category_counts(&db, None).await.unwrap();
        let alice = category_counts(&db, Some(1)).await.unwrap();

        assert_eq!(everyone.len(), data.categories.len());
        assert_eq!(everyone.iter().map(|c| c.tasks).sum::<i64>(), 60);
        for line in &alice {
            let expected = data
                .tasks
                .iter()
                .filter(|task| task.category_id == line.id && task.owner_id == 1)
                .count();
            assert_eq!(line.tasks, expected as i64, "category {}", line.name);
        }
        assert!(stats::Stats::counters().since(&before).computations >= 2);
    }
}
