//! The limit of a Redis-backed page cache: axum answering every request with one Redis `GET`
//! of the page's bytes, handed on untouched. No cached page can beat it, since each hit needs
//! that round trip; what a solution does beyond it (read its entry, rebuild the headers) is
//! its own cost.

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

pub struct OneGet {
    pub url: String,
    server: tokio::task::JoinHandle<()>,
}

/// Where each request reads its answer.
#[derive(Clone)]
struct Source {
    /// One multiplexed connection for every request, as the solutions' `Cache` has.
    connection: ConnectionManager,
    key: String,
    content_type: String,
}

impl OneGet {
    /// Serves the value of `key` in database 0 of `redis_base_url` (`redis://HOST:PORT`), read
    /// anew for every request, on a free loopback port of the benchmark's own runtime.
    pub async fn start(redis_base_url: &str, key: &str, content_type: String) -> Result<Self> {
        let client = redis::Client::open(format!("{redis_base_url}/0"))?;
        let connection =
            ConnectionManager::new(client).await.context("cannot connect to the bench's Redis")?;
        let source = Source { connection, key: key.to_owned(), content_type };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/", listener.local_addr()?);
        let app = Router::new().fallback(answer).with_state(source);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, server })
    }
}

/// One `GET`, its bytes as the body: a missing key or a Redis error is not a 2xx, so wrk
/// counts it as an error.
async fn answer(
    State(source): State<Source>,
) -> Result<([(axum::http::HeaderName, String); 1], Bytes), StatusCode> {
    let mut connection = source.connection.clone();
    let value: Option<Vec<u8>> =
        connection.get(&source.key).await.map_err(|_| StatusCode::BAD_GATEWAY)?;
    let value = value.ok_or(StatusCode::NOT_FOUND)?;
    Ok(([(CONTENT_TYPE, source.content_type)], Bytes::from(value)))
}

impl Drop for OneGet {
    fn drop(&mut self) {
        self.server.abort();
    }
}
