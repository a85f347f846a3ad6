//! The HTTP routes of exercise 3.

use axum::Router;
use axum::routing::{delete, get, post};

use crate::{AppState, counters, entries, reports};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/reports/task-count", get(reports::task_count))
        .route("/reports/categories", get(reports::categories))
        .route("/reports/users/{id}", get(reports::user_stats))
        .route("/counters/{name}", get(counters::read))
        .route("/counters/{name}/incr", post(counters::incr))
        .route("/counters/{name}/decr", post(counters::decr))
        .route("/cache", delete(entries::remove_matching))
        .route("/cache/many", get(entries::read_many).post(entries::write_many))
        .route("/cache/delete-many", post(entries::remove_many))
        .route("/cache/{key}", get(entries::read).put(entries::write).delete(entries::remove))
        .route("/cache/{key}/ttl", get(entries::ttl))
        .route("/cache/{key}/expire", post(entries::expire))
        .route("/cache/{key}/persist", post(entries::persist))
        .with_state(state)
}
