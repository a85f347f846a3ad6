//! The HTTP routes of exercise 5.

use axum::Router;
use axum::routing::{get, post};

use crate::{AppState, categories, dashboard, identity};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/login", post(identity::login))
        .route("/categories/{id}", post(categories::rename))
        .with_state(state)
}
