//! The task manager's HTTP API as the invalidation checks use it: reads that say what they cost
//! the database, and writes that must succeed, each sent to one [`Node`]: the service under
//! test, or a second instance of it on the same Redis and database.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::criteria::probe::{Body, Probe, REQUEST_TIMEOUT, Reply};
use crate::criteria::{Failure, Verdict, expect, fail};

/// The owner of every task the checks create (a user of the seed data).
const OWNER: i64 = 1;
/// How many times the grader looks for a held query before giving up (a hang detector).
const HOLD_POLLS: u32 = 250;
const HOLD_POLL_INTERVAL: Duration = Duration::from_millis(20);

/// How many more reads [`warm`] makes when a write's leftover work retired the entry (and a
/// check makes when it is stale, to tell a lasting stale entry from a late one), and the
/// pause before each.
pub const SETTLE_ATTEMPTS: u32 = 3;
pub const SETTLE_PAUSE: Duration = Duration::from_millis(100);

pub const CATEGORIES: &str = "/categories";

/// One running instance of the service: where a request goes, and its name in messages.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: &'static str,
    base_url: String,
}

impl Node {
    /// The service under test, when a check needs no other instance.
    pub fn service(probe: &Probe<'_>) -> Self {
        Self::at("the service", probe.base_url())
    }

    /// The instance that answers at `base_url`, called `name` in messages.
    pub fn at(name: &'static str, base_url: &str) -> Self {
        Self { name, base_url: base_url.to_owned() }
    }

    async fn send(
        &self,
        probe: &Probe<'_>,
        method: Method,
        path: &str,
        body: Body,
    ) -> Result<Reply, Failure> {
        probe.send_to(&self.base_url, method, path, body, None, REQUEST_TIMEOUT).await
    }

    /// The queries this instance has run so far (each process counts its own).
    pub async fn queries(&self, probe: &Probe<'_>) -> Result<u64, Failure> {
        Ok(probe.stats_at(&self.base_url).await?.queries)
    }

    /// `GET path`, whatever it answers.
    pub async fn get(&self, probe: &Probe<'_>, path: &str) -> Result<Reply, Failure> {
        self.send(probe, Method::GET, path, Body::Empty).await
    }
}

pub fn tasks_of(category: i64) -> String {
    format!("/categories/{category}/tasks")
}

/// One read: the answer and the queries it ran.
pub struct Read {
    pub body: Value,
    pub queries: u64,
}

/// `GET path` on `on`, which must answer `200` with JSON; counts the queries it ran there.
pub async fn read(probe: &Probe<'_>, on: &Node, path: &str) -> Result<Read, Failure> {
    let before = on.queries(probe).await?;
    let reply = on.get(probe, path).await?;
    let queries = on.queries(probe).await?.saturating_sub(before);
    expect(reply.status == 200, format!("GET {path} to answer 200"), reply.summary())?;
    Ok(Read { body: reply.json(), queries })
}

/// Reads `path` on `on` twice and checks that the second read was a cache hit: without that
/// there is nothing for a write to invalidate. Returns the cached answer.
///
/// A write that left work running (an invalidation it did not await) may retire the entry
/// just after it was stored: the reads go on a few times until one is a hit, so that such a
/// bug costs the check that judges it, not every check that needs a warm entry.
pub async fn warm(probe: &Probe<'_>, on: &Node, path: &str) -> Result<Value, Failure> {
    read(probe, on, path).await?;
    let mut again = read(probe, on, path).await?;
    for _ in 0..SETTLE_ATTEMPTS {
        if again.queries == 0 {
            break;
        }
        tokio::time::sleep(SETTLE_PAUSE).await;
        again = read(probe, on, path).await?;
    }
    expect(
        again.queries == 0,
        format!("a second GET {path} on {} served from the cache (no query)", on.name),
        format!("it ran {}: the answer is not cached", queries(again.queries)),
    )?;
    Ok(again.body)
}

/// Sends a write to `on`, which must succeed; returns its JSON answer.
pub async fn write(
    probe: &Probe<'_>,
    on: &Node,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, Failure> {
    let what = format!("{method} {path}");
    let body = body.map_or(Body::Empty, Body::Json);
    let reply = on.send(probe, method, path, body).await?;
    expect((200..300).contains(&reply.status), format!("{what} to succeed"), reply.summary())?;
    Ok(reply.json())
}

/// `POST /categories` on `on`; returns the new category's id.
pub async fn create_category(probe: &Probe<'_>, on: &Node, name: &str) -> Result<i64, Failure> {
    let body = Some(json!({ "name": name }));
    let created = write(probe, on, Method::POST, CATEGORIES, body).await?;
    id_of(&created, "POST /categories")
}

/// `POST /tasks` in `category` on `on`; returns the new task's id.
pub async fn create_task(
    probe: &Probe<'_>,
    on: &Node,
    category: i64,
    title: &str,
) -> Result<i64, Failure> {
    let body = json!({ "title": title, "category_id": category, "owner_id": OWNER });
    let created = write(probe, on, Method::POST, "/tasks", Some(body)).await?;
    id_of(&created, "POST /tasks")
}

/// `PUT /tasks/{task}` on `on`: gives the task `title` and marks it done.
pub async fn retitle_task(probe: &Probe<'_>, on: &Node, task: i64, title: &str) -> Verdict {
    let edit = json!({ "title": title, "done": true });
    write(probe, on, Method::PUT, &format!("/tasks/{task}"), Some(edit)).await.map(|_| ())
}

/// Creates a category with a fresh name made from `what`; returns its id.
pub async fn new_category(probe: &mut Probe<'_>, on: &Node, what: &str) -> Result<i64, Failure> {
    let name = probe.unique(what);
    create_category(probe, on, &name).await
}

/// Creates a task in `category` with a fresh title made from `what`; returns its id.
pub async fn new_task(
    probe: &mut Probe<'_>,
    on: &Node,
    category: i64,
    what: &str,
) -> Result<i64, Failure> {
    let title = probe.unique(what);
    create_task(probe, on, category, &title).await
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

/// Asks the support crate of `on` to hold its next query once it has run (the brake is the
/// process's own: another instance's queries go by).
pub async fn hold_next_query(probe: &Probe<'_>, on: &Node) -> Verdict {
    brake(probe, on, "/__workbook/hold-next-query").await
}

/// Asks the support crate of `on` to hold its next write (`INSERT`, `UPDATE`, `DELETE`)
/// before it reaches the database.
pub async fn hold_next_write(probe: &Probe<'_>, on: &Node) -> Verdict {
    brake(probe, on, "/__workbook/hold-next-write").await
}

/// Lets the held queries of `on` go (and disarms a hold that caught nothing).
pub async fn release(probe: &Probe<'_>, on: &Node) -> Verdict {
    brake(probe, on, "/__workbook/release").await
}

async fn brake(probe: &Probe<'_>, on: &Node, path: &str) -> Verdict {
    let reply = on.send(probe, Method::POST, path, Body::Empty).await?;
    expect(
        reply.status == 200,
        format!("POST {path} on {} to answer 200", on.name),
        reply.summary(),
    )
}

/// Waits until `on` holds a query; `false` when it does not after a generous while.
pub async fn query_is_held(probe: &Probe<'_>, on: &Node) -> Result<bool, Failure> {
    for _ in 0..HOLD_POLLS {
        if probe.stats_at(&on.base_url).await?.queries_held > 0 {
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
