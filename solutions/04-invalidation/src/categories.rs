//! `/categories`: the list is read through the cache; writes go to the repository, whose
//! hook does the invalidating.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use workbook::model::{Category, Task};

use crate::AppState;
use crate::entry_cache::Entry;
use crate::errors::database_error;

#[derive(Deserialize)]
pub struct CategoryForm {
    pub name: String,
}

// ANCHOR: list
/// `GET /categories`: every category, by id.
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<Category>>, StatusCode> {
    let categories = state
        .cache
        .read_through(Entry::Categories, || state.repository.categories())
        .await
        .map_err(database_error)?;
    Ok(Json(categories))
}
// ANCHOR_END: list

/// `GET /categories/{id}/tasks`: the category's tasks, by id.
pub async fn tasks(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Task>>, StatusCode> {
    let tasks = state
        .cache
        .read_through(Entry::TasksOf(id), || state.repository.tasks_in(id))
        .await
        .map_err(database_error)?;
    Ok(Json(tasks))
}

// ANCHOR: create
/// `POST /categories` with `{"name": "..."}`: `201` and the new category.
pub async fn create(
    State(state): State<AppState>,
    Json(form): Json<CategoryForm>,
) -> Result<(StatusCode, Json<Category>), StatusCode> {
    let category = state.repository.create_category(&form.name).await.map_err(database_error)?;
    Ok((StatusCode::CREATED, Json(category)))
}
// ANCHOR_END: create

/// `PUT /categories/{id}` with `{"name": "..."}`: the renamed category, or `404`.
pub async fn rename(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(form): Json<CategoryForm>,
) -> Result<Json<Category>, StatusCode> {
    let renamed = state.repository.rename_category(id, &form.name).await.map_err(database_error)?;
    renamed.map(Json).ok_or(StatusCode::NOT_FOUND)
}

/// `DELETE /categories/{id}`: `204`, or `404`.
pub async fn delete(State(state): State<AppState>, Path(id): Path<i64>) -> StatusCode {
    match state.repository.delete_category(id).await {
        Ok(Some(_)) => StatusCode::NO_CONTENT,
        Ok(None) => StatusCode::NOT_FOUND,
        Err(err) => database_error(err),
    }
}
