//! The HTTP routes of exercise 4.

use axum::Router;
use axum::routing::{get, post, put};

use crate::{AppState, categories, tasks};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/categories", get(categories::list).post(categories::create))
        .route("/categories/{id}", put(categories::rename).delete(categories::delete))
        .route("/categories/{id}/tasks", get(categories::tasks))
        .route("/tasks", post(tasks::create))
        .route("/tasks/{id}", put(tasks::update).delete(tasks::delete))
        .with_state(state)
}
