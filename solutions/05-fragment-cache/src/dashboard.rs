//! `GET /`: the dashboard page, dynamic around a cached sidebar.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use axum_extra::extract::CookieJar;
use minijinja::{Value, context};

use crate::{AppState, identity, sidebar};

// ANCHOR: page
/// The greeting and the request id are rendered on every request; the sidebar comes from the
/// fragment cache.
pub async fn dashboard(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Html<String>, StatusCode> {
    let user = identity::current_user(&state.db, &jar).await.map_err(internal_error)?;
    let sidebar = sidebar::render(&state, user.as_ref()).await.map_err(internal_error)?;
    let template = state.templates.get_template("dashboard.html").map_err(internal_error)?;
    let page = template
        .render(context! {
            user,
            request_id => uuid::Uuid::new_v4().simple().to_string(),
            // Already-escaped HTML: marked safe so that it is not escaped a second time.
            sidebar => Value::from_safe_string(sidebar),
        })
        .map_err(internal_error)?;
    Ok(Html(page))
}
// ANCHOR_END: page

fn internal_error(err: impl std::fmt::Display) -> StatusCode {
    tracing::error!("the dashboard failed: {err}");
    StatusCode::INTERNAL_SERVER_ERROR
}
