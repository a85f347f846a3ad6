//! Whole-page caching in Redis: the counterpart of Django's `cache_page`.
//!
//! [`cache_page`] is a middleware. Put it on a route with a [`PageCache`] that says how long
//! pages live and whether they are the same for everyone or different for each user:
//!
//! ```ignore
//! get(task_list).layer(from_fn_with_state(PageCache::for_everyone(cache, ttl), cache_page))
//! ```
//!
//! A hit costs one Redis `GET` and no work at all; a miss runs the handler and stores its
//! answer with `SET ... EX`, in the compact form of [`page`](crate::page). Only answers that are
//! safe to replay to someone else are stored.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::cache::Cache;
use crate::identity;
use crate::page;

// ANCHOR: policy
/// Who a cached page may be shown to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The page is the same for every visitor (`Cache-Control: public`).
    Everyone,
    /// The page belongs to the signed-in user: the user is part of its key, and browsers are
    /// told to keep it to themselves (`Cache-Control: private`, `Vary: Cookie`).
    EachUser,
}

/// How the pages of one route are cached.
#[derive(Clone)]
pub struct PageCache {
    cache: Cache,
    ttl: Duration,
    audience: Audience,
}

impl PageCache {
    pub fn for_everyone(cache: Cache, ttl: Duration) -> Self {
        Self { cache, ttl, audience: Audience::Everyone }
    }

    pub fn for_each_user(cache: Cache, ttl: Duration) -> Self {
        Self { cache, ttl, audience: Audience::EachUser }
    }
}
// ANCHOR_END: policy

// ANCHOR: todo_cache_page
// ANCHOR: middleware
/// The middleware: answer from Redis when we can, otherwise render and maybe store.
pub async fn cache_page(State(pages): State<PageCache>, request: Request, next: Next) -> Response {
    let Some(key) = pages.key_for(&request) else {
        return next.run(request).await;
    };
    match pages.cache.get(&key).await {
        Ok(Some(stored)) => match page::decode(Bytes::from(stored)) {
            Some(page) => return page,
            None => tracing::warn!("cached page {key:?} is unreadable, rendering it"),
        },
        Ok(None) => {}
        // Redis down or slow: render the page as if nothing were cached.
        Err(err) => tracing::warn!("reading cached page {key:?} failed, rendering it: {err}"),
    }

    let mut response = next.run(request).await;
    if !is_cacheable(&response) {
        return response;
    }
    pages.advertise(&mut response);
    pages.store(&key, response).await
}
// ANCHOR_END: middleware

impl PageCache {
    // ANCHOR: key
    /// The cache key of a request, or `None` when the request must not use the cache.
    ///
    /// Method, path and query string all select a different page, so all are in the key; for
    /// per-user pages so is the user. Anonymous requests to a per-user page are not cached.
    fn key_for(&self, request: &Request) -> Option<String> {
        let method = request.method();
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let url = request.uri().path_and_query().map_or("/", |url| url.as_str());
        match self.audience {
            Audience::Everyone => Some(format!("view:{method}:{url}")),
            Audience::EachUser => {
                let user = identity::signed_in(request.headers())?;
                Some(format!("view:user:{user}:{method}:{url}"))
            }
        }
    }
    // ANCHOR_END: key

    // ANCHOR: advertise
    /// Tells browsers and proxies what we do on the server: how long the page stays fresh, and
    /// for per-user pages that only the user's own browser may keep it.
    fn advertise(&self, response: &mut Response) {
        let seconds = self.ttl.as_secs();
        let (cache_control, vary_cookie) = match self.audience {
            Audience::Everyone => (format!("public, max-age={seconds}"), false),
            Audience::EachUser => (format!("private, max-age={seconds}"), true),
        };
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&cache_control) {
            headers.entry(header::CACHE_CONTROL).or_insert(value);
        }
        if vary_cookie {
            headers.append(header::VARY, HeaderValue::from_static("cookie"));
        }
    }
    // ANCHOR_END: advertise

    // ANCHOR: store
    /// Stores the page for [`Self::ttl`] and hands it on; a Redis failure only costs the store.
    async fn store(&self, key: &str, response: Response) -> Response {
        let (parts, body) = response.into_parts();
        // Our pages are already rendered in memory, so reading the body whole costs nothing.
        let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        match page::encode(parts.status, &parts.headers, &body) {
            Some(entry) => {
                if let Err(err) = self.cache.set_for(key, &entry, self.ttl).await {
                    tracing::warn!("storing page {key:?} failed: {err}");
                }
            }
            None => tracing::warn!("page {key:?} is too large to store"),
        }
        Response::from_parts(parts, Body::from(body))
    }
    // ANCHOR_END: store
}

