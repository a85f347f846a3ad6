//! Exercise 4 — Cache invalidation on data changes.
//!
//! The service caches `GET /categories` and `GET /categories/{id}/tasks`; six write paths
//! (create, rename and delete a category; create, update and delete a task) must retire
//! exactly the entries they made stale. Every check first shows that the entries it watches
//! really are cached (a second read runs no query), works on categories it creates itself,
//! and starts from an empty cache, so one bug costs only its own criterion.

mod api;

use std::time::Duration;

use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use workbook::seed::SplitMix64;

use super::{Category, Criterion, ExerciseSpec, Failure, Verdict, check, expect, fail};
use crate::criteria::inspect::{describe_commands, describe_ttl};
use crate::criteria::probe::{Body, Probe};
use api::{
    CATEGORIES, create_category, create_task, lists, new_category, new_task, read, tasks_of, warm,
    write,
};

/// Redis commands that clear more than the entries a write made stale.
const WHOLESALE_COMMANDS: &[&str] = &["flushdb", "flushall", "keys", "scan"];
/// The burst: categories written and read side by side, and rounds of one operation each.
const BURST_CATEGORIES: usize = 4;
const BURST_ROUNDS: usize = 6;
/// How quickly a write must answer while Redis is down (only catches hangs).
const OUTAGE_ANSWER_LIMIT: Duration = Duration::from_secs(6);
/// How many times the grader asks `/health` whether the service sees Redis again.
const HEALTH_POLLS: u32 = 50;

pub fn spec() -> ExerciseSpec {
    ExerciseSpec {
        slug: "invalidation",
        // Slow enough that the burst's requests overlap; the race itself is ordered by the
        // support crate's hold, not by timing.
        query_delay_ms: 10,
        needs_reference: false,
        criteria: vec![
            Criterion {
                id: "read-your-writes",
                title: "After each of the six writes, the next read shows it",
                category: Category::Invalidation,
                points: 4,
                hint: "Announce a Change from every write of the repository and map each \
                       change to the entries it makes stale in invalidator::stale_entries.",
                hints: &[],
                check: check!(read_your_writes),
            },
            Criterion {
                id: "targeted",
                title: "A write retires only its own entries: no FLUSHDB, no wiping the prefix",
                category: Category::Invalidation,
                points: 3,
                hint: "Invalidate entry by entry (a new stamp, or DEL of one key); never \
                       FLUSHDB, KEYS or SCAN-and-delete.",
                hints: &[],
                check: check!(targeted),
            },
            Criterion {
                id: "concurrent-burst",
                title: "A seeded burst of concurrent writes and reads ends with cache = database",
                category: Category::Invalidation,
                points: 2,
                hint: "Invalidate after the database write has finished, and keep invalidations \
                       of different entries independent of each other.",
                hints: &[],
                check: check!(concurrent_burst),
            },
            Criterion {
                id: "slow-reader-race",
                title: "A slow reader cannot put back a value a writer has just invalidated",
                category: Category::Invalidation,
                points: 3,
                hint: "Use versioned keys: read the entry's stamp before the database and \
                       store under that stamp; a write gives the entry a new stamp.",
                hints: &[],
                check: check!(slow_reader_race),
            },
            Criterion {
                id: "entries-expire",
                title: "Every key the service stores has a TTL",
                category: Category::Caching,
                points: 2,
                hint: "Store values and stamps with SET ... EX: the TTL is the safety net for \
                       an invalidation that never happened.",
                hints: &[],
                check: check!(entries_expire),
            },
            Criterion {
                id: "write-while-redis-down",
                title: "A write while Redis is down leaves no stale entry once Redis is back",
                category: Category::Resilience,
                points: 3,
                hint: "Remember the entries whose invalidation failed, retire them before \
                       trusting the cache again, and read from the database until then.",
                hints: &[],
                check: check!(write_while_redis_down),
            },
        ],
    }
}

