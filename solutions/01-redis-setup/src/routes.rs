//! The HTTP routes of exercise 1.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::{AppState, sessions};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/cache/{key}", get(read).put(write).delete(remove))
        .route("/login", post(sessions::login))
        .route("/logout", post(sessions::logout))
        .route("/me", get(sessions::me))
        .with_state(state)
}

// ANCHOR: read
/// `GET /cache/{key}`: the stored text, or `404`. A Redis failure counts as a miss.
async fn read(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<String, StatusCode> {
    match state.cache.get(&key).await {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(StatusCode::NOT_FOUND),
        Err(err) => {
            tracing::warn!("cache read of {key:?} failed, treating it as a miss: {err}");
            Err(StatusCode::NOT_FOUND)
        }
    }
}
// ANCHOR_END: read

/// `PUT /cache/{key}`: stores the request body for the default timeout.
async fn write(State(state): State<AppState>, Path(key): Path<String>, body: String) -> StatusCode {
    match state.cache.set(&key, &body).await {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(err) => {
            tracing::warn!("cache write of {key:?} failed: {err}");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// `DELETE /cache/{key}`.
async fn remove(State(state): State<AppState>, Path(key): Path<String>) -> StatusCode {
    match state.cache.delete(&key).await {
        Ok(_) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}
