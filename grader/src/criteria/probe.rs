//! What a check works with: the running service, an HTTP client, and the grader's Redis.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;
use workbook::seed::SplitMix64;

use super::inspect::Inspector;
use super::verdict::{Because, Failure, Symptom, Verdict, fail};
use crate::run::contract::Contract;
use crate::run::database::DatabaseServer;
use crate::run::redis_server::RedisServer;
use crate::run::service::{self, NotStarted, RunningService, Started};
use crate::run::users::RunUser;

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

/// Everything a check needs, for one exercise.
pub struct Probe {
    pub contract: Contract,
    pub redis: Inspector,
    pub redis_server: RedisServer,
    /// Where the service's database lives, to give a second service a database of its own.
    pub database_server: DatabaseServer,
    pub service: RunningService,
    /// The run's folder, the grader's own: extra instances get folders of their own in it.
    pub(super) run_dir: PathBuf,
    /// Who the run's services run as.
    pub(super) run_user: Option<RunUser>,
    /// The reference solution's binary, or why there is none.
    pub(super) reference: Result<PathBuf, String>,
    http: reqwest::Client,
    names: SplitMix64,
    /// Whether `/health` has reported Redis up once in this run (see [`Probe::redis_health`]).
    redis_seen_up: std::sync::atomic::AtomicBool,
}

/// What a probe is given by the grading run.
pub struct Setup {
    pub contract: Contract,
    pub redis: Inspector,
    pub redis_server: RedisServer,
    pub database_server: DatabaseServer,
    pub service: RunningService,
    pub run_dir: PathBuf,
    pub run_user: Option<RunUser>,
    pub reference: Result<PathBuf, String>,
}

/// A start of a service as a check judges it: the student's service that did not start fails
/// the check (`expected` says what the check needed); the grader's own failure to start it is
/// the grader's error, never the student's.
pub fn judge_start<T>(started: Started<T>, expected: &str) -> Result<T, Failure> {
    match started {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(NotStarted(reason))) => Err(fail(expected, reason)),
        Err(err) => Err(Failure::Error(format!("the grader could not start a service: {err:#}"))),
    }
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

impl Probe {
    pub fn new(setup: Setup) -> Self {
        let Setup {
            contract,
            redis,
            redis_server,
            database_server,
            service,
            run_dir,
            run_user,
            reference,
        } = setup;
        let names = SplitMix64::new(contract.seed ^ 0x6e61_6d65);
        let http = super::browser::client(contract.seed, REQUEST_TIMEOUT);
        Self {
            contract,
            redis,
            redis_server,
            database_server,
            service,
            run_dir,
            run_user,
            reference,
            http,
            names,
            redis_seen_up: Default::default(),
        }
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
    pub fn users(&mut self, count: usize) -> Vec<String> {
        let data = workbook::seed::Dataset::generate(self.contract.seed, self.contract.tasks);
        let mut users: Vec<String> = data.users.into_iter().map(|user| user.username).collect();
        self.names.shuffle(&mut users);
        assert!(users.len() >= count, "the seed has {} users, {count} asked for", users.len());
        users.truncate(count);
        users
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
        self.send_to(&self.service.base_url, method, path, body, cookie, timeout).await
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
        self.stats_at(&self.service.base_url).await
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

    /// Forgets every cached entry of the service, so that a check starts from a cold cache:
    /// its keys are deleted, as an operator clearing the cache would (`redis-cli --scan
    /// --pattern 'prefix:*' | xargs redis-cli del`). Never `FLUSHALL`, which would also wipe
    /// what the service keeps in other databases: a key there that vanished would tell the
    /// service that a check, not use, emptied the cache.
    pub async fn empty_the_cache(&mut self) -> Verdict {
        let pattern = format!("{}:*", self.contract.key_prefix);
        self.redis.delete_matching(&pattern).await?;
        Ok(())
    }

    /// Stops the private Redis, as a crash would. Needs a Redis the grader started.
    pub async fn stop_redis(&mut self) -> Verdict {
        match &mut self.redis_server {
            RedisServer::Private(private) => {
                private.stop().await;
                Ok(())
            }
            RedisServer::External { .. } => Err(Failure::Error(
                "this criterion stops and restarts Redis, which the grader only does to a Redis \
                 it started itself: run it without --redis-url/REDIS_URL"
                    .to_owned(),
            )),
        }
    }

    /// Starts the private Redis again on the same port and reconnects the grader to it.
    pub async fn restart_redis(&mut self) -> Verdict {
        let RedisServer::Private(private) = &mut self.redis_server else { return Ok(()) };
        let restarted = private.restart().await;
        if let Err(err) = restarted {
            if !private.port_taken() {
                return Err(Failure::Error(format!("the grader could not restart Redis: {err:#}")));
            }
            // Only the service lives in the run's network: it took the port while Redis was
            // down. Stopping it (the next check starts it again) gives the port back.
            let port = private.port();
            self.service.stop().await;
            private.restart().await.map_err(|err| {
                Failure::Error(format!("the grader could not restart Redis: {err:#}"))
            })?;
            self.redis.reconnect().await?;
            return Err(fail(
                format!("Redis's port {port} to stay free while Redis was down"),
                "the service (or a process it started) listened on it, until the grader stopped \
                 the service: a service listens on WORKBOOK_BIND only",
            ));
        }
        self.redis.reconnect().await?;
        Ok(())
    }

    /// Stops a script of the service's that holds Redis busy, so that it costs only the check
    /// it ran in: `SCRIPT KILL`, or, for a script that wrote before it looped (which Redis
    /// refuses to kill), a restart of the private server. `true` when one was running.
    pub async fn stop_busy_script(&mut self) -> bool {
        if !self.redis.busy().await {
            return false;
        }
        if self.redis.kill_script().await.is_err() && self.redis_server.is_private() {
            let _ = self.restart_redis().await;
            // The next check starts once the service has its connection back, as after any
            // outage: `/health` pings through it until Redis is up.
            for _ in 0..40 {
                if self.redis_health(REQUEST_TIMEOUT).await.is_ok_and(|state| state == "up") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        true
    }

    /// `true` when the grader's private Redis no longer answers, even on a new connection.
    pub async fn redis_lost(&mut self) -> bool {
        if !self.redis_server.is_private() || self.redis.ping().await {
            return false;
        }
        !(self.redis.reconnect().await.is_ok() && self.redis.ping().await)
    }

    /// Takes the Redis server back when the exercise is done.
    pub fn into_redis_server(self) -> (RedisServer, RunningService) {
        (self.redis_server, self.service)
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