async fn read_your_writes(probe: &mut Probe) -> Verdict {
    probe.empty_the_cache().await?;
    let mut stale = Vec::new();

    // Categories: create, rename.
    warm(probe, CATEGORIES).await?;
    let name = probe.unique("created");
    let category = create_category(probe, &name).await?;
    note_stale(probe, &mut stale, "create a category", CATEGORIES, "name", json!(name)).await?;

    warm(probe, CATEGORIES).await?;
    let renamed = probe.unique("renamed");
    write(probe, Method::PUT, &format!("/categories/{category}"), Some(json!({ "name": renamed })))
        .await?;
    note_stale(probe, &mut stale, "rename a category", CATEGORIES, "name", json!(renamed)).await?;

    // Tasks: create, update, delete.
    let tasks = tasks_of(category);
    warm(probe, &tasks).await?;
    let title = probe.unique("task");
    let task = create_task(probe, category, &title).await?;
    note_stale(probe, &mut stale, "create a task", &tasks, "title", json!(title)).await?;

    warm(probe, &tasks).await?;
    let retitled = probe.unique("retitled");
    let edit = json!({ "title": retitled, "done": true });
    write(probe, Method::PUT, &format!("/tasks/{task}"), Some(edit)).await?;
    note_stale(probe, &mut stale, "update a task", &tasks, "title", json!(retitled)).await?;

    warm(probe, &tasks).await?;
    write(probe, Method::DELETE, &format!("/tasks/{task}"), None).await?;
    let after = read(probe, &tasks).await?.body;
    if lists(&after, "id", &json!(task)) {
        stale.push(format!("delete a task: GET {tasks} still lists task {task}"));
    }

    // Deleting a category retires the list and the category's tasks.
    let doomed_task = new_task(probe, category, "doomed").await?;
    warm(probe, CATEGORIES).await?;
    warm(probe, &tasks).await?;
    write(probe, Method::DELETE, &format!("/categories/{category}"), None).await?;
    if lists(&read(probe, CATEGORIES).await?.body, "id", &json!(category)) {
        stale.push(format!("delete a category: GET {CATEGORIES} still lists category {category}"));
    }
    if lists(&read(probe, &tasks).await?.body, "id", &json!(doomed_task)) {
        stale.push(format!("delete a category: GET {tasks} still lists its task {doomed_task}"));
    }

    expect(
        stale.is_empty(),
        "every write to show in the next read",
        format!("stale after: {}", stale.join("; ")),
    )
}

/// Reads `path` after a write and notes a stale answer (no row whose `field` is `value`).
async fn note_stale(
    probe: &Probe,
    stale: &mut Vec<String>,
    write: &str,
    path: &str,
    field: &str,
    value: Value,
) -> Verdict {
    if !lists(&read(probe, path).await?.body, field, &value) {
        stale.push(format!("{write}: GET {path} has no row with {field} {value}"));
    }
    Ok(())
}

async fn targeted(probe: &mut Probe) -> Verdict {
    probe.empty_the_cache().await?;
    let written = new_category(probe, "written").await?;
    let untouched = new_category(probe, "untouched").await?;
    new_task(probe, untouched, "task").await?;
    for path in [CATEGORIES, &tasks_of(written), &tasks_of(untouched)] {
        warm(probe, path).await?;
    }
    let bystander = probe.unique("bystander");
    let bystander = probe.contract.full_key(&bystander);
    probe.redis.set_for(&bystander, "keep", 3600).await?;

    // Three task writes in one category, then a rename of the other.
    let before = probe.redis.command_counts().await?;
    let task = new_task(probe, written, "task").await?;
    let edit = json!({ "title": probe.unique("retitled"), "done": true });
    write(probe, Method::PUT, &format!("/tasks/{task}"), Some(edit)).await?;
    write(probe, Method::DELETE, &format!("/tasks/{task}"), None).await?;
    expect_still_cached(
        probe,
        &[CATEGORIES, &tasks_of(untouched)],
        "three writes of tasks in another category",
    )
    .await?;
    warm(probe, &tasks_of(written)).await?;
    let rename = json!({ "name": probe.unique("renamed") });
    write(probe, Method::PUT, &format!("/categories/{untouched}"), Some(rename)).await?;
    expect_still_cached(
        probe,
        &[&tasks_of(written), &tasks_of(untouched)],
        "renaming a category (task lists do not show names)",
    )
    .await?;

    let commands = probe.redis.command_counts().await?.since(&before);
    let wholesale: Vec<&str> =
        WHOLESALE_COMMANDS.iter().copied().filter(|name| commands.contains_key(*name)).collect();
    expect(
        wholesale.is_empty(),
        "writes to retire their entries one by one, not wholesale",
        format!("the writes ran {}", describe_commands(&commands)),
    )?;
    expect(
        probe.redis.exists(&bystander).await?,
        format!("the unrelated key `{bystander}` to survive the writes"),
        format!("it is gone: the writes ran {}", describe_commands(&commands)),
    )
}

/// Each of `paths` must still be served from the cache after `writes`.
async fn expect_still_cached(probe: &Probe, paths: &[&str], writes: &str) -> Verdict {
    for path in paths {
        let again = read(probe, path).await?;
        expect(
            again.queries == 0,
            format!("GET {path} still cached after {writes}"),
            format!("it ran {}: its entry was deleted too", api::queries(again.queries)),
        )?;
    }
    Ok(())
}

/// One step of the burst, for one category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Read,
    AddTask,
}

