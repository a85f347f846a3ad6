//! The task manager's HTTP API as the invalidation checks use it: reads that say what they cost
//! the database, and writes that must succeed.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::criteria::probe::{Body, Probe, REQUEST_TIMEOUT};
use crate::criteria::{Failure, Verdict, expect, fail};

/// The owner of every task the checks create (a user of the seed data).
const OWNER: i64 = 1;
/// How many times the grader looks for a held query before giving up (a hang detector).
const HOLD_POLLS: u32 = 250;
const HOLD_POLL_INTERVAL: Duration = Duration::from_millis(20);

pub const CATEGORIES: &str = "/categories";

pub fn tasks_of(category: i64) -> String {
    format!("/categories/{category}/tasks")
}

/// One read: the answer and the queries it ran.
pub struct Read {
    pub body: Value,
    pub queries: u64,
}

/// `GET path`, which must answer `200` with JSON; counts the queries it ran.
pub async fn read(probe: &Probe, path: &str) -> Result<Read, Failure> {
    let before = probe.stats().await?.queries;
    let reply = probe.get(path).await?;
    let queries = probe.stats().await?.queries.saturating_sub(before);
    expect(reply.status == 200, format!("GET {path} to answer 200"), reply.summary())?;
    Ok(Read { body: reply.json(), queries })
}

/// Reads `path` twice and checks that the second read was a cache hit: without that there is
/// nothing for a write to invalidate. Returns the cached answer.
pub async fn warm(probe: &Probe, path: &str) -> Result<Value, Failure> {
    read(probe, path).await?;
    let again = read(probe, path).await?;
    expect(
        again.queries == 0,
        format!("a second GET {path} served from the cache (no query)"),
        format!("it ran {}: the answer is not cached", queries(again.queries)),
    )?;
    Ok(again.body)
}

/// Sends a write, which must succeed; returns its JSON answer.
pub async fn write(
    probe: &Probe,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, Failure> {
    let what = format!("{method} {path}");
    let body = body.map_or(Body::Empty, Body::Json);
    let reply = probe.send(method, path, body, None, REQUEST_TIMEOUT).await?;
    expect((200..300).contains(&reply.status), format!("{what} to succeed"), reply.summary())?;
    Ok(reply.json())
}

/// `POST /categories`; returns the new category's id.
pub async fn create_category(probe: &Probe, name: &str) -> Result<i64, Failure> {
    let created = write(probe, Method::POST, CATEGORIES, Some(json!({ "name": name }))).await?;
    id_of(&created, "POST /categories")
}

/// `POST /tasks` in `category`; returns the new task's id.
pub async fn create_task(probe: &Probe, category: i64, title: &str) -> Result<i64, Failure> {
    let body = json!({ "title": title, "category_id": category, "owner_id": OWNER });
    let created = write(probe, Method::POST, "/tasks", Some(body)).await?;
    id_of(&created, "POST /tasks")
}

/// Creates a category with a fresh name made from `what`; returns its id.
pub async fn new_category(probe: &mut Probe, what: &str) -> Result<i64, Failure> {
    let name = probe.unique(what);
    create_category(probe, &name).await
}

/// Creates a task in `category` with a fresh title made from `what`; returns its id.
pub async fn new_task(probe: &mut Probe, category: i64, what: &str) -> Result<i64, Failure> {
    let title = probe.unique(what);
    create_task(probe, category, &title).await
}

fn id_of(created: &Value, what: &str) -> Result<i64, Failure> {
    created["id"].as_i64().ok_or_else(|| {
        fail(format!("{what} to answer with the new row's \"id\""), created.to_string())
    })
}

/// `true` when `list` (a JSON array of rows) has a row whose `field` is `value`.
pub fn lists(list: &Value, field: &str, value: &Value) -> bool {
    list.as_array().is_some_and(|rows| rows.iter().any(|row| &row[field] == value))
}

/// Asks the support crate to hold the next query once it has run.
pub async fn hold_next_query(probe: &Probe) -> Verdict {
    let reply = probe
        .send(Method::POST, "/__workbook/hold-next-query", Body::Empty, None, REQUEST_TIMEOUT)
        .await?;
    expect(reply.status == 200, "POST /__workbook/hold-next-query to answer 200", reply.summary())
}

/// Asks the support crate to hold the next write (`INSERT`, `UPDATE`, `DELETE`) before it
/// reaches the database.
pub async fn hold_next_write(probe: &Probe) -> Verdict {
    let reply = probe
        .send(Method::POST, "/__workbook/hold-next-write", Body::Empty, None, REQUEST_TIMEOUT)
        .await?;
    expect(reply.status == 200, "POST /__workbook/hold-next-write to answer 200", reply.summary())
}

/// Lets held queries go (and disarms a hold that caught nothing).
pub async fn release(probe: &Probe) -> Verdict {
    let reply =
        probe.send(Method::POST, "/__workbook/release", Body::Empty, None, REQUEST_TIMEOUT).await?;
    expect(reply.status == 200, "POST /__workbook/release to answer 200", reply.summary())
}

/// Waits until a query is held; `false` when none is after a generous while.
pub async fn query_is_held(probe: &Probe) -> Result<bool, Failure> {
    for _ in 0..HOLD_POLLS {
        if probe.stats().await?.queries_held > 0 {
            return Ok(true);
        }
        tokio::time::sleep(HOLD_POLL_INTERVAL).await;
    }
    Ok(false)
}

/// `1 query`, `3 queries`: for messages.
pub fn queries(count: u64) -> String {
    crate::words::counted(count, "query")
}
