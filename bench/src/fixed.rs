//! The web framework's limit: axum answering every request with the same bytes, with no Redis
//! and no database behind it.

use anyhow::Result;
use axum::Router;
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;

pub struct FixedResponse {
    pub url: String,
    server: tokio::task::JoinHandle<()>,
}

impl FixedResponse {
    /// Serves `body` on a free loopback port, on the benchmark's own tokio runtime (as many
    /// worker threads as cores, like the solutions).
    pub async fn start(content_type: String, body: Bytes) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/", listener.local_addr()?);
        let app = Router::new().fallback(move || {
            let (content_type, body) = (content_type.clone(), body.clone());
            async move { ([(CONTENT_TYPE, content_type)], body) }
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, server })
    }
}

impl Drop for FixedResponse {
    fn drop(&mut self) {
        self.server.abort();
    }
}