/// The burst's plan: `plan[round][category]`. The first round only reads cached entries, so
/// a cache that works always serves some reads.
fn burst_plan(seed: u64) -> Vec<Vec<Step>> {
    let mut rng = SplitMix64::new(seed ^ 0x62_7572_7374);
    (0..BURST_ROUNDS)
        .map(|round| {
            (0..BURST_CATEGORIES)
                .map(
                    |_| if round > 0 && rng.between(0, 9) < 4 { Step::AddTask } else { Step::Read },
                )
                .collect()
        })
        .collect()
}

async fn concurrent_burst(probe: &mut Probe) -> Verdict {
    probe.empty_the_cache().await?;
    let mut categories = Vec::new();
    for _ in 0..BURST_CATEGORIES {
        categories.push(new_category(probe, "burst").await?);
    }
    let plan = burst_plan(probe.contract.seed);
    let mut titles = Vec::new();
    for round in &plan {
        titles.push(round.iter().map(|_| probe.unique("burst-task")).collect::<Vec<_>>());
    }

    for &category in &categories {
        warm(probe, &tasks_of(category)).await?;
    }

    // Each round runs one step per category at the same time: writes and reads overlap, and
    // no two steps of a round touch the same entry.
    let before = probe.stats().await?.queries;
    let probe_ref = &*probe;
    for (round, names) in plan.iter().zip(&titles) {
        let steps =
            round.iter().zip(&categories).zip(names).map(|((step, &category), title)| async move {
                match step {
                    Step::Read => probe_ref.get(&tasks_of(category)).await.map(|_| ()),
                    Step::AddTask => create_task(probe_ref, category, title).await.map(|_| ()),
                }
            });
        join_all(steps).await.into_iter().collect::<Result<Vec<()>, Failure>>()?;
    }
    let queries = probe.stats().await?.queries - before;
    let steps = (BURST_ROUNDS * BURST_CATEGORIES) as u64;
    expect(
        queries < steps,
        format!("some of the burst's reads served from the cache (fewer than {steps} queries)"),
        format!("{}: nothing is cached", api::queries(queries)),
    )?;

    // What the cache says now, then what the database says.
    let mut cached = Vec::new();
    for &category in &categories {
        cached.push(read(probe, &tasks_of(category)).await?.body);
    }
    probe.empty_the_cache().await?;
    for (&category, cached) in categories.iter().zip(&cached) {
        let stored = read(probe, &tasks_of(category)).await?.body;
        expect(
            &stored == cached,
            format!(
                "GET {} after the burst (seed {}) to agree with the database",
                tasks_of(category),
                probe.contract.seed
            ),
            format!("the cache served {cached}, the database holds {stored}"),
        )?;
    }
    Ok(())
}

async fn slow_reader_race(probe: &mut Probe) -> Verdict {
    // The race both ways round: the read overlapping the write after the read's query, and
    // before the write's.
    reader_held_after_its_query(probe).await?;
    reader_before_the_write_reaches_the_database(probe).await
}

/// The reader misses, reads the database and is held there; the writer adds a task and
/// invalidates; then the reader goes on and stores what it read before the write.
async fn reader_held_after_its_query(probe: &mut Probe) -> Verdict {
    let (category, tasks) = cached_task_list(probe, "raced").await?;
    probe.empty_the_cache().await?;

    let title = probe.unique("written-during-read");
    api::hold_next_query(probe).await?;
    let probe_ref = &*probe;
    let reader = probe_ref.get(&tasks);
    let writer = async {
        if !api::query_is_held(probe_ref).await? {
            api::release(probe_ref).await?;
            return Err(fail(
                format!("GET {tasks} with an empty cache to query the database"),
                "no query ran: the grader could not hold the reader",
            ));
        }
        let written = create_task(probe_ref, category, &title).await;
        api::release(probe_ref).await?;
        written
    };
    let (reader, writer) = tokio::join!(reader, writer);
    writer?;
    reader?;
    expect_fresh_after_race(
        probe,
        &tasks,
        &title,
        "the reader stored what it read before the write, after the write had invalidated",
    )
    .await
}

/// The writer is held just before its `INSERT` reaches the database; meanwhile a reader reads
/// the list. A writer that invalidates *before* writing lets that reader put the old list
/// back, and nothing retires it once the write lands.
async fn reader_before_the_write_reaches_the_database(probe: &mut Probe) -> Verdict {
    let (category, tasks) = cached_task_list(probe, "raced-early").await?;
    let title = probe.unique("written-after-read");
    api::hold_next_write(probe).await?;
    let probe_ref = &*probe;
    let writer = create_task(probe_ref, category, &title);
    let reader = async {
        if !api::query_is_held(probe_ref).await? {
            api::release(probe_ref).await?;
            return Err(fail(
                "POST /tasks to write to the database",
                "no write ran: the grader could not hold the writer",
            ));
        }
        let read = read(probe_ref, &tasks).await;
        api::release(probe_ref).await?;
        read
    };
    let (writer, reader) = tokio::join!(writer, reader);
    reader?;
    writer?;
    expect_fresh_after_race(probe, &tasks, &title, "a read while the write waited put the old list back: the write invalidated before it wrote, and not after").await
}

