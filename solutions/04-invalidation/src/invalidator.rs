//! The hook on the data layer that keeps the cache honest: each [`Change`] retires exactly the
//! cached entries it made stale, and nothing else.

use crate::entry_cache::{Entry, EntryCache};
use crate::repository::Change;

// ANCHOR: todo_stale_entries
// ANCHOR: stale_entries
/// The cached entries that no longer agree with the database after `change`.
pub fn stale_entries(change: &Change) -> Vec<Entry> {
    match change {
        Change::CategoryCreated(_) | Change::CategoryRenamed(_) => vec![Entry::Categories],
        // Its tasks went with it.
        Change::CategoryDeleted(category) => {
            vec![Entry::Categories, Entry::TasksOf(category.id)]
        }
        Change::TaskCreated(task) | Change::TaskUpdated(task) | Change::TaskDeleted(task) => {
            vec![Entry::TasksOf(task.category_id)]
        }
    }
}
// ANCHOR_END: stale_entries
// ANCHOR_END: todo_stale_entries

/// What the repository calls after each write.
pub async fn invalidate(cache: EntryCache, change: Change) {
    for entry in stale_entries(&change) {
        cache.invalidate(entry).await;
    }
}

#[cfg(test)]
mod tests {
    use workbook::model::{Category, Task};

    use super::*;

    #[test]
    fn a_task_change_retires_its_own_category_only() {
        let task =
            Task { id: 7, title: "Fix the bike".into(), done: false, category_id: 3, owner_id: 1 };
        assert_eq!(stale_entries(&Change::TaskUpdated(task)), vec![Entry::TasksOf(3)]);
    }

    #[test]
    fn deleting_a_category_retires_the_list_and_its_tasks() {
        let category = Category { id: 4, name: "Garden".into() };
        assert_eq!(
            stale_entries(&Change::CategoryDeleted(category)),
            vec![Entry::Categories, Entry::TasksOf(4)]
        );
    }
}
