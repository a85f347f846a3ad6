//! Chapter 5's worked example: the category menu of every page, cached as a template fragment.
//!
//! The exercise caches the dashboard's sidebar, which differs for each user; the menu is the
//! same for everybody, so it has no vary-on values and one key. The rest is the same idea:
//! render the fragment once, paste its HTML into each page, delete it by key when the data
//! it shows changes.

use md5::{Digest, Md5};
use minijinja::{Environment, Value, context};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use workbook::Db;
use workbook::db::{query, query_as};
use workbook::model::Category;

// ANCHOR: templates
/// The fragment: what Django's `{% cache 500 category_menu %}` block would hold.
const MENU: &str = "<nav>{% for category in categories %}\
    <a href=\"/categories/{{ category.id }}\">{{ category.name }}</a>{% endfor %}</nav>";
/// A page around it: the title is rendered every time, the menu is pasted in.
const PAGE: &str = "<h1>{{ title }}</h1>{{ menu }}";

fn templates() -> Environment<'static> {
    let mut templates = Environment::new();
    // Names ending in `.html` turn on escaping of every `{{ value }}`.
    templates.add_template("menu.html", MENU).expect("a valid template");
    templates.add_template("page.html", PAGE).expect("a valid template");
    templates
}
// ANCHOR_END: templates

/// Seconds the menu stays in Redis.
const MENU_TIMEOUT: u64 = 500;

// ANCHOR: menu_key
/// Django's `make_template_fragment_key("category_menu")`: `template.cache.<name>.<md5>`,
/// where the md5 is taken over the vary-on values. The menu varies on nothing, so it is the
/// md5 of no bytes at all, and there is one menu for everybody.
fn menu_key() -> String {
    let digest = Md5::new().finalize();
    // md-5 0.11's digest no longer prints as hex by itself: two hex digits per byte.
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("template.cache.category_menu.{hex}")
}
// ANCHOR_END: menu_key

// ANCHOR: cached_menu
/// The menu's HTML: from Redis on a hit; on a miss (or with Redis away) rendered and stored.
async fn cached_menu(db: &Db, redis: &mut ConnectionManager) -> anyhow::Result<String> {
    let key = menu_key();
    if let Ok(Some(html)) = redis.get::<_, Option<String>>(&key).await {
        return Ok(html);
    }
    let sql = "SELECT id, name FROM categories ORDER BY name";
    let categories: Vec<Category> = db.fetch_all(query_as(sql)).await?;
    let html = templates().get_template("menu.html")?.render(context! { categories })?;
    if let Err(err) = redis.set_ex::<_, _, ()>(&key, &html, MENU_TIMEOUT).await {
        tracing::warn!("could not cache the menu: {err}");
    }
    Ok(html)
}

/// A page with `title`, around the cached menu.
pub async fn page(db: &Db, redis: &mut ConnectionManager, title: &str) -> anyhow::Result<String> {
    let menu = cached_menu(db, redis).await?;
    // The menu is HTML, escaped once already when it was rendered: marked safe, it is pasted
    // in as it is. Passed as a plain string, `<nav>` would reach the browser as `&lt;nav&gt;`.
    let menu = Value::from_safe_string(menu);
    Ok(templates().get_template("page.html")?.render(context! { title, menu })?)
}
// ANCHOR_END: cached_menu

// ANCHOR: rename
/// Renames a category, then deletes the one fragment that shows category names. Deleting by
/// key costs one DEL; no pattern scan, and nothing else in the cache is touched.
pub async fn rename_category(
    db: &Db,
    redis: &mut ConnectionManager,
    id: i64,
    name: &str,
) -> anyhow::Result<()> {
    db.execute(query("UPDATE categories SET name = $1 WHERE id = $2").bind(name).bind(id)).await?;
    redis.del::<_, ()>(menu_key()).await?;
    Ok(())
}
// ANCHOR_END: rename

#[cfg(test)]
mod tests {
    use workbook::profile::profiled;

    use super::*;
    use crate::testing::{Redis, database};

    #[test]
    fn the_key_is_djangos() {
        // make_template_fragment_key("category_menu") in Django.
        assert_eq!(menu_key(), "template.cache.category_menu.d41d8cd98f00b204e9800998ecf8427e");
    }

    #[tokio::test]
    async fn the_menu_is_rendered_once_and_pasted_unescaped() {
        let redis = Redis::start().await;
        let (db, _dir) = database(20).await;
        let mut conn = redis.connection().await;

        let (first, profile) = profiled(page(&db, &mut conn, "Tasks <all>")).await;
        assert_eq!(profile.queries, 1);
        let (second, profile) = profiled(page(&db, &mut conn, "Tasks <all>")).await;
        assert_eq!(profile.queries, 0, "the menu comes from Redis");
        let (first, second) = (first.unwrap(), second.unwrap());
        assert_eq!(first, second);
        assert!(second.contains("<h1>Tasks &lt;all&gt;</h1><nav><a href="), "{second}");
        let ttl: i64 = conn.ttl(menu_key()).await.unwrap();
        assert!((1..=500).contains(&ttl));
    }

    #[tokio::test]
    async fn renaming_a_category_refreshes_the_menu() {
        let redis = Redis::start().await;
        let (db, _dir) = database(20).await;
        let mut conn = redis.connection().await;

        page(&db, &mut conn, "Home").await.unwrap();
        rename_category(&db, &mut conn, 1, "Renamed & moved").await.unwrap();
        let after = page(&db, &mut conn, "Home").await.unwrap();
        assert!(after.contains(">Renamed &amp; moved</a>"), "{after}");
    }
}
