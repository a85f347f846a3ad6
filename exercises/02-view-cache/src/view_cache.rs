//! Whole-page caching in Redis: the counterpart of Django's `cache_page`.
//!
//! [`cache_page`] is a middleware. `routes.rs` already puts it on the routes that want it,
//! with a [`PageCache`] that says how long pages live and whether they are the same for
//! everyone or different for each user. Right now it caches nothing: every request runs the
//! handler. Make it a real cache:
//!
//! 1. decide whether the request may use the cache at all, and its key;
//! 2. on a hit, answer with the stored page: one Redis `GET`, no handler;
//! 3. on a miss, run the handler, and store its answer (`SET ... EX`) only if it is safe to
//!    replay to the next visitor;
//! 4. tell browsers and proxies what you did, with `Cache-Control` (and `Vary`).
//!
//! Redis may be down: then render the page as if nothing were cached.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::cache::Cache;

/// Who a cached page may be shown to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The page is the same for every visitor.
    Everyone,
    /// The page belongs to the signed-in user (see `identity::signed_in`).
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

// ANCHOR: todo_cache_page
/// The middleware: answer from Redis when we can, otherwise render and maybe store.
pub async fn cache_page(State(pages): State<PageCache>, request: Request, next: Next) -> Response {
    // TODO: build the key from what selects a different page (method, path, query string and,
    // for `Audience::EachUser`, the user). Which requests must not use the cache at all?
    // TODO: on a hit, rebuild the response from the stored page (`cache.get`).
    // TODO: on a miss, store the answer for `ttl` (`cache.set_for`) if it is safe to replay.
    let _ = (&pages.cache, pages.ttl, pages.audience);
    next.run(request).await
}
// ANCHOR_END: todo_cache_page