// ANCHOR: cacheable
/// Only answers that are right for the next visitor too: a success (an error page would be
/// served for the whole TTL), and no `Set-Cookie` (replaying it would hand one visitor's
/// cookie, such as a sign-in, to everybody else).
fn is_cacheable(response: &Response) -> bool {
    response.status().is_success() && !response.headers().contains_key(header::SET_COOKIE)
}
// ANCHOR_END: cacheable

// ANCHOR_END: todo_cache_page

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::CacheSettings;

    fn pages(audience: Audience) -> PageCache {
        let settings = CacheSettings {
            url: "redis://127.0.0.1:1/1".to_owned(),
            key_prefix: "test".to_owned(),
            key_version: 1,
        };
        let cache = Cache::connect(settings).expect("a lazy connection needs no server");
        PageCache { cache, ttl: Duration::from_secs(900), audience }
    }

    fn request(method: Method, url: &str, user: Option<&str>) -> Request {
        let mut builder = Request::builder().method(method).uri(url);
        if let Some(user) = user {
            builder = builder.header(header::COOKIE, format!("{}={user}", identity::USER_COOKIE));
        }
        builder.body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn the_key_holds_method_path_and_query_string() {
        let pages = pages(Audience::Everyone);
        let key = |method, url| pages.key_for(&request(method, url, None));
        assert_eq!(key(Method::GET, "/tasks?category=1").unwrap(), "view:GET:/tasks?category=1");
        assert_ne!(key(Method::GET, "/tasks?category=1"), key(Method::GET, "/tasks?category=2"));
        assert_ne!(key(Method::GET, "/tasks"), key(Method::HEAD, "/tasks"));
        assert_eq!(key(Method::POST, "/tasks"), None);
    }

    #[tokio::test]
    async fn per_user_keys_hold_the_user_and_skip_anonymous_requests() {
        let pages = pages(Audience::EachUser);
        let key = |user| pages.key_for(&request(Method::GET, "/my/tasks", user));
        assert_ne!(key(Some("alice")), key(Some("bob")));
        assert!(key(Some("alice")).unwrap().contains("alice"));
        assert_eq!(key(None), None);
    }

    #[test]
    fn only_successes_without_cookies_are_cacheable() {
        let page = |status: StatusCode| (status, "page").into_response();
        assert!(is_cacheable(&page(StatusCode::OK)));
        assert!(!is_cacheable(&page(StatusCode::NOT_FOUND)));
        assert!(!is_cacheable(&page(StatusCode::INTERNAL_SERVER_ERROR)));
        let signs_in = ([(header::SET_COOKIE, "user=alice")], "page").into_response();
        assert!(!is_cacheable(&signs_in));
    }

    #[tokio::test]
    async fn a_hit_replays_the_advertised_headers_and_the_body() {
        let mut original = ([(header::CONTENT_TYPE, "text/html")], "<p>hi</p>").into_response();
        pages(Audience::EachUser).advertise(&mut original);
        let entry = page::encode(original.status(), original.headers(), b"<p>hi</p>").unwrap();
        let replayed = page::decode(Bytes::from(entry)).unwrap();
        assert_eq!(replayed.status(), StatusCode::OK);
        assert_eq!(replayed.headers()[header::CACHE_CONTROL], "private, max-age=900");
        assert_eq!(replayed.headers()[header::VARY], "cookie");
        assert_eq!(replayed.headers()[header::CONTENT_TYPE], "text/html");
        let body = axum::body::to_bytes(replayed.into_body(), usize::MAX).await.unwrap();
        assert_eq!(&body[..], b"<p>hi</p>");
    }
}
