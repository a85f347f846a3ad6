//! Who is asking: the name in the `user` cookie.
//!
//! A plain cookie keeps this exercise about caching; exercise 1 showed real sessions stored in
//! Redis. Visiting a page with `?as=NAME` signs you in as NAME (like a sign-in link sent by
//! e-mail), and the answer sets the cookie.

use axum::http::HeaderMap;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

pub const USER_COOKIE: &str = "user";

/// The signed-in user named by the request's cookie, if any.
pub fn signed_in(headers: &HeaderMap) -> Option<String> {
    let jar = CookieJar::from_headers(headers);
    let name = jar.get(USER_COOKIE)?.value();
    (!name.is_empty()).then(|| name.to_owned())
}

/// The cookie that signs `username` in.
pub fn sign_in_cookie(username: &str) -> Cookie<'static> {
    Cookie::build((USER_COOKIE, username.to_owned()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .build()
}
