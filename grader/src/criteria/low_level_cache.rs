//! Exercise 3 — the low-level cache API and caching expensive queries.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use workbook::seed::Dataset;

use super::inspect::{describe_commands, describe_ttl};
use super::{
    Because, Category, Criterion, ExerciseSpec, Failure, Symptom, Verdict, check, expect, fail,
};
use crate::course;
use crate::criteria::probe::{Body, Probe, REQUEST_TIMEOUT};
use crate::words::counted;

/// How far below the asked TTL a fresh key may be (seconds pass between SET and TTL).
const TTL_TOLERANCE: i64 = 5;
/// Requests after the first one for the same report: all of them must be cache hits.
const REPEATS: usize = 3;
/// Concurrent requests in the stampede and counter checks.
const CONCURRENT: usize = 24;
/// Keys matching a pattern delete beyond the five the service stores itself: several `SCAN`
/// replies' worth at any `COUNT` a solution would choose.
const MANY_MATCHING_KEYS: usize = 3000;
/// How long Redis holds the concurrent increments' commands (see `atomic_counters`).
const INCREMENT_PAUSE: Duration = Duration::from_millis(200);
/// Entries written and read at once by the many-key check.
const MANY: usize = 8;
/// Redis' count of reads from client sockets (`INFO stats`): one per batch of commands
/// received, so a pipeline is one read where a loop of awaited commands is one per command.
const READS_PROCESSED: &str = "total_reads_processed";
/// Reads a one-round-trip `set_many` may cause: one, or two if the pipeline is split in transit.
const MAX_READS_FOR_ONE_ROUND_TRIP: u64 = 2;
/// The TTL the many-key check asks for.
const MANY_TTL: i64 = 120;
/// How long a copy of a report kept in the process may outlive its entry in Redis: a short
/// in-process cache in front of Redis is fine, one that never expires is not.
const LOCAL_COPY_GRACE: Duration = Duration::from_secs(10);
/// How quickly a report must come back while Redis is down (a hang detector, not a benchmark).
const OUTAGE_ANSWER_LIMIT: Duration = Duration::from_secs(6);

/// Users each check asks about, so that one check never warms another's entry.
const USER_FOR_TTL_CHECK: i64 = 2;
const USER_FOR_BASELINE: i64 = 3;
const USER_FOR_STAMPEDE: i64 = 4;
const USER_FOR_OUTAGE: i64 = 5;

pub fn spec() -> ExerciseSpec {
    ExerciseSpec {
        exercise: course::LOW_LEVEL_CACHE,
        query_delay_ms: 100,
        needs_reference: false,
        criteria: vec![
            Criterion {
                id: "queries-once-per-ttl",
                title: "Each expensive query runs once per TTL, and its entry carries that TTL",
                category: Category::Performance,
                points: 3,
                hint: "Serve each report through Cache::get_or_set with the default timeout, \
                       and store with SET ... EX so the entry expires; keep no copy elsewhere \
                       that outlives it.",
                hints: &[],
                check: check!(queries_once_per_ttl),
            },
            Criterion {
                id: "many-keys-one-round-trip",
                title: "get_many and set_many reach Redis in one round trip, however many keys",
                category: Category::Performance,
                points: 3,
                hint: "get_many is one MGET (or one pipeline of GETs); set_many is one \
                       pipeline of SETEX (set_ex) (redis::pipe()), never a loop of awaited \
                       commands.",
                hints: &[],
                check: check!(many_keys_one_round_trip),
            },
            Criterion {
                id: "atomic-counters",
                title: "incr/decr are atomic and a missing counter starts at 0",
                category: Category::Caching,
                points: 3,
                hint: "Use INCRBY/DECRBY: reading, adding and writing back loses updates when \
                       requests overlap.",
                hints: &[],
                check: check!(atomic_counters),
            },
            Criterion {
                id: "stampede-protection",
                title: "A cold key requested by many at once is computed once",
                category: Category::Performance,
                points: 3,
                hint: "In get_or_set, join the key's flight (one async lock per key) before \
                       computing, and look in the cache again once you hold it.",
                hints: &[],
                check: check!(stampede_protection),
            },
            Criterion {
                id: "pattern-delete-scan",
                title: "Deleting by pattern uses SCAN, never KEYS",
                category: Category::Performance,
                points: 2,
                hint: "KEYS blocks Redis while it reads every key: walk the keyspace with \
                       SCAN cursor MATCH pattern COUNT n, DEL each batch, and go on until the \
                       cursor comes back as 0.",
                hints: &[(
                    Symptom::OutsidePrefix,
                    "SCAN found nothing to delete: the pattern is relative to the cache's \
                     namespace, so match make_key(pattern), i.e. prefix:version:pattern, as \
                     delete_pattern's doc says.",
                )],
                check: check!(pattern_delete_scan),
            },
            Criterion {
                id: "values-round-trip",
                title: "Values round-trip without loss (unicode, large values, nested data)",
                category: Category::Caching,
                points: 2,
                hint: "Serialise with serde_json and store the whole string; deserialise into \
                       the same type on the way out.",
                hints: &[],
                check: check!(values_round_trip),
            },
            Criterion {
                id: "redis-down-fallback",
                title: "With Redis down, reports come from the database and nothing fails",
                category: Category::Resilience,
                points: 2,
                hint: "In get_or_set a failed read is a miss and a failed write is only logged: \
                       the answer is computed either way.",
                hints: &[(
                    Symptom::Timeout,
                    "A request waited on a Redis that is gone: put a time limit on every Redis \
                     command (tokio::time::timeout, ConnectionManagerConfig's response timeout) \
                     so a dead Redis is a quick miss.",
                )],
                check: check!(redis_down_fallback),
            },
        ],
    }
}

