//! The dashboard's sidebar: every category with the visitor's task counts.
//!
//! Counting tasks is the expensive part of the page, so the sidebar is a cached fragment, the
//! counterpart of the seed's `{% cache 500 sidebar user.id %}`: kept 500 s, once per user.

use std::time::Duration;

use minijinja::context;
use workbook::model::User;

use crate::AppState;
use crate::fragments::{cached_fragment, make_template_fragment_key};

const FRAGMENT_NAME: &str = "sidebar";
const TIMEOUT: Duration = Duration::from_secs(500);

// ANCHOR: vary_on
/// What the fragment varies on: the user's id, or `None` for a visitor, as Django's `user.id`
/// is for an anonymous user. Each user's counts differ, so each needs a fragment of their own.
fn vary_on(user_id: Option<i64>) -> Vec<String> {
    vec![user_id.map_or_else(|| "None".to_owned(), |id| id.to_string())]
}
// ANCHOR_END: vary_on

// ANCHOR: render
/// The sidebar's HTML for `user`: computed at most once per user every 500 s.
pub async fn render(state: &AppState, user: Option<&User>) -> anyhow::Result<String> {
    let user_id = user.map(|user| user.id);
    cached_fragment(&state.cache, FRAGMENT_NAME, TIMEOUT, &vary_on(user_id), || async {
        let categories = workbook::sidebar::category_counts(&state.db, user_id).await?;
        let owner = user.map_or("everyone", |user| user.username.as_str());
        let template = state.templates.get_template("sidebar.html")?;
        Ok(template.render(context! { owner, categories })?)
    })
    .await
}
// ANCHOR_END: render

// ANCHOR: todo_invalidate_all
// ANCHOR: invalidate
/// Forgets every sidebar: each one lists every category, so a category change makes them all
/// stale. Each key is rebuilt from its vary-on values and deleted; nothing else is touched.
pub async fn invalidate_all(state: &AppState) -> anyhow::Result<()> {
    let users: Vec<User> =
        state.db.fetch_all(workbook::db::query_as("SELECT id, username FROM users")).await?;
    let keys: Vec<String> = users
        .iter()
        .map(|user| Some(user.id))
        .chain([None])
        .map(|user_id| make_template_fragment_key(FRAGMENT_NAME, &vary_on(user_id)))
        .collect();
    state.cache.delete_many(&keys).await?;
    Ok(())
}
// ANCHOR_END: invalidate
// ANCHOR_END: todo_invalidate_all
