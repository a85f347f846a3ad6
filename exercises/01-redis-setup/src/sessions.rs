//! Sessions stored in Redis: the counterpart of Django's cache session backend.
//!
//! `POST /login` with `{"username": "..."}` logs a seeded user in, `GET /me` says who is logged
//! in (or `401`), and `POST /logout` ends the session.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};

use crate::AppState;

#[derive(Deserialize)]
pub struct LoginForm {
    pub username: String,
}

/// What a session remembers, and what `/me` returns.
#[derive(Serialize, Deserialize)]
pub struct SessionData {
    pub username: String,
}

// ANCHOR: todo_sessions
/// `POST /login`.
pub async fn login(
    State(_state): State<AppState>,
    _jar: CookieJar,
    Json(form): Json<LoginForm>,
) -> Result<(CookieJar, Json<SessionData>), StatusCode> {
    // TODO: look `form.username` up in the database, store a new session in Redis with a TTL
    // of `session_ttl`, and send the session id back in an HttpOnly cookie.
    let _ = form.username;
    Err(StatusCode::NOT_IMPLEMENTED)
}

/// `GET /me`: who is logged in, or `401`.
pub async fn me(
    State(_state): State<AppState>,
    _jar: CookieJar,
) -> Result<Json<SessionData>, StatusCode> {
    // TODO: read the session named by the cookie from Redis.
    Err(StatusCode::NOT_IMPLEMENTED)
}

/// `POST /logout`: ends the session.
pub async fn logout(State(_state): State<AppState>, _jar: CookieJar) -> StatusCode {
    // TODO: delete the session from Redis and clear the cookie.
    StatusCode::NOT_IMPLEMENTED
}
// ANCHOR_END: todo_sessions
