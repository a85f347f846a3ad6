//! `/tasks`: writes only. A task's category lists it at `GET /categories/{id}/tasks`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use workbook::model::Task;

use crate::AppState;
use crate::errors::database_error;
use crate::repository::{NewTask, TaskEdit};

/// `POST /tasks` with `{"title", "category_id", "owner_id"}`: `201` and the new task.
pub async fn create(
    State(state): State<AppState>,
    Json(new): Json<NewTask>,
) -> Result<(StatusCode, Json<Task>), StatusCode> {
    let task = state.repository.create_task(&new).await.map_err(database_error)?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// `PUT /tasks/{id}` with `{"title", "done"}`: the updated task, or `404`.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(edit): Json<TaskEdit>,
) -> Result<Json<Task>, StatusCode> {
    let updated = state.repository.update_task(id, &edit).await.map_err(database_error)?;
    updated.map(Json).ok_or(StatusCode::NOT_FOUND)
}

/// `DELETE /tasks/{id}`: `204`, or `404`.
pub async fn delete(State(state): State<AppState>, Path(id): Path<i64>) -> StatusCode {
    match state.repository.delete_task(id).await {
        Ok(Some(_)) => StatusCode::NO_CONTENT,
        Ok(None) => StatusCode::NOT_FOUND,
        Err(err) => database_error(err),
    }
}
