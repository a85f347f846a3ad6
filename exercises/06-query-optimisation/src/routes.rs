//! The HTTP routes of exercise 6.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router, middleware};
use serde::Serialize;
use workbook::Db;

use crate::tasks::{self, TaskLine};
use crate::{AppState, profiling};

// ANCHOR: todo_routes
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/categories/{id}/tasks", get(category_tasks))
        .route("/requests/slowest", get(slowest_requests))
        .layer(middleware::from_fn(profiling::server_timing))
        .with_state(state)
}

#[derive(Serialize)]
struct TaskPage {
    category_id: i64,
    /// How often the page was viewed; `null` while Redis is unreachable.
    views: Option<u64>,
    tasks: Vec<TaskLine>,
}

/// `GET /categories/{id}/tasks`: the category's tasks with category and owner names.
async fn category_tasks(
    State(state): State<AppState>,
    Path(category_id): Path<i64>,
) -> Result<Json<TaskPage>, StatusCode> {
    // TODO: a new connection for every request; use a pool opened once at start-up.
    let db = Db::connect(&state.config).await.map_err(|err| {
        tracing::error!("cannot connect to the database: {err}");
        StatusCode::INTERNAL_SERVER_ERROR
    })?;
    let tasks = tasks::in_category(&db, category_id).await.map_err(|err| {
        tracing::error!("loading the tasks of category {category_id} failed: {err}");
        StatusCode::INTERNAL_SERVER_ERROR
    })?;
    // A view counter is nice to have: without Redis the page still answers.
    let views = state.cache.count_view(category_id).await.ok();
    Ok(Json(TaskPage { category_id, views, tasks }))
}

/// `GET /requests/slowest`: the slowest recent requests, slowest first.
///
/// TODO: list the slowest of the recent requests the profiling middleware recorded.
async fn slowest_requests() -> StatusCode {
    StatusCode::NOT_IMPLEMENTED
}
// ANCHOR_END: todo_routes