/// After a race, the list must show the task the writer added.
async fn expect_fresh_after_race(probe: &Probe, tasks: &str, title: &str, why: &str) -> Verdict {
    let after = read(probe, tasks).await?;
    expect(
        lists(&after.body, "title", &json!(title)),
        format!("GET {tasks} after the race to list the task {title:?}"),
        format!("a stale list from the cache ({}): {why}", api::queries(after.queries)),
    )
}

/// From an empty cache, a new category with one task, its task list cached: returns the
/// category and the path of its task list.
async fn cached_task_list(probe: &mut Probe, what: &str) -> Result<(i64, String), Failure> {
    probe.empty_the_cache().await?;
    let category = new_category(probe, what).await?;
    new_task(probe, category, "before").await?;
    let tasks = tasks_of(category);
    warm(probe, &tasks).await?;
    Ok((category, tasks))
}

async fn entries_expire(probe: &mut Probe) -> Verdict {
    probe.empty_the_cache().await?;
    let category = new_category(probe, "expiring").await?;
    warm(probe, CATEGORIES).await?;
    warm(probe, &tasks_of(category)).await?;
    // A write, so that whatever a write stores (stamps, versions) is there too.
    new_task(probe, category, "task").await?;
    read(probe, &tasks_of(category)).await?;

    let keys = probe.redis.keys(&format!("{}:*", probe.contract.key_prefix)).await?;
    expect(!keys.is_empty(), "cached entries in Redis", "no key under the prefix")?;
    for key in &keys {
        let ttl = probe.redis.ttl(key).await?;
        expect(ttl > 0, format!("`{key}` to expire"), describe_ttl(ttl))?;
    }
    Ok(())
}

async fn write_while_redis_down(probe: &mut Probe) -> Verdict {
    let (category, tasks) = cached_task_list(probe, "outage").await?;

    // Redis goes away with the entry in it, and comes back with it (as a Redis that persists
    // its data would).
    probe.redis.save().await?;
    probe.stop_redis().await?;
    let title = probe.unique("written-while-down");
    let outcome = write_during_outage(probe, category, &title).await;
    probe.restart_redis().await?;
    outcome?;
    if probe.redis.keys(&format!("{}:*", probe.contract.key_prefix)).await?.is_empty() {
        return Err(Failure::Error("Redis came back without its saved entries".to_owned()));
    }
    service_sees_redis(probe).await?;

    for attempt in ["first", "second"] {
        let after = read(probe, &tasks).await?;
        expect(
            lists(&after.body, "title", &json!(title)),
            format!("the {attempt} GET {tasks} after Redis is back to list {title:?}"),
            "the list from before the outage: the failed invalidation was forgotten",
        )?;
    }
    Ok(())
}

/// While Redis is down: the write succeeds and the next read shows it.
async fn write_during_outage(probe: &Probe, category: i64, title: &str) -> Verdict {
    let body = json!({ "title": title, "category_id": category, "owner_id": 1 });
    let reply =
        probe.send(Method::POST, "/tasks", Body::Json(body), None, OUTAGE_ANSWER_LIMIT).await?;
    expect(
        (200..300).contains(&reply.status),
        "POST /tasks while Redis is down to succeed (the database is up)",
        reply.summary(),
    )?;
    let path = tasks_of(category);
    let reply = probe.send(Method::GET, &path, Body::Empty, None, OUTAGE_ANSWER_LIMIT).await?;
    expect(
        reply.status == 200 && lists(&reply.json(), "title", &json!(title)),
        format!("GET {path} while Redis is down to list {title:?}"),
        reply.summary(),
    )
}

/// Waits until the service's `/health` says Redis is up again, so its next read really
/// reaches Redis (and would find a stale entry there).
async fn service_sees_redis(probe: &Probe) -> Verdict {
    let mut last = String::new();
    for _ in 0..HEALTH_POLLS {
        last = probe.redis_health(OUTAGE_ANSWER_LIMIT).await?;
        if last == "up" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(fail("/health to report Redis up again after the restart", last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_burst_starts_with_reads_and_has_writes() {
        let plan = burst_plan(7);
        assert!(plan[0].iter().all(|step| *step == Step::Read));
        assert!(plan.iter().flatten().any(|step| *step == Step::AddTask));
        assert_eq!(plan, burst_plan(7));
    }

    #[test]
    fn points_add_up_to_the_seventeen_of_the_books_table() {
        assert_eq!(spec().criteria.iter().map(|c| c.points).sum::<u32>(), 17);
    }
}