async fn queries_once_per_ttl(probe: &mut Probe<'_>) -> Verdict {
    let expected = expected_reports(probe);
    let user = expected.user(USER_FOR_TTL_CHECK);
    let reports = [
        ("/reports/task-count".to_owned(), expected.task_count),
        ("/reports/categories".to_owned(), expected.categories),
        (format!("/reports/users/{USER_FOR_TTL_CHECK}"), user),
    ];
    for (path, wanted) in reports {
        report_cached_once(probe, &path, &wanted).await?;
    }
    Ok(())
}

/// Asks for a report several times: right answer, one computation, one entry with the TTL.
async fn report_cached_once(probe: &mut Probe<'_>, path: &str, wanted: &Value) -> Verdict {
    let keys_before = probe.cached_keys().await?;
    let before = probe.stats().await?;
    expect_report(probe, path, wanted).await?;
    let after_first = probe.stats().await?;
    for _ in 0..REPEATS {
        expect_report(probe, path, wanted).await?;
    }
    let after_all = probe.stats().await?;
    let first = after_first.since(&before).queries;
    let repeated = after_all.since(&after_first).queries;
    expect(
        first >= 1 && repeated == 0,
        format!("GET {path} to query the database once, then {REPEATS} times from the cache"),
        format!(
            "{} for the first request, {repeated} for the next {REPEATS}",
            counted(first, "query")
        ),
    )?;

    let created: Vec<String> =
        probe.cached_keys().await?.into_iter().filter(|key| !keys_before.contains(key)).collect();
    let wanted_ttl = probe.contract().default_timeout as i64;
    if created.is_empty() {
        return Err(fail(
            format!(
                "a new key under `{}` holding the answer of GET {path}",
                probe.contract().key_pattern()
            ),
            "no new key: the report is not cached in the grader's Redis",
        ));
    }
    // The entry is the key that holds the answer, whatever its name: a lock or a marker the
    // service keeps beside it is not. Should none hold it recognisably (a format of its own),
    // every new key is judged.
    let mut entries = Vec::new();
    for key in &created {
        if let Some(text) = probe.redis().text(key).await?
            && holds_json(&text, wanted)
        {
            entries.push(key.clone());
        }
    }
    if entries.is_empty() {
        entries = created;
    }
    for key in &entries {
        let ttl = probe.redis().ttl(key).await?;
        expect(
            (wanted_ttl - TTL_TOLERANCE..=wanted_ttl).contains(&ttl),
            format!("`{key}` (the entry of GET {path}) to expire in {wanted_ttl} s"),
            describe_ttl(ttl),
        )?;
    }
    computed_again_once_expired(probe, path, wanted, &entries).await
}

