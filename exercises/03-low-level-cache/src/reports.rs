//! Expensive queries served from the cache: the "caching querysets" part of the lesson.
//!
//! The queries are in `workbook::reports` (`task_count`, `categories_with_counts`,
//! `user_stats`). Serve each through `state.cache.get_or_set` with the default timeout, under
//! the keys `reports:task-count`, `reports:categories` and `reports:user:{id}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;
use workbook::reports::{CategorySummary, UserStats};

use crate::AppState;

// ANCHOR: todo_reports
/// `GET /reports/task-count`: `{"count": n}`.
pub async fn task_count(State(state): State<AppState>) -> Result<Json<Value>, StatusCode> {
    // TODO: `get_or_set("reports:task-count", ttl, || workbook::reports::task_count(&state.db))`.
    let _ = state;
    Err(StatusCode::NOT_IMPLEMENTED)
}

/// `GET /reports/categories`: every category with its number of tasks.
pub async fn categories(
    State(state): State<AppState>,
) -> Result<Json<Vec<CategorySummary>>, StatusCode> {
    // TODO: cache `workbook::reports::categories_with_counts`.
    let _ = state;
    Err(StatusCode::NOT_IMPLEMENTED)
}

/// `GET /reports/users/{id}`: one user's statistics, or `404`.
pub async fn user_stats(
    State(state): State<AppState>,
    Path(user_id): Path<i64>,
) -> Result<Json<UserStats>, StatusCode> {
    // TODO: cache `workbook::reports::user_stats` (an `Option`: cache "no such user" too).
    let _ = (state, user_id);
    Err(StatusCode::NOT_IMPLEMENTED)
}
// ANCHOR_END: todo_reports
