//! Changing a category, and keeping the cached sidebars true to it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use crate::{AppState, sidebar};

#[derive(Deserialize)]
pub struct RenameForm {
    pub name: String,
}

/// `POST /categories/{id}` with `{"name": "..."}`: renames the category.
pub async fn rename(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(form): Json<RenameForm>,
) -> StatusCode {
    let renamed = state
        .db
        .execute(
            workbook::db::query("UPDATE categories SET name = $1 WHERE id = $2")
                .bind(&form.name)
                .bind(id),
        )
        .await;
    match renamed {
        Ok(result) if result.rows_affected() == 0 => return StatusCode::NOT_FOUND,
        Ok(_) => {}
        // Category names are unique.
        Err(workbook::db::Error::Database(err)) if err.is_unique_violation() => {
            return StatusCode::CONFLICT;
        }
        Err(err) => {
            tracing::error!("renaming category {id} failed: {err}");
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    // ANCHOR: after_change
    // The database changed: the cached sidebars show the old name until they are deleted.
    if let Err(err) = sidebar::invalidate_all(&state).await {
        tracing::warn!("sidebars may show the old name of category {id} for 500 s: {err}");
    }
    // ANCHOR_END: after_change
    StatusCode::NO_CONTENT
}
