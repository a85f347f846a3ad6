//! Who is asking: the username in the `user` cookie.
//!
//! A plain cookie keeps this exercise about caching (exercise 1 showed real sessions stored in
//! Redis), and it keeps working while Redis is down. It is not a login you could ship: anyone
//! can set the cookie to any name.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use workbook::Db;
use workbook::model::User;

use crate::AppState;

const USER_COOKIE: &str = "user";

#[derive(Deserialize)]
pub struct LoginForm {
    pub username: String,
}

/// `POST /login` with `{"username": "..."}`: sets the cookie for a known user, else `401`.
pub async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    Json(form): Json<LoginForm>,
) -> Result<(CookieJar, StatusCode), StatusCode> {
    let user = find_user(&state.db, &form.username).await.map_err(|err| {
        tracing::error!("looking up {:?} failed: {err}", form.username);
        StatusCode::INTERNAL_SERVER_ERROR
    })?;
    let user = user.ok_or(StatusCode::UNAUTHORIZED)?;
    let cookie = Cookie::build((USER_COOKIE, user.username))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/");
    Ok((jar.add(cookie), StatusCode::NO_CONTENT))
}

/// The user named by the request's cookie; `None` for a visitor who has not logged in.
pub async fn current_user(db: &Db, jar: &CookieJar) -> workbook::db::Result<Option<User>> {
    match jar.get(USER_COOKIE) {
        Some(cookie) => find_user(db, cookie.value()).await,
        None => Ok(None),
    }
}

async fn find_user(db: &Db, username: &str) -> workbook::db::Result<Option<User>> {
    db.fetch_optional(
        workbook::db::query_as("SELECT id, username FROM users WHERE username = $1").bind(username),
    )
    .await
}
