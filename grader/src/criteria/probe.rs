//! What a check works with: the running exercise (its [`Testbed`]), an HTTP client, and the
//! grader's Redis. Checks talk to the probe, the probe to the testbed.

mod running;

use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;
use workbook::seed::SplitMix64;

use super::verdict::{Because, Failure, Symptom, fail};
use crate::run::contract::Contract;
use crate::run::inspect::Inspector;
use crate::run::service::{self, RunningService};
pub use crate::run::testbed::Instance;
use crate::run::testbed::Testbed;

/// How long the grader waits for an ordinary answer before calling the service hung.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The most of any body the grader reads: a service that answers without end must not take
/// the grader's memory with it. Above the largest value a check stores (under 2 MiB).
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// The body of `response`, at most `limit` bytes of it, lossily decoded; a longer one is cut
/// and says so at its end, so that the evidence shows why it no longer matches.
async fn read_body(mut response: reqwest::Response, limit: usize) -> reqwest::Result<String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            let text = String::from_utf8_lossy(&bytes);
            return Ok(format!(
                "{text}[... the grader read only the first {} KiB ...]",
                limit / 1024
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Everything a check needs, for one exercise: the running exercise, borrowed from the
/// grading run, and an HTTP client. Checks talk to the probe, the probe to the testbed.
pub struct Probe<'t> {
    testbed: &'t mut Testbed,
    http: reqwest::Client,
    names: SplitMix64,
    /// Whether `/health` has reported Redis up once in this run (see [`Probe::redis_health`]).
    redis_seen_up: std::sync::atomic::AtomicBool,
}

/// A request body.
pub enum Body {
    Empty,
    Text(String),
    Json(Value),
}

/// An HTTP answer, read in full.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The `name=value` part of the first `Set-Cookie`, ready to send back as a `Cookie`.
    pub fn session_cookie(&self) -> Option<String> {
        let set_cookie = self.headers.get("set-cookie")?.to_str().ok()?;
        Some(set_cookie.split(';').next()?.trim().to_owned())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// A short description for messages: `404 "not found"`.
    pub fn summary(&self) -> String {
        let mut body: String = self.body.chars().take(200).collect();
        if body.len() < self.body.len() {
            body.push('…');
        }
        format!("{} {body:?}", self.status)
    }
}

impl<'t> Probe<'t> {
    pub fn new(testbed: &'t mut Testbed) -> Self {
        let seed = testbed.contract().seed;
        Self {
            testbed,
            http: super::browser::client(seed, REQUEST_TIMEOUT),
            names: SplitMix64::new(seed ^ 0x6e61_6d65),
            redis_seen_up: Default::default(),
        }
    }

    /// The settings the service runs with: its key prefix, TTLs, seed.
    pub fn contract(&self) -> &Contract {
        self.testbed.contract()
    }

    /// The service under test.
    pub fn service(&self) -> &RunningService {
        self.testbed.service()
    }

    /// The service's address, e.g. `http://127.0.0.1:4242`.
    pub fn base_url(&self) -> &str {
        &self.testbed.service().base_url
    }

    /// The grader's own connection to the service's Redis.
    pub fn redis(&mut self) -> &mut Inspector {
        self.testbed.redis()
    }

    /// The keys under the service's prefix in its Redis database: what it has cached.
    pub async fn cached_keys(&mut self) -> Result<Vec<String>, Failure> {
        let pattern = self.contract().key_pattern();
        Ok(self.redis().keys(&pattern).await?)
    }

    /// The client every request of the run goes through: a browser's headers (see
    /// [`super::browser`]), for a check that sends its own load.
    pub fn client(&self) -> reqwest::Client {
        self.http.clone()
    }

    /// A fresh name, such as `greeting-9f3a1c`, the same for the same seed.
    pub fn unique(&mut self, what: &str) -> String {
        format!("{what}-{:06x}", self.unique_number())
    }

    /// A number no earlier request of this run used, below 2^24: e.g. an id nobody has.
    pub fn unique_number(&mut self) -> u64 {
        self.names.next_u64() & 0xff_ffff
    }

    /// `count` different users of the seeded database, drawn per run: no check signs in as
    /// the same person every time, so no name can be special-cased.
    pub fn users(&mut self, count: usize) -> Result<Vec<String>, Failure> {
        let contract = self.contract();
        let data = workbook::seed::Dataset::generate(contract.seed, contract.tasks);
        let mut users: Vec<String> = data.users.into_iter().map(|user| user.username).collect();
        if users.len() < count {
            let drawn = users.len();
            return Err(Failure::Error(format!("the seed has {drawn} users, {count} asked for")));
        }
        self.names.shuffle(&mut users);
        users.truncate(count);
        Ok(users)
    }

    /// Sends a request; a time-out or a broken connection is a failure of the service.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Body,
        cookie: Option<&str>,
        timeout: Duration,
    ) -> Result<Reply, Failure> {
        self.send_to(self.base_url(), method, path, body, cookie, timeout).await
    }

    /// Like [`Self::send`], to the service at `base_url` (another instance of it).
    pub async fn send_to(
        &self,
        base_url: &str,
        method: Method,
        path: &str,
        body: Body,
        cookie: Option<&str>,
        timeout: Duration,
    ) -> Result<Reply, Failure> {
        let url = format!("{base_url}{path}");
        let mut request = self.http.request(method.clone(), &url).timeout(timeout);
        // The workbook's own paths: the grader's key opens the brake (and shows it held).
        if path.starts_with("/__workbook/") {
            request = request.header(workbook::stats::GRADER_KEY_HEADER, service::grader_key());
        }
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request = match body {
            Body::Empty => request,
            Body::Text(text) => request.header("content-type", "text/plain").body(text),
            Body::Json(json) => request.json(&json),
        };
        let expected = format!("an answer to {method} {path}");
        let response = request.send().await.map_err(|err| {
            if err.is_timeout() {
                fail(&expected, format!("no answer within {} s", timeout.as_secs_f32()))
                    .because(Symptom::Timeout)
            } else {
                fail(&expected, format!("the request failed: {err}")).because(Symptom::ServiceError)
            }
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = read_body(response, MAX_BODY_BYTES)
            .await
            .map_err(|err| fail(&expected, format!("the body could not be read: {err}")))?;
        Ok(Reply { status, headers, body })
    }

    pub async fn get(&self, path: &str) -> Result<Reply, Failure> {
        self.send(Method::GET, path, Body::Empty, None, REQUEST_TIMEOUT).await
    }

    pub async fn get_as(&self, path: &str, cookie: &str) -> Result<Reply, Failure> {
        self.send(Method::GET, path, Body::Empty, Some(cookie), REQUEST_TIMEOUT).await
    }

    pub async fn put_text(&self, path: &str, text: &str) -> Result<Reply, Failure> {
        self.send(Method::PUT, path, Body::Text(text.to_owned()), None, REQUEST_TIMEOUT).await
    }

    pub async fn post_json(
        &self,
        path: &str,
        json: Value,
        cookie: Option<&str>,
    ) -> Result<Reply, Failure> {
        self.send(Method::POST, path, Body::Json(json), cookie, REQUEST_TIMEOUT).await
    }

    /// The support crate's counters, from `GET /__workbook/stats`.
    pub async fn stats(&self) -> Result<workbook::stats::Stats, Failure> {
        self.stats_at(self.base_url()).await
    }

    /// Like [`Self::stats`], of the service at `base_url` (another instance of it): each
    /// process counts its own queries.
    pub async fn stats_at(&self, base_url: &str) -> Result<workbook::stats::Stats, Failure> {
        let path = "/__workbook/stats";
        let reply =
            self.send_to(base_url, Method::GET, path, Body::Empty, None, REQUEST_TIMEOUT).await?;
        serde_json::from_str(&reply.body).map_err(|err| {
            fail("the counters of GET /__workbook/stats", format!("{} ({err})", reply.summary()))
        })
    }

    /// The state `/health` reports for Redis (`"up"`, `"down: ..."`), or the whole answer.
    pub async fn redis_health(&self, timeout: Duration) -> Result<String, Failure> {
        let reply = self.send(Method::GET, "/health", Body::Empty, None, timeout).await?;
        let state = match reply.json()["checks"]["redis"].as_str() {
            Some(state) => state.to_owned(),
            None => format!("no \"redis\" check in {}", reply.summary()),
        };
        if state == "up" {
            self.redis_seen_up.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(state)
    }

    /// Whether `/health` has reported Redis up at least once in this run: a service that never
    /// has is not reconnecting, and needs no time to do it.
    pub fn redis_seen_up(&self) -> bool {
        self.redis_seen_up.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server whose one answer is a chunked body that never ends.
    async fn endless_server() -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request).await;
            let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
            socket.write_all(head.as_bytes()).await.unwrap();
            let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
            while socket.write_all(chunk.as_bytes()).await.is_ok() {}
        });
        address
    }

    #[tokio::test]
    async fn an_endless_body_is_cut_at_the_limit_and_says_so() {
        let address = endless_server().await;
        let response = reqwest::get(format!("http://{address}/")).await.unwrap();
        let body = read_body(response, MAX_BODY_BYTES).await.unwrap();
        assert!(body.starts_with("xxx"), "{}", &body[..20]);
        assert!(body.ends_with("[... the grader read only the first 4096 KiB ...]"));
        assert!(body.len() < MAX_BODY_BYTES + 100, "{} bytes kept", body.len());
    }
}
