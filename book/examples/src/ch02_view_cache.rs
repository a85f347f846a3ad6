//! Chapter 2's worked example: the category pages, cached whole in Redis by their handler.
//!
//! The exercise writes a reusable middleware, for public and per-user pages; this example
//! does the same job inside one handler, for one public page, so that each step is in plain
//! sight: a key from the URL, a hit answered from Redis, a miss rendered and stored only when
//! it is worth replaying, and a `Cache-Control` header that says so to browsers.

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use workbook::Db;

/// `cache_page(60 * 10)`: how long a category page stays in Redis.
const PAGE_TTL: Duration = Duration::from_secs(10 * 60);

#[derive(Clone)]
pub struct CategoryPages {
    pub db: Db,
    pub redis: ConnectionManager,
}

pub fn router(pages: CategoryPages) -> Router {
    Router::new().route("/categories/{id}", get(category_page)).with_state(pages)
}

// ANCHOR: page_key
/// Everything that selects a different page goes into the key: here the path and the query
/// string (`/categories/3?page=2` is another page than `/categories/3`).
fn page_key(uri: &Uri) -> String {
    let url = uri.path_and_query().map_or("/", |url| url.as_str());
    format!("example:page:{url}")
}
// ANCHOR_END: page_key

// ANCHOR: category_page
/// `GET /categories/{id}`: one category's tasks, from Redis when a copy is there.
async fn category_page(
    State(pages): State<CategoryPages>,
    Path(id): Path<i64>,
    uri: Uri,
) -> Response {
    let key = page_key(&uri);
    let mut redis = pages.redis.clone();
    // A Redis error is a miss: the page is slower, never broken.
    if let Ok(Some(html)) = redis.get::<_, Option<String>>(&key).await {
        return public(html);
    }
    match workbook::pages::task_list(&pages.db, Some(id)).await {
        Ok(Some(html)) => {
            let seconds = PAGE_TTL.as_secs();
            if let Err(err) = redis.set_ex::<_, _, ()>(&key, &html, seconds).await {
                tracing::warn!("could not cache {key}: {err}");
            }
            public(html)
        }
        // Not stored: a 404 or a 500 would be replayed to everybody for ten minutes.
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The page is the same for everyone, so browsers and proxies may keep it as long as we do.
fn public(html: String) -> Response {
    let cache_control = format!("public, max-age={}", PAGE_TTL.as_secs());
    ([(header::CACHE_CONTROL, cache_control)], Html(html)).into_response()
}
// ANCHOR_END: category_page

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    use workbook::profile::profiled;

    use super::*;
    use crate::testing::{Redis, database};

    /// Asks for `url` and returns the answer with the queries it cost.
    async fn visit(app: &Router, url: &str) -> (Response, u64) {
        let request = Request::get(url).body(Body::empty()).unwrap();
        let (response, profile) = profiled(app.clone().oneshot(request)).await;
        (response.unwrap(), profile.queries)
    }

    #[tokio::test]
    async fn a_second_visit_is_answered_from_redis() {
        let redis = Redis::start().await;
        let (db, _dir) = database(30).await;
        let app = router(CategoryPages { db, redis: redis.connection().await });

        let (first, queries) = visit(&app, "/categories/1").await;
        assert_eq!(first.status(), StatusCode::OK);
        assert!(queries > 0);
        assert_eq!(first.headers()[header::CACHE_CONTROL], "public, max-age=600");
        let (second, queries) = visit(&app, "/categories/1").await;
        assert_eq!((second.status(), queries), (StatusCode::OK, 0), "a hit runs no query");

        let ttl: i64 = redis.connection().await.ttl("example:page:/categories/1").await.unwrap();
        assert!((1..=600).contains(&ttl), "the page's TTL is {ttl}");
        let (_, queries) = visit(&app, "/categories/1?page=2").await;
        assert!(queries > 0, "another query string is another page");
    }

    #[tokio::test]
    async fn a_missing_category_is_not_stored() {
        let redis = Redis::start().await;
        let (db, _dir) = database(30).await;
        let app = router(CategoryPages { db, redis: redis.connection().await });

        let (answer, _) = visit(&app, "/categories/999").await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND);
        let stored: bool =
            redis.connection().await.exists("example:page:/categories/999").await.unwrap();
        assert!(!stored, "a 404 must not be cached");
    }
}
