//! Expensive queries served from the cache: the "caching querysets" part of the lesson.
//!
//! Each handler asks the cache first and runs its query only on a miss, once per TTL, however
//! many requests arrive. If Redis is down, `get_or_set` simply computes: the page still works.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use workbook::reports::{self, CategorySummary, UserStats};

use crate::AppState;

// ANCHOR: todo_reports
// ANCHOR: task_count
/// `GET /reports/task-count`: `{"count": n}`.
pub async fn task_count(State(state): State<AppState>) -> Result<Json<Value>, StatusCode> {
    let ttl = state.cache.settings().default_timeout;
    let count: i64 = state
        .cache
        .get_or_set("reports:task-count", ttl, || reports::task_count(&state.db))
        .await
        .map_err(database_error)?;
    Ok(Json(json!({ "count": count })))
}
// ANCHOR_END: task_count

/// `GET /reports/categories`: every category with its number of tasks.
pub async fn categories(
    State(state): State<AppState>,
) -> Result<Json<Vec<CategorySummary>>, StatusCode> {
    let ttl = state.cache.settings().default_timeout;
    let categories = state
        .cache
        .get_or_set("reports:categories", ttl, || reports::categories_with_counts(&state.db))
        .await
        .map_err(database_error)?;
    Ok(Json(categories))
}

/// `GET /reports/users/{id}`: one user's statistics, or `404`.
pub async fn user_stats(
    State(state): State<AppState>,
    Path(user_id): Path<i64>,
) -> Result<Json<UserStats>, StatusCode> {
    let ttl = state.cache.settings().default_timeout;
    // `None` (no such user) is cached too, so probing unknown ids does not reach the database.
    let stats: Option<UserStats> = state
        .cache
        .get_or_set(&format!("reports:user:{user_id}"), ttl, || {
            reports::user_stats(&state.db, user_id)
        })
        .await
        .map_err(database_error)?;
    stats.map(Json).ok_or(StatusCode::NOT_FOUND)
}

fn database_error(err: workbook::db::Error) -> StatusCode {
    tracing::error!("report query failed: {err}");
    StatusCode::INTERNAL_SERVER_ERROR
}
// ANCHOR_END: todo_reports
