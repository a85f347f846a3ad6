//! The dashboard's sidebar: every category with the visitor's task counts.
//!
//! Counting tasks is the expensive part of the page, so the sidebar is a cached fragment, the
//! counterpart of the seed's `{% cache 500 sidebar user.id %}`: kept 500 s, once per user.

use std::time::Duration;

use minijinja::context;
use workbook::model::User;

use crate::AppState;
use crate::fragments::cached_fragment;

const FRAGMENT_NAME: &str = "sidebar";
const TIMEOUT: Duration = Duration::from_secs(500);

/// What the fragment varies on: the user's id, or `None` for a visitor, as Django's `user.id`
/// is for an anonymous user. Each user's counts differ, so each needs a fragment of their own.
fn vary_on(user_id: Option<i64>) -> Vec<String> {
    vec![user_id.map_or_else(|| "None".to_owned(), |id| id.to_string())]
}

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

// ANCHOR: todo_invalidate_all
/// Forgets every sidebar: each one lists every category, so a category change makes them all
/// stale.
pub async fn invalidate_all(state: &AppState) -> anyhow::Result<()> {
    // TODO: delete the sidebar fragment of every user, and the visitors' one, by key: rebuild
    // each key with `make_template_fragment_key` and `vary_on`.
    let _ = state;
    Ok(())
}
// ANCHOR_END: todo_invalidate_all
