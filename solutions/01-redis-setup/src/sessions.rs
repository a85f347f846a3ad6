//! Sessions stored in Redis: the counterpart of Django's cache session backend.
//!
//! Logging in creates a random session id, stores `session:<id>` in Redis with a TTL and
//! hands the id to the browser in a cookie. Logging out deletes the key, so the session is gone
//! at once, on every server that shares the Redis.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};
use workbook::model::User;

use crate::AppState;

const COOKIE_NAME: &str = "session";

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
// ANCHOR: login
/// `POST /login` with `{"username": "..."}`.
pub async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    Json(form): Json<LoginForm>,
) -> Result<(CookieJar, Json<SessionData>), StatusCode> {
    let user: Option<User> = state
        .db
        .fetch_optional(
            workbook::db::query_as("SELECT id, username FROM users WHERE username = $1")
                .bind(&form.username),
        )
        .await
        .map_err(answer(StatusCode::INTERNAL_SERVER_ERROR, "looking the user up"))?;
    let user = user.ok_or(StatusCode::UNAUTHORIZED)?;

    let session_id = uuid::Uuid::new_v4().simple().to_string();
    let data = SessionData { username: user.username };
    let value = serde_json::to_string(&data)
        .map_err(answer(StatusCode::INTERNAL_SERVER_ERROR, "encoding the session"))?;
    let ttl = state.cache.settings().session_ttl;
    state
        .cache
        .set_for(&session_key(&session_id), &value, ttl)
        .await
        // Without Redis there is nowhere to keep the session: say so instead of pretending.
        .map_err(answer(StatusCode::SERVICE_UNAVAILABLE, "storing the session"))?;

    let cookie =
        Cookie::build((COOKIE_NAME, session_id)).http_only(true).same_site(SameSite::Lax).path("/");
    Ok((jar.add(cookie), Json(data)))
}
// ANCHOR_END: login

/// `GET /me`: who is logged in, or `401`.
pub async fn me(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Json<SessionData>, StatusCode> {
    let session_id = jar.get(COOKIE_NAME).ok_or(StatusCode::UNAUTHORIZED)?.value();
    let stored = state
        .cache
        .get(&session_key(session_id))
        .await
        .map_err(answer(StatusCode::SERVICE_UNAVAILABLE, "reading the session"))?
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let data = serde_json::from_str(&stored)
        .map_err(answer(StatusCode::UNAUTHORIZED, "decoding the session"))?;
    Ok(Json(data))
}

// ANCHOR: logout
/// `POST /logout`: deletes the session from Redis and clears the cookie.
pub async fn logout(State(state): State<AppState>, jar: CookieJar) -> (CookieJar, StatusCode) {
    if let Some(cookie) = jar.get(COOKIE_NAME) {
        // The browser forgets the cookie either way; a key left behind expires with its TTL.
        if let Err(err) = state.cache.delete(&session_key(cookie.value())).await {
            tracing::warn!("deleting the session: {err}");
        }
    }
    (jar.remove(Cookie::build(COOKIE_NAME).path("/")), StatusCode::NO_CONTENT)
}
// ANCHOR_END: logout

fn session_key(session_id: &str) -> String {
    format!("session:{session_id}")
}

/// Turns an error into the answer `status`, logging what went wrong while `doing` what: the
/// client learns only the status, the service's log says why.
fn answer<E: std::fmt::Display>(
    status: StatusCode,
    doing: &'static str,
) -> impl FnOnce(E) -> StatusCode {
    move |err| {
        tracing::warn!("{doing}: {err}");
        status
    }
}
// ANCHOR_END: todo_sessions
