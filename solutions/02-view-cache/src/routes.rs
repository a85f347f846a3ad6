//! The pages of exercise 2, and which of them are cached how.

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use workbook::pages;

use crate::AppState;
use crate::cache::Cache;
use crate::identity;
use crate::view_cache::{PageCache, cache_page};

/// `cache_page(60 * 15)`: how long a whole page stays in Redis.
const PAGE_TTL: Duration = Duration::from_secs(15 * 60);

// ANCHOR: router
pub fn router(state: AppState, cache: Cache) -> Router {
    let for_everyone = PageCache::for_everyone(cache.clone(), PAGE_TTL);
    let for_each_user = PageCache::for_each_user(cache, PAGE_TTL);
    Router::new()
        .route("/tasks", cached(get(task_list), for_everyone.clone()))
        .route("/tasks/{id}", cached(get(task_detail), for_everyone))
        .route("/my/tasks", cached(get(my_tasks), for_each_user))
        .route("/dashboard", get(dashboard))
        .with_state(state)
}

/// Puts the page cache in front of one route's handlers.
fn cached(route: MethodRouter<AppState>, pages: PageCache) -> MethodRouter<AppState> {
    route.layer(from_fn_with_state(pages, cache_page))
}
// ANCHOR_END: router

#[derive(Deserialize)]
struct ListFilter {
    category: Option<i64>,
}

/// `GET /tasks[?category=ID]`: every task, or one category's.
async fn task_list(
    State(state): State<AppState>,
    Query(filter): Query<ListFilter>,
) -> Result<Html<String>, StatusCode> {
    page(pages::task_list(&state.db, filter.category).await)
}

/// `GET /tasks/{id}`.
async fn task_detail(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Html<String>, StatusCode> {
    page(pages::task_detail(&state.db, id).await)
}

#[derive(Deserialize)]
struct SignIn {
    #[serde(rename = "as")]
    user: Option<String>,
}

/// `GET /my/tasks`: the signed-in user's tasks. `?as=NAME` signs in as NAME first.
async fn my_tasks(
    State(state): State<AppState>,
    Query(sign_in): Query<SignIn>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Response, StatusCode> {
    if let Some(user) = sign_in.user {
        let html = page(pages::user_tasks(&state.db, &user).await)?;
        return Ok((jar.add(identity::sign_in_cookie(&user)), html).into_response());
    }
    let user = identity::signed_in(&headers).ok_or(StatusCode::UNAUTHORIZED)?;
    Ok(page(pages::user_tasks(&state.db, &user).await)?.into_response())
}

// ANCHOR: todo_dashboard
// ANCHOR: dashboard
/// `GET /dashboard`: `@cache_control(private=True, max_age=300)`. Not cached on the server:
/// the user's own browser may keep it for five minutes, shared caches must not keep it at all.
async fn dashboard(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, StatusCode> {
    let user = identity::signed_in(&headers).ok_or(StatusCode::UNAUTHORIZED)?;
    let html = page(pages::dashboard(&state.db, &user).await)?;
    Ok(([(header::CACHE_CONTROL, "private, max-age=300")], html).into_response())
}
// ANCHOR_END: dashboard
// ANCHOR_END: todo_dashboard

/// A rendered page, `404` when it is about nothing, `500` when the database failed.
fn page(
    rendered: Result<Option<String>, impl std::fmt::Display>,
) -> Result<Html<String>, StatusCode> {
    match rendered {
        Ok(Some(html)) => Ok(Html(html)),
        Ok(None) => Err(StatusCode::NOT_FOUND),
        Err(err) => {
            tracing::error!("rendering a page failed: {err}");
            Err(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}
