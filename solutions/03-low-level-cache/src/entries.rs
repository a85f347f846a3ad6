//! The cache API over HTTP: single keys, many keys at once, TTLs and deleting by pattern.
//! Values are any JSON; they come back exactly as they went in.

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::cache::CacheError;

/// `GET /cache/{key}`: the stored JSON, or `404`.
pub async fn read(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<Value>, StatusCode> {
    match state.cache.get(&key).await {
        Ok(Some(value)) => Ok(Json(value)),
        Ok(None) => Err(StatusCode::NOT_FOUND),
        Err(err) => Err(unavailable(err)),
    }
}

/// `PUT /cache/{key}` with a JSON body: stores it for the default timeout.
pub async fn write(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Json(value): Json<Value>,
) -> StatusCode {
    match state.cache.set(&key, &value).await {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(err) => unavailable(err),
    }
}

/// `DELETE /cache/{key}`.
pub async fn remove(State(state): State<AppState>, Path(key): Path<String>) -> StatusCode {
    match state.cache.delete(&key).await {
        Ok(_) => StatusCode::NO_CONTENT,
        Err(err) => unavailable(err),
    }
}

#[derive(Deserialize)]
pub struct KeyList {
    /// Comma-separated cache keys.
    keys: String,
}

/// `GET /cache/many?keys=a,b,c`: `{"a": ..., "c": ...}` for the keys that exist.
pub async fn read_many(
    State(state): State<AppState>,
    Query(list): Query<KeyList>,
) -> Result<Json<HashMap<String, Value>>, StatusCode> {
    let keys: Vec<String> = list.keys.split(',').map(str::to_owned).collect();
    state.cache.get_many(&keys).await.map(Json).map_err(unavailable)
}

#[derive(Deserialize)]
pub struct ManyEntries {
    entries: HashMap<String, Value>,
    /// Seconds to live; the default timeout when absent.
    ttl: Option<u64>,
}

/// `POST /cache/many` with `{"entries": {"a": 1, ...}, "ttl": 60}`.
pub async fn write_many(
    State(state): State<AppState>,
    Json(body): Json<ManyEntries>,
) -> StatusCode {
    let ttl = body.ttl.map(Duration::from_secs).unwrap_or(state.cache.settings().default_timeout);
    let entries: Vec<(String, Value)> = body.entries.into_iter().collect();
    match state.cache.set_many(&entries, ttl).await {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(err) => unavailable(err),
    }
}

#[derive(Deserialize)]
pub struct DeleteKeys {
    keys: Vec<String>,
}

/// `POST /cache/delete-many` with `{"keys": [...]}`: `{"deleted": n}`.
pub async fn remove_many(
    State(state): State<AppState>,
    Json(body): Json<DeleteKeys>,
) -> Result<Json<Value>, StatusCode> {
    let deleted = state.cache.delete_many(&body.keys).await.map_err(unavailable)?;
    Ok(Json(json!({ "deleted": deleted })))
}

#[derive(Deserialize)]
pub struct Pattern {
    pattern: String,
}

/// `DELETE /cache?pattern=reports:*`: `{"deleted": n}`.
pub async fn remove_matching(
    State(state): State<AppState>,
    Query(query): Query<Pattern>,
) -> Result<Json<Value>, StatusCode> {
    let deleted = state.cache.delete_pattern(&query.pattern).await.map_err(unavailable)?;
    Ok(Json(json!({ "deleted": deleted })))
}

/// `GET /cache/{key}/ttl`: `{"ttl": seconds}`, `null` when it never expires or is missing.
pub async fn ttl(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<Value>, StatusCode> {
    let ttl = state.cache.ttl(&key).await.map_err(unavailable)?;
    Ok(Json(json!({ "ttl": ttl.map(|ttl| ttl.as_secs()) })))
}

#[derive(Deserialize)]
pub struct Seconds {
    seconds: u64,
}

/// `POST /cache/{key}/expire?seconds=n`: `404` when the key does not exist.
pub async fn expire(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(seconds): Query<Seconds>,
) -> StatusCode {
    match state.cache.expire(&key, Duration::from_secs(seconds.seconds)).await {
        Ok(true) => StatusCode::NO_CONTENT,
        Ok(false) => StatusCode::NOT_FOUND,
        Err(err) => unavailable(err),
    }
}

/// `POST /cache/{key}/persist`: the key stays until deleted.
pub async fn persist(State(state): State<AppState>, Path(key): Path<String>) -> StatusCode {
    match state.cache.persist(&key).await {
        Ok(_) => StatusCode::NO_CONTENT,
        Err(err) => unavailable(err),
    }
}

/// An explicit cache operation that Redis could not do: say so with `503`.
fn unavailable(err: CacheError) -> StatusCode {
    tracing::warn!("cache operation failed: {err}");
    StatusCode::SERVICE_UNAVAILABLE
}