/// Once per TTL, not once: the grader runs Redis' clock past the TTL, so the entry expires
/// as Redis would expire it, and the next request must compute the report again. A copy kept
/// in the process may outlive the entry by [`LOCAL_COPY_GRACE`] (a short in-process cache in
/// front of Redis, as the lesson allows), not for ever.
async fn computed_again_once_expired(
    probe: &mut Probe<'_>,
    path: &str,
    wanted: &Value,
    entries: &[String],
) -> Verdict {
    let ttl = probe.contract().default_timeout;
    probe.redis().let_time_pass(Duration::from_secs(ttl + 1)).await?;
    let deadline = tokio::time::Instant::now() + LOCAL_COPY_GRACE;
    loop {
        let before = probe.stats().await?;
        expect_report(probe, path, wanted).await?;
        if probe.stats().await?.since(&before).queries >= 1 {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(fail(
                format!(
                    "GET {path} to query the database again once its entry ({}) expired, \
                     {ttl} s after it was stored (the grader ran Redis' clock forward)",
                    entries.join(", ")
                ),
                format!(
                    "no query for {} s after the entry expired: the report is kept somewhere \
                     that does not expire with it (a copy in the process's memory?)",
                    LOCAL_COPY_GRACE.as_secs()
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Whether `text` is JSON that is `wanted` or holds it somewhere inside (an envelope with a
/// timestamp, say).
fn holds_json(text: &str, wanted: &Value) -> bool {
    fn within(value: &Value, wanted: &Value) -> bool {
        value == wanted
            || match value {
                Value::Array(items) => items.iter().any(|item| within(item, wanted)),
                Value::Object(fields) => fields.values().any(|field| within(field, wanted)),
                Value::String(inner) => {
                    serde_json::from_str::<Value>(inner).is_ok_and(|inner| within(&inner, wanted))
                }
                _ => false,
            }
    }
    serde_json::from_str::<Value>(text).is_ok_and(|value| within(&value, wanted))
}

async fn many_keys_one_round_trip(probe: &mut Probe<'_>) -> Verdict {
    let names: Vec<String> = (0..MANY).map(|_| probe.unique("many")).collect();
    let entries: serde_json::Map<String, Value> = names
        .iter()
        .enumerate()
        .map(|(i, name)| (name.clone(), json!({ "position": i, "name": name })))
        .collect();

    let before = probe.redis().command_counts().await?;
    let reads_before = probe.redis().info_number(READS_PROCESSED).await?;
    let stored = probe
        .post_json("/cache/many", json!({ "entries": entries, "ttl": MANY_TTL }), None)
        .await?;
    // This INFO is itself one read: the rest are the service's.
    let reads = probe.redis().info_number(READS_PROCESSED).await?.saturating_sub(reads_before + 1);
    let after_set = probe.redis().command_counts().await?;
    expect((200..300).contains(&stored.status), "POST /cache/many to succeed", stored.summary())?;
    // A pipeline shows as one SET per key in the command statistics, like a loop would; but
    // Redis reads the whole pipeline at once, and a loop's commands one read each.
    expect(
        reads <= MAX_READS_FOR_ONE_ROUND_TRIP,
        format!("set_many of {MANY} entries to reach Redis in one round trip (one pipeline)"),
        format!(
            "{reads} separate reads by Redis for {}",
            describe_commands(&after_set.since(&before))
        ),
    )?;
    for name in &names {
        let found = probe.redis().keys(&format!("*{name}")).await?;
        let key = found.first().ok_or_else(|| {
            fail(format!("a key ending in `{name}` after set_many"), "none was stored")
        })?;
        let ttl = probe.redis().ttl(key).await?;
        expect(
            (MANY_TTL - TTL_TOLERANCE..=MANY_TTL).contains(&ttl),
            format!("`{key}` to expire in {MANY_TTL} s, the TTL set_many was given"),
            describe_ttl(ttl),
        )?;
    }

    let path = format!("/cache/many?keys={}", names.join(","));
    let before = probe.redis().command_counts().await?;
    let reads_before = probe.redis().info_number(READS_PROCESSED).await?;
    let read = probe.get(&path).await?;
    let reads = probe.redis().info_number(READS_PROCESSED).await?.saturating_sub(reads_before + 1);
    let after = probe.redis().command_counts().await?;
    expect(
        read.status == 200 && read.json() == Value::Object(entries),
        format!("GET {path} to return every entry that was stored"),
        read.summary(),
    )?;
    // One MGET or one pipeline of GETs: either way Redis reads the request once. Two reads
    // pass only for a single MGET (a pipeline may be split in transit; one short command
    // is not): two MGETs one after the other are two round trips.
    let mgets = after.delta(&before, "mget");
    let one_round_trip = reads <= 1 || (reads <= MAX_READS_FOR_ONE_ROUND_TRIP && mgets == 1);
    expect(
        one_round_trip && mgets <= 1,
        format!("get_many of {MANY} keys to reach Redis in one round trip (MGET or a pipeline)"),
        format!("{reads} separate reads by Redis for {}", describe_commands(&after.since(&before))),
    )
}

async fn atomic_counters(probe: &mut Probe<'_>) -> Verdict {
    let missing = probe.unique("never-counted");
    let reply = post(probe, &format!("/counters/{missing}/decr")).await?;
    expect(
        reply.status == 200 && reply.json()["value"] == -1,
        format!("POST /counters/{missing}/decr on a missing counter to answer {{\"value\": -1}}"),
        reply.summary(),
    )?;

    let name = probe.unique("visits");
    let path = format!("/counters/{name}/incr");
    // Two instances of the service on the same Redis share the counter: a lock inside one
    // process, or a count kept in its memory, cannot make them agree.
    let binary = probe.service().binary().to_owned();
    let second = probe.start_instance(&binary, "a second instance of the service", &[]).await?;
    let outcome = increments_across(probe, &second.service.base_url, &path).await;
    second.stop().await;
    outcome?;
    let total = probe.get(&format!("/counters/{name}")).await?;
    expect(
        total.status == 200 && total.json()["value"] == CONCURRENT as i64,
        format!("GET /counters/{name} to answer {{\"value\": {CONCURRENT}}}"),
        total.summary(),
    )?;

    // Redis holds the count: changed there, it is what the service reports. The counter is
    // found by meaning, wherever and however it is kept (a key, a hash's field, a sorted
    // set's score): what holds the count now, and holds it plus one after one more increment.
    let counted = CONCURRENT as i64;
    let candidates = probe.redis().places_holding(counted).await?;
    let again = post(probe, &path).await?;
    expect(
        again.status == 200 && again.json()["value"] == counted + 1,
        format!("POST {path} once more to answer {{\"value\": {}}}", counted + 1),
        again.summary(),
    )?;
    let mut counter = None;
    for place in candidates {
        if probe.redis().place_holds(&place, counted + 1).await? {
            counter = Some(place);
            break;
        }
    }
    let Some(place) = counter else {
        return Err(fail(
            format!(
                "a value in Redis holding the counter `{name}`: {counted}, then {} after one more \
                 increment",
                counted + 1
            ),
            "none in any database: the count is kept somewhere else",
        ));
    };
    probe.redis().overwrite_place(&place, 1000).await?;
    let changed = probe.get(&format!("/counters/{name}")).await?;
    expect(
        changed.status == 200 && changed.json()["value"] == 1000,
        format!(
            "GET /counters/{name} to answer {{\"value\": 1000}} once the grader set {place} to 1000"
        ),
        format!("{}: the count is read from somewhere other than Redis", changed.summary()),
    )
}

/// [`CONCURRENT`] increments of `path` at once, split between the service and the instance
/// at `second`; every value 1..=CONCURRENT must be answered exactly once.
async fn increments_across(probe: &mut Probe<'_>, second: &str, path: &str) -> Verdict {
    // Ordered, not timed: with every client paused, the increments' commands queue up and then
    // run back to back, so a read-modify-write reads the same old value in several requests
    // however busy the machine is. The pause is short of the services' command time limits.
    if probe.redis_is_private() {
        probe.redis().pause_clients(INCREMENT_PAUSE).await?;
    }
    let first = probe.base_url().to_owned();
    let probe = &*probe;
    let replies = join_all((0..CONCURRENT).map(|n| {
        let base_url = if n % 2 == 0 { first.as_str() } else { second };
        probe.send_to(base_url, Method::POST, path, Body::Empty, None, REQUEST_TIMEOUT)
    }))
    .await;
    let mut values = Vec::new();
    for reply in replies {
        let reply = reply?;
        expect(reply.status == 200, format!("POST {path} to answer 200"), reply.summary())?;
        values.push(reply.json()["value"].as_i64().unwrap_or(0));
    }
    values.sort_unstable();
    let wanted: Vec<i64> = (1..=CONCURRENT as i64).collect();
    expect(
        values == wanted,
        format!(
            "{CONCURRENT} concurrent increments, split between two instances of the service, to \
             answer 1..={CONCURRENT}, once each"
        ),
        format!(
            "answers {values:?}: some values were answered twice, so increments were lost or \
             not shared between the instances"
        ),
    )
}

async fn stampede_protection(probe: &mut Probe<'_>) -> Verdict {
    let expected = expected_reports(probe);
    // One cold request alone: how many queries one computation costs.
    let baseline_path = format!("/reports/users/{USER_FOR_BASELINE}");
    let before = probe.stats().await?;
    expect_report(probe, &baseline_path, &expected.user(USER_FOR_BASELINE)).await?;
    let one_computation = probe.stats().await?.since(&before).queries;

    // The same cold report for another user, asked by many at once. Every query sleeps for
    // WORKBOOK_QUERY_DELAY_MS, so the requests overlap the computation whatever the load.
    let path = format!("/reports/users/{USER_FOR_STAMPEDE}");
    let wanted = expected.user(USER_FOR_STAMPEDE);
    let before = probe.stats().await?;
    let replies = join_all((0..CONCURRENT).map(|_| probe.get(&path))).await;
    let queries = probe.stats().await?.since(&before).queries;
    for reply in replies {
        let reply = reply?;
        expect(
            reply.status == 200 && reply.json() == wanted,
            format!("GET {path} to answer 200 {wanted}"),
            reply.summary(),
        )?;
    }
    expect(
        one_computation >= 1 && queries == one_computation,
        format!(
            "{CONCURRENT} concurrent requests for a cold report to compute it once \
             ({one_computation} queries, as one request alone costs)"
        ),
        format!(
            "{}: the report was computed about {}",
            counted(queries, "query"),
            counted(queries.checked_div(one_computation).unwrap_or(queries), "time")
        ),
    )
}

async fn pattern_delete_scan(probe: &mut Probe<'_>) -> Verdict {
    let tag = probe.unique("purge");
    let survivor = probe.unique("keep");
    for i in 0..5 {
        put_json(probe, &format!("{tag}-{i}"), json!(i)).await?;
    }
    put_json(probe, &survivor, json!("stays")).await?;
    // More matching keys than one SCAN reply holds, put by the grader where the service keeps
    // its own: a delete that stops after the first reply leaves some behind.
    let many: Vec<String> = (5..5 + MANY_MATCHING_KEYS)
        .map(|i| probe.contract().full_key(&format!("{tag}-{i}")))
        .collect();
    probe.redis().fill(&many, "0", 600).await?;

    let path = format!("/cache?pattern={tag}-*");
    let before = probe.redis().command_counts().await?;
    let reply = probe.send(Method::DELETE, &path, Body::Empty, None, REQUEST_TIMEOUT).await?;
    let after = probe.redis().command_counts().await?;
    expect(
        (200..300).contains(&reply.status),
        format!("DELETE {path} to succeed"),
        reply.summary(),
    )?;
    let commands = after.since(&before);
    expect(
        after.delta(&before, "keys") == 0 && after.delta(&before, "scan") >= 1,
        "the pattern delete to walk the keys with SCAN, without KEYS",
        describe_commands(&commands),
    )?;
    let left = probe.redis().keys(&format!("*{tag}-*")).await?;
    let shown: Vec<&str> = left.iter().take(5).map(String::as_str).collect();
    let observed = match left.len() {
        0 => String::new(),
        n if n > 5 => format!("{} and {} more", shown.join(", "), n - 5),
        _ => shown.join(", "),
    };
    let verdict = expect(
        left.is_empty(),
        format!("no key matching `{tag}-*` left of {}", 5 + MANY_MATCHING_KEYS),
        observed,
    );
    if left.len() == 5 + MANY_MATCHING_KEYS {
        // SCAN ran and matched nothing of ours: its pattern missed the namespace.
        verdict.because(Symptom::OutsidePrefix)?;
    } else {
        verdict?;
    }
    let kept = probe.redis().keys(&format!("*{survivor}")).await?;
    expect(
        !kept.is_empty(),
        format!("`{survivor}`, which does not match the pattern, to stay"),
        "it was deleted too",
    )
}

async fn values_round_trip(probe: &mut Probe<'_>) -> Verdict {
    let key = probe.unique("roundtrip");
    // Over 1 MiB, by an amount drawn per run: a cap at a round size (1 MiB, Redis' old
    // default for a client's query buffer) shows, whatever size it is.
    let large_bytes = (5 << 18) + (probe.unique_number() % (1 << 19)) as usize;
    let value = json!({
        "title": "Überprüfung ✓ — 日本語 🚀 \"quoted\" \\ back\nslash",
        "large": "0123456789abcdef".repeat(large_bytes / 16),
        "nested": { "ids": [1, 2, 3], "done": true, "ratio": 0.25, "none": null, "big": i64::MAX },
    });
    put_json(probe, &key, value.clone()).await?;
    let read = probe.get(&format!("/cache/{key}")).await?;
    expect(
        read.status == 200 && read.json() == value,
        format!(
            "GET /cache/{key} to return exactly the JSON that was stored ({} KiB)",
            large_bytes / 1024
        ),
        read.summary(),
    )
}

async fn redis_down_fallback(probe: &mut Probe<'_>) -> Verdict {
    let expected = expected_reports(probe);
    probe.stop_redis().await?;
    let outcome = reports_without_redis(probe, &expected).await;
    probe.restart_redis().await?;
    outcome
}

async fn reports_without_redis(probe: &mut Probe<'_>, expected: &ExpectedReports) -> Verdict {
    let reports = [
        ("/reports/task-count".to_owned(), expected.task_count.clone()),
        (format!("/reports/users/{USER_FOR_OUTAGE}"), expected.user(USER_FOR_OUTAGE)),
    ];
    for (path, wanted) in reports {
        let reply = probe.send(Method::GET, &path, Body::Empty, None, OUTAGE_ANSWER_LIMIT).await?;
        expect(
            reply.status == 200 && reply.json() == wanted,
            format!("GET {path} to answer 200 {wanted} from the database while Redis is down"),
            reply.summary(),
        )?;
    }
    Ok(())
}

/// What each report must contain, computed from the seed the service was given.
struct ExpectedReports {
    task_count: Value,
    categories: Value,
    data: Dataset,
}

impl ExpectedReports {
    fn user(&self, user_id: i64) -> Value {
        let user = self.data.users.iter().find(|user| user.id == user_id);
        let owned: Vec<_> =
            self.data.tasks.iter().filter(|task| task.owner_id == user_id).collect();
        let done = owned.iter().filter(|task| task.done).count();
        json!({
            "user_id": user_id,
            "username": user.map(|user| user.username.clone()),
            "total": owned.len(),
            "done": done,
            "open": owned.len() - done,
        })
    }
}

fn expected_reports(probe: &Probe<'_>) -> ExpectedReports {
    let data = Dataset::generate(probe.contract().seed, probe.contract().tasks);
    let mut counts: BTreeMap<&str, (i64, usize)> = BTreeMap::new();
    for category in &data.categories {
        counts.insert(&category.name, (category.id, 0));
    }
    for task in &data.tasks {
        if let Some(category) = data.categories.iter().find(|c| c.id == task.category_id) {
            counts.get_mut(category.name.as_str()).expect("every category is counted").1 += 1;
        }
    }
    let categories = counts
        .iter()
        .map(|(name, (id, count))| json!({ "id": id, "name": name, "task_count": count }))
        .collect();
    ExpectedReports {
        task_count: json!({ "count": data.tasks.len() }),
        categories: Value::Array(categories),
        data,
    }
}

async fn expect_report(probe: &Probe<'_>, path: &str, wanted: &Value) -> Verdict {
    let reply = probe.get(path).await?;
    expect(
        reply.status == 200 && reply.json() == *wanted,
        format!("GET {path} to answer 200 {}", abbreviated(wanted)),
        reply.summary(),
    )
}

async fn put_json(probe: &Probe<'_>, key: &str, value: Value) -> Verdict {
    let path = format!("/cache/{key}");
    let reply = probe.send(Method::PUT, &path, Body::Json(value), None, REQUEST_TIMEOUT).await?;
    expect((200..300).contains(&reply.status), format!("PUT {path} to succeed"), reply.summary())
}

async fn post(probe: &Probe<'_>, path: &str) -> Result<crate::criteria::probe::Reply, Failure> {
    probe.send(Method::POST, path, Body::Empty, None, REQUEST_TIMEOUT).await
}

fn abbreviated(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 120 { format!("{}…", &text[..120]) } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_recognised_by_the_answer_it_holds() {
        let wanted = json!({ "count": 7 });
        assert!(holds_json(r#"{"count":7}"#, &wanted));
        assert!(holds_json(r#"{"stored_at":12,"value":{"count":7}}"#, &wanted));
        assert!(holds_json(r#""{\"count\":7}""#, &wanted));
        assert!(!holds_json("41-17", &wanted), "a lock's token is no entry");
        assert!(!holds_json(r#"{"count":8}"#, &wanted));
    }
}
