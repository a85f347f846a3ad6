//! Counters over HTTP: atomic INCRBY/DECRBY, never read-modify-write.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;

#[derive(Deserialize)]
pub struct Step {
    #[serde(default = "one")]
    by: i64,
}

fn one() -> i64 {
    1
}

/// `POST /counters/{name}/incr?by=n`: `{"value": new value}`; a missing counter starts at 0.
pub async fn incr(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(step): Query<Step>,
) -> Result<Json<Value>, StatusCode> {
    let value = state.cache.incr(&counter_key(&name), step.by).await.map_err(unavailable)?;
    Ok(Json(json!({ "value": value })))
}

/// `POST /counters/{name}/decr?by=n`: `{"value": new value}`; a missing counter starts at 0.
pub async fn decr(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(step): Query<Step>,
) -> Result<Json<Value>, StatusCode> {
    let value = state.cache.decr(&counter_key(&name), step.by).await.map_err(unavailable)?;
    Ok(Json(json!({ "value": value })))
}

/// `GET /counters/{name}`: `{"value": n}`, 0 for a counter that was never touched.
pub async fn read(State(state): State<AppState>, Path(name): Path<String>) -> Json<Value> {
    let value: i64 = state.cache.get_or(&counter_key(&name), 0).await;
    Json(json!({ "value": value }))
}

fn counter_key(name: &str) -> String {
    format!("counter:{name}")
}

fn unavailable(err: crate::cache::CacheError) -> StatusCode {
    tracing::warn!("counter update failed: {err}");
    StatusCode::SERVICE_UNAVAILABLE
}
