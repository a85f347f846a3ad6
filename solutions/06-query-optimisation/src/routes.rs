//! The HTTP routes of exercise 6.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router, middleware};
use serde::Serialize;

use crate::slow_log::RequestRecord;
use crate::tasks::{self, TaskLine};
use crate::{AppState, profiling};

// ANCHOR: todo_routes
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/categories/{id}/tasks", get(category_tasks))
        .route("/requests/slowest", get(slowest_requests))
        .layer(middleware::from_fn_with_state(state.slow_log.clone(), profiling::server_timing))
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
    let tasks = tasks::in_category(&state.db, category_id).await.map_err(|err| {
        tracing::error!("loading the tasks of category {category_id} failed: {err}");
        StatusCode::INTERNAL_SERVER_ERROR
    })?;
    // A view counter is nice to have: without Redis the page still answers.
    let views = state.cache.count_view(category_id).await.ok();
    Ok(Json(TaskPage { category_id, views, tasks }))
}

/// `GET /requests/slowest`: the slowest recent requests, slowest first.
async fn slowest_requests(State(state): State<AppState>) -> Json<Vec<RequestRecord>> {
    Json(state.slow_log.slowest())
}
// ANCHOR_END: todo_routes
