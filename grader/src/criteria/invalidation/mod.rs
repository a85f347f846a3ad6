//! Exercise 4 — Cache invalidation on data changes.
//!
//! The service caches `GET /categories` and `GET /categories/{id}/tasks`; six write paths
//! (create, rename and delete a category; create, update and delete a task) must retire
//! exactly the entries they made stale. Every check first shows that the entries it watches
//! really are cached (a second read runs no query), works on categories it creates itself,
//! and starts from an empty cache, so one bug costs only its own criterion.
//!
//! An invalidation must reach every process that serves the cache, so the checks whose claim
//! holds across processes (read-your-writes, the burst, the races) start a second instance of
//! the service on the same Redis and the same database, and split the work between the two:
//! one writes, the other reads, and then the other way round.

mod api;

use std::time::Duration;

use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use workbook::seed::SplitMix64;

use super::{
    Because, Category, Criterion, ExerciseSpec, Failure, Symptom, Verdict, check, expect, fail,
};
use crate::course;
use crate::criteria::inspect::{describe_commands, describe_ttl};
use crate::criteria::probe::Instance;
use crate::criteria::probe::{Body, Probe};
use api::{
    CATEGORIES, Node, create_category, create_task, lists, new_category, new_task, read,
    retitle_task, tasks_of, warm, write,
};

/// Redis commands that clear more than the entries a write made stale.
const WHOLESALE_COMMANDS: &[&str] = &["flushdb", "flushall", "keys", "scan"];
/// The burst: categories written and read side by side, and rounds of one operation each.
const BURST_CATEGORIES: usize = 4;
const BURST_ROUNDS: usize = 6;
/// How quickly a write must answer while Redis is down (only catches hangs).
const OUTAGE_ANSWER_LIMIT: Duration = Duration::from_secs(6);
/// How long Redis holds back writes while a write's answer is awaited: short of a service's
/// command time limit (the workbook's is 500 ms), so an awaited invalidation goes through.
const WRITE_PAUSE: Duration = Duration::from_millis(200);
/// How many times a stale read is repeated to see whether a late invalidation retires it
/// (each after `api::SETTLE_PAUSE`: together well past [`WRITE_PAUSE`]).
const LATE_INVALIDATION_POLLS: u32 = 6;
/// How many times the grader asks `/health` whether the service sees Redis again.
const HEALTH_POLLS: u32 = 50;

pub fn spec() -> ExerciseSpec {
    ExerciseSpec {
        exercise: course::INVALIDATION,
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
                hint: "Every write already announces its Change, and the hook is registered: \
                       in src/invalidator.rs, map each change to all the entries it makes stale \
                       (stale_entries); in src/entry_cache.rs, give each of them a new stamp \
                       (EntryCache::invalidate).",
                hints: &[(
                    Symptom::OneProcessOnly,
                    "Each write showed on the instance that made it and not on the other: keep \
                     what invalidation depends on (the stamps) in Redis, where every instance \
                     of the service sees it, never in a process's memory.",
                )],
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
                hint: "Give an entry a new stamp after the database write has finished, rather \
                       than patching its cached value, so that the next read stores exactly what \
                       the database holds; keep the stamps in Redis, where every instance sees \
                       them.",
                hints: &[],
                check: check!(concurrent_burst),
            },
            Criterion {
                id: "slow-reader-race",
                title: "A slow reader cannot put back a value a writer has just invalidated",
                category: Category::Invalidation,
                points: 3,
                hint: "Use versioned keys: read the entry's stamp from Redis before the \
                       database and store under that stamp; a write gives the entry a new stamp \
                       in Redis once its database write is done.",
                hints: &[],
                check: check!(slow_reader_race),
            },
            Criterion {
                id: "entries-expire",
                title: "Every key the service stores has a TTL, and no write is undone by one",
                category: Category::Caching,
                points: 2,
                hint: "Store values and stamps with SET ... EX: the TTL is the safety net for \
                       an invalidation that never happened. A stamp must outlive the values \
                       stored under the stamp before it (twice their TTL), in seconds.",
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

/// The service under test (instance A) and a second instance of it on the same Redis and the
/// same database (instance B), as two processes behind a load balancer: what one keeps in its
/// own memory, the other never sees.
struct TwoInstances {
    a: Node,
    b: Node,
    second: Instance,
}

async fn two_instances(probe: &mut Probe<'_>) -> Result<TwoInstances, Failure> {
    let binary = probe.service().binary().to_owned();
    let second = probe.start_instance_on_the_services_database(&binary, "instance B", &[]).await?;
    let a = Node::at("instance A", probe.base_url());
    let b = Node::at("instance B", &second.service.base_url);
    Ok(TwoInstances { a, b, second })
}

/// Which instance writes and which one reads, in a check that splits the two.
#[derive(Clone, Copy)]
struct Split<'a> {
    writer: &'a Node,
    reader: &'a Node,
}

impl<'a> Split<'a> {
    /// Both ways round: B writes and A reads, then A writes and B reads.
    fn both_ways(a: &'a Node, b: &'a Node) -> [Self; 2] {
        [Split { writer: b, reader: a }, Split { writer: a, reader: b }]
    }

    /// `instance B's GET /categories after instance A created a category`, for messages.
    fn read_after(&self, path: &str, wrote: &str) -> String {
        format!("{}'s GET {path} after {} {wrote}", self.reader.name, self.writer.name)
    }
}

async fn read_your_writes(probe: &mut Probe<'_>) -> Verdict {
    probe.empty_the_cache().await?;
    let TwoInstances { a, b, second } = two_instances(probe).await?;
    let outcome = writes_show_across(probe, &a, &b).await;
    second.stop().await;
    outcome
}

/// The six writes on B, read on A; then on A, read on B.
async fn writes_show_across(probe: &mut Probe<'_>, a: &Node, b: &Node) -> Verdict {
    for split in Split::both_ways(a, b) {
        writes_show_in_reads(probe, split).await?;
    }
    Ok(())
}

/// The six writes, each sent to the writer and followed by a read on the reader, with the
/// entry the write affects cached.
async fn writes_show_in_reads(probe: &mut Probe<'_>, split: Split<'_>) -> Verdict {
    retired_before_the_answer(probe, split).await?;
    let writer = split.writer;
    let mut stale = StaleReads::default();

    // Categories: create, rename.
    warm_both(probe, split, CATEGORIES).await?;
    let name = probe.unique("created");
    let category = create_category(probe, writer, &name).await?;
    let created = Shown::row(CATEGORIES, "name", json!(name));
    stale.check(probe, split, "created a category", created).await?;

    warm_both(probe, split, CATEGORIES).await?;
    let renamed = probe.unique("renamed");
    let rename = Some(json!({ "name": renamed }));
    write(probe, writer, Method::PUT, &format!("/categories/{category}"), rename).await?;
    let renamed = Shown::row(CATEGORIES, "name", json!(renamed));
    stale.check(probe, split, "renamed a category", renamed).await?;

    // Tasks: create, update, delete.
    let tasks = tasks_of(category);
    warm_both(probe, split, &tasks).await?;
    let title = probe.unique("task");
    let task = create_task(probe, writer, category, &title).await?;
    let created = Shown::row(&tasks, "title", json!(title));
    stale.check(probe, split, "created a task", created).await?;

    warm_both(probe, split, &tasks).await?;
    let retitled = probe.unique("retitled");
    retitle_task(probe, writer, task, &retitled).await?;
    let updated = Shown::row(&tasks, "title", json!(retitled));
    stale.check(probe, split, "updated a task", updated).await?;

    warm_both(probe, split, &tasks).await?;
    write(probe, writer, Method::DELETE, &format!("/tasks/{task}"), None).await?;
    stale.check(probe, split, "deleted a task", Shown::no_row(&tasks, task)).await?;

    // Deleting a category retires the list and the category's tasks.
    let doomed_task = new_task(probe, writer, category, "doomed").await?;
    warm_both(probe, split, CATEGORIES).await?;
    warm_both(probe, split, &tasks).await?;
    write(probe, writer, Method::DELETE, &format!("/categories/{category}"), None).await?;
    let wrote = "deleted the category";
    stale.check(probe, split, wrote, Shown::no_row(CATEGORIES, category)).await?;
    stale.check(probe, split, wrote, Shown::no_row(&tasks, doomed_task)).await?;

    stale.verdict(split)
}

/// A write's answer means its stale entries are retired, for every instance: the reader is
/// asked right after the writer answered, while Redis holds back every write it was sent
/// (`CLIENT PAUSE ... WRITE`). An invalidation the write awaited went through before the
/// answer left (the pause ended first); one left running in the background has not, and the
/// reader finds the old entry.
async fn retired_before_the_answer(probe: &mut Probe<'_>, split: Split<'_>) -> Verdict {
    if !probe.redis_is_private() {
        return Ok(()); // the grader pauses only a Redis of its own
    }
    let (writer, reader) = (split.writer, split.reader);
    let category = new_category(probe, writer, "answered").await?;
    let task = new_task(probe, writer, category, "before").await?;
    let tasks = tasks_of(category);
    warm(probe, reader, &tasks).await?;
    let retitled = probe.unique("answered");
    probe.redis().pause_writes(WRITE_PAUSE).await?;
    retitle_task(probe, writer, task, &retitled).await?;
    if lists(&read(probe, reader, &tasks).await?.body, "title", &json!(retitled)) {
        return Ok(());
    }
    // Stale for good is another bug, which the writes that follow diagnose; stale only until
    // the write's leftover work catches up (once Redis takes writes again) is this one.
    for _ in 0..LATE_INVALIDATION_POLLS {
        tokio::time::sleep(api::SETTLE_PAUSE).await;
        if lists(&read(probe, reader, &tasks).await?.body, "title", &json!(retitled)) {
            return Err(fail(
                format!(
                    "{}, right after the write answered, to show the task's new title",
                    split.read_after(&tasks, "updated a task")
                ),
                "the old list, and the new one a moment later: the write answered before its \
                 invalidation was done (left running in the background?), and another instance \
                 read the stale entry in between",
            ));
        }
    }
    Ok(())
}

/// Caches `path` on both instances: then the writer's own read after a write tells whether
/// the invalidation reached at least its own process.
async fn warm_both(probe: &Probe<'_>, split: Split<'_>, path: &str) -> Verdict {
    warm(probe, split.reader, path).await?;
    warm(probe, split.writer, path).await?;
    Ok(())
}

/// What a read after a write must show: a row of `path` whose `field` is `value`, or (for a
/// delete) no such row.
struct Shown<'a> {
    path: &'a str,
    field: &'static str,
    value: Value,
    present: bool,
}

impl<'a> Shown<'a> {
    fn row(path: &'a str, field: &'static str, value: Value) -> Self {
        Self { path, field, value, present: true }
    }

    /// The row with id `id` is gone.
    fn no_row(path: &'a str, id: i64) -> Self {
        Self { path, field: "id", value: json!(id), present: false }
    }

    fn is_in(&self, list: &Value) -> bool {
        lists(list, self.field, &self.value) == self.present
    }

    /// What a stale read showed instead.
    fn instead(&self) -> String {
        let (field, value) = (self.field, &self.value);
        if self.present {
            format!("has no row with {field} {value}")
        } else {
            format!("still has the row with {field} {value}")
        }
    }
}

/// The stale reads of one pass of [`writes_show_in_reads`].
struct StaleReads {
    found: Vec<String>,
    /// Whether the writer's own read was up to date each time the reader's was stale.
    writer_saw_each: bool,
}

impl Default for StaleReads {
    fn default() -> Self {
        Self { found: Vec::new(), writer_saw_each: true }
    }
}

impl StaleReads {
    /// Reads `shown.path` on the reader after the writer `wrote`; a stale answer is noted, with
    /// whether the writer's own read of it is up to date.
    async fn check(
        &mut self,
        probe: &Probe<'_>,
        split: Split<'_>,
        wrote: &str,
        shown: Shown<'_>,
    ) -> Verdict {
        if shown.is_in(&read(probe, split.reader, shown.path).await?.body) {
            return Ok(());
        }
        let mut note = format!("{} {}", split.read_after(shown.path, wrote), shown.instead());
        let writer_saw = shown.is_in(&read(probe, split.writer, shown.path).await?.body);
        if writer_saw {
            note.push_str(&format!(" (while {}'s own GET is up to date)", split.writer.name));
        }
        self.writer_saw_each &= writer_saw;
        self.found.push(note);
        Ok(())
    }

    fn verdict(self, split: Split<'_>) -> Verdict {
        let (writer, reader) = (split.writer.name, split.reader.name);
        let verdict = expect(
            self.found.is_empty(),
            format!("every write on {writer} to show in the next read on {reader}"),
            format!("stale: {}", self.found.join("; ")),
        );
        if self.writer_saw_each { verdict.because(Symptom::OneProcessOnly) } else { verdict }
    }
}

async fn targeted(probe: &mut Probe<'_>) -> Verdict {
    probe.empty_the_cache().await?;
    let service = Node::service(probe);
    let on = &service;
    let written = new_category(probe, on, "written").await?;
    let untouched = new_category(probe, on, "untouched").await?;
    new_task(probe, on, untouched, "task").await?;
    for path in [CATEGORIES, &tasks_of(written), &tasks_of(untouched)] {
        warm(probe, on, path).await?;
    }
    let bystander = probe.unique("bystander");
    let bystander = probe.contract().full_key(&bystander);
    probe.redis().set_for(&bystander, "keep", 3600).await?;

    // Three task writes in one category, then a rename of the other.
    let before = probe.redis().command_counts().await?;
    let task = new_task(probe, on, written, "task").await?;
    let retitled = probe.unique("retitled");
    retitle_task(probe, on, task, &retitled).await?;
    write(probe, on, Method::DELETE, &format!("/tasks/{task}"), None).await?;
    expect_still_cached(
        probe,
        &[CATEGORIES, &tasks_of(untouched)],
        "three writes of tasks in another category",
    )
    .await?;
    warm(probe, on, &tasks_of(written)).await?;
    let rename = json!({ "name": probe.unique("renamed") });
    write(probe, on, Method::PUT, &format!("/categories/{untouched}"), Some(rename)).await?;
    expect_still_cached(
        probe,
        &[&tasks_of(written), &tasks_of(untouched)],
        "renaming a category (task lists do not show names)",
    )
    .await?;

    let commands = probe.redis().command_counts().await?.since(&before);
    let wholesale: Vec<&str> =
        WHOLESALE_COMMANDS.iter().copied().filter(|name| commands.contains_key(*name)).collect();
    expect(
        wholesale.is_empty(),
        "writes to retire their entries one by one, not wholesale",
        format!("the writes ran {}", describe_commands(&commands)),
    )?;
    expect(
        probe.redis().exists(&bystander).await?,
        format!("the unrelated key `{bystander}` to survive the writes"),
        format!("it is gone: the writes ran {}", describe_commands(&commands)),
    )
}

/// Each of `paths` must still be served from the cache after `writes`.
async fn expect_still_cached(probe: &Probe<'_>, paths: &[&str], writes: &str) -> Verdict {
    let service = Node::service(probe);
    for path in paths {
        let again = read(probe, &service, path).await?;
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

async fn concurrent_burst(probe: &mut Probe<'_>) -> Verdict {
    probe.empty_the_cache().await?;
    let TwoInstances { a, b, second } = two_instances(probe).await?;
    let outcome = burst_across(probe, &a, &b).await;
    second.stop().await;
    outcome
}

/// The burst with every category written on one instance and read on the other: half of them
/// written on A, half on B.
async fn burst_across(probe: &mut Probe<'_>, a: &Node, b: &Node) -> Verdict {
    let mut categories = Vec::new();
    for split in Split::both_ways(a, b).into_iter().cycle().take(BURST_CATEGORIES) {
        categories.push((new_category(probe, split.writer, "burst").await?, split));
    }
    let plan = burst_plan(probe.contract().seed);
    let mut titles = Vec::new();
    for round in &plan {
        titles.push(round.iter().map(|_| probe.unique("burst-task")).collect::<Vec<_>>());
    }

    for (category, split) in &categories {
        warm(probe, split.reader, &tasks_of(*category)).await?;
    }

    // Each round runs one step per category at the same time: writes and reads overlap, and
    // no two steps of a round touch the same entry.
    let before = a.queries(probe).await? + b.queries(probe).await?;
    let probe_ref = &*probe;
    for (round, names) in plan.iter().zip(&titles) {
        let steps = round.iter().zip(&categories).zip(names).map(
            |((step, (category, split)), title)| async move {
                match step {
                    Step::Read => {
                        split.reader.get(probe_ref, &tasks_of(*category)).await.map(|_| ())
                    }
                    Step::AddTask => {
                        create_task(probe_ref, split.writer, *category, title).await.map(|_| ())
                    }
                }
            },
        );
        join_all(steps).await.into_iter().collect::<Result<Vec<()>, Failure>>()?;
    }
    let queries = a.queries(probe).await? + b.queries(probe).await? - before;
    let steps = (BURST_ROUNDS * BURST_CATEGORIES) as u64;
    expect(
        queries < steps,
        format!("some of the burst's reads served from the cache (fewer than {steps} queries)"),
        format!("{} on the two instances: nothing is cached", api::queries(queries)),
    )?;

    // What the cache says now, then what the database says.
    let mut cached = Vec::new();
    for (category, split) in &categories {
        cached.push(read(probe, split.reader, &tasks_of(*category)).await?.body);
    }
    probe.empty_the_cache().await?;
    for ((category, split), cached) in categories.iter().zip(&cached) {
        let path = tasks_of(*category);
        let stored = read(probe, split.reader, &path).await?.body;
        expect(
            &stored == cached,
            format!(
                "{}'s GET {path} after the burst (seed {}, {} adding the category's tasks) to \
                 agree with the database",
                split.reader.name,
                probe.contract().seed,
                split.writer.name
            ),
            format!("the cache served {cached}, the database holds {stored}"),
        )?;
    }
    Ok(())
}

/// The write a race overlaps: one that adds a row to the raced list, one that changes a row
/// in it.
#[derive(Debug, Clone, Copy)]
enum RacedWrite {
    AddTask,
    RetitleTask,
}

impl RacedWrite {
    /// What the writer did, for messages.
    fn wrote(self) -> &'static str {
        match self {
            Self::AddTask => "added a task",
            Self::RetitleTask => "retitled a task",
        }
    }

    /// The write, on `writer`: afterwards the list must show `title`.
    async fn run(
        self,
        probe: &Probe<'_>,
        writer: &Node,
        list: &CachedList,
        title: &str,
    ) -> Verdict {
        match self {
            Self::AddTask => create_task(probe, writer, list.category, title).await.map(|_| ()),
            Self::RetitleTask => retitle_task(probe, writer, list.task, title).await,
        }
    }
}

async fn slow_reader_race(probe: &mut Probe<'_>) -> Verdict {
    let TwoInstances { a, b, second } = two_instances(probe).await?;
    let outcome = races_across(probe, &a, &b).await;
    second.stop().await;
    outcome
}

/// Every race with the reader on one instance and the writer on the other, both ways round,
/// for a write that adds a task and one that changes a task; and each race both ways round in
/// time: the reader held after its query, and the writer held before its write.
async fn races_across(probe: &mut Probe<'_>, a: &Node, b: &Node) -> Verdict {
    for split in Split::both_ways(a, b) {
        for write in [RacedWrite::AddTask, RacedWrite::RetitleTask] {
            // A kind of write that retires nothing even within one process is read-your-writes'
            // loss; the race asks whether one that does can be undone by a slow reader.
            if !invalidates_at_all(probe, split.reader, write).await? {
                continue;
            }
            reader_held_after_its_query(probe, split, write).await?;
            reader_before_the_write_reaches_the_database(probe, split, write).await?;
        }
    }
    Ok(())
}

/// Whether `on` shows its own `write` in its next read, with nothing overlapping it.
async fn invalidates_at_all(
    probe: &mut Probe<'_>,
    on: &Node,
    write: RacedWrite,
) -> Result<bool, Failure> {
    let list = cached_task_list(probe, on, "unraced").await?;
    let title = probe.unique("written-alone");
    write.run(probe, on, &list, &title).await?;
    Ok(lists(&read(probe, on, &list.path).await?.body, "title", &json!(title)))
}

/// The reader misses, reads the database and is held there; the writer writes and
/// invalidates; then the reader goes on and stores what it read before the write.
async fn reader_held_after_its_query(
    probe: &mut Probe<'_>,
    split: Split<'_>,
    write: RacedWrite,
) -> Verdict {
    let Split { writer, reader } = split;
    let list = cached_task_list(probe, reader, "raced").await?;
    probe.empty_the_cache().await?;

    let title = probe.unique("written-during-read");
    api::hold_next_query(probe, reader).await?;
    let probe_ref = &*probe;
    let held_read = reader.get(probe_ref, &list.path);
    let overlapping_write = async {
        if !api::query_is_held(probe_ref, reader).await? {
            api::release(probe_ref, reader).await?;
            return Err(fail(
                format!(
                    "{}'s GET {} with an empty cache to query the database",
                    reader.name, list.path
                ),
                "no query ran: the grader could not hold the reader",
            ));
        }
        let written = write.run(probe_ref, writer, &list, &title).await;
        api::release(probe_ref, reader).await?;
        written
    };
    let (held_read, overlapping_write) = tokio::join!(held_read, overlapping_write);
    overlapping_write?;
    held_read?;
    let why = format!(
        "{} loaded the list before {} {}, and stored it once that write had answered",
        reader.name,
        writer.name,
        write.wrote()
    );
    expect_fresh_after_race(probe, reader, &list.path, &title, &why).await
}

/// The writer is held just before its write reaches the database; meanwhile the reader reads
/// the list. A writer that invalidates *before* writing lets that reader put the old list
/// back, and nothing retires it once the write lands.
async fn reader_before_the_write_reaches_the_database(
    probe: &mut Probe<'_>,
    split: Split<'_>,
    write: RacedWrite,
) -> Verdict {
    let Split { writer, reader } = split;
    let list = cached_task_list(probe, reader, "raced-early").await?;
    let title = probe.unique("written-after-read");
    api::hold_next_write(probe, writer).await?;
    let probe_ref = &*probe;
    let held_write = write.run(probe_ref, writer, &list, &title);
    let overlapping_read = async {
        if !api::query_is_held(probe_ref, writer).await? {
            api::release(probe_ref, writer).await?;
            return Err(fail(
                format!("the write of {} to reach the database", writer.name),
                "no write ran: the grader could not hold the writer",
            ));
        }
        let read = read(probe_ref, reader, &list.path).await;
        api::release(probe_ref, writer).await?;
        read
    };
    let (held_write, overlapping_read) = tokio::join!(held_write, overlapping_read);
    overlapping_read?;
    held_write?;
    let why = format!(
        "{} read the list while {} {} and was held before its write reached the database; \
         the list from before the write outlived it (a writer that invalidates before it \
         writes, and not after, does this)",
        reader.name,
        writer.name,
        write.wrote()
    );
    expect_fresh_after_race(probe, reader, &list.path, &title, &why).await
}

/// After a race, `on`'s next read must show the writer's `title`.
async fn expect_fresh_after_race(
    probe: &Probe<'_>,
    on: &Node,
    tasks: &str,
    title: &str,
    why: &str,
) -> Verdict {
    // A stale list that a late background invalidation then retires is read-your-writes' to
    // judge (an answer before the invalidation); the race leaves one that stays.
    let mut after = read(probe, on, tasks).await?;
    for _ in 0..api::SETTLE_ATTEMPTS {
        if lists(&after.body, "title", &json!(title)) {
            break;
        }
        tokio::time::sleep(api::SETTLE_PAUSE).await;
        after = read(probe, on, tasks).await?;
    }
    expect(
        lists(&after.body, "title", &json!(title)),
        format!("{}'s GET {tasks} after the race to list the task {title:?}", on.name),
        format!("a stale list from the cache ({}): {why}", api::queries(after.queries)),
    )
}

/// A category with one task, whose task list is cached.
struct CachedList {
    category: i64,
    task: i64,
    /// `GET` this for the category's tasks.
    path: String,
}

/// From an empty cache, a new category with one task, its task list cached by `on`.
async fn cached_task_list(
    probe: &mut Probe<'_>,
    on: &Node,
    what: &str,
) -> Result<CachedList, Failure> {
    probe.empty_the_cache().await?;
    let category = new_category(probe, on, what).await?;
    let task = new_task(probe, on, category, "before").await?;
    let path = tasks_of(category);
    warm(probe, on, &path).await?;
    Ok(CachedList { category, task, path })
}

async fn entries_expire(probe: &mut Probe<'_>) -> Verdict {
    probe.empty_the_cache().await?;
    let service = Node::service(probe);
    let category = new_category(probe, &service, "expiring").await?;
    warm(probe, &service, CATEGORIES).await?;
    warm(probe, &service, &tasks_of(category)).await?;
    // A write, so that whatever a write stores (stamps, versions) is there too.
    let title = probe.unique("task");
    create_task(probe, &service, category, &title).await?;
    let tasks = tasks_of(category);
    read(probe, &service, &tasks).await?;

    let keys = probe.cached_keys().await?;
    expect(!keys.is_empty(), "cached entries in Redis", "no key under the prefix")?;
    for key in &keys {
        let ttl = probe.redis().ttl(key).await?;
        expect(ttl > 0, format!("`{key}` to expire"), describe_ttl(ttl))?;
    }
    nothing_stale_as_time_passes(probe, &service, &tasks, &title).await
}

/// Runs Redis' clock forward by half the values' TTL, so that whatever lives shorter than the
/// values expires, and reads again: the list must still show the write. A stamp (or any mark
/// of a write) that expires before the values stored under the stamp it replaced brings the
/// old list back.
async fn nothing_stale_as_time_passes(
    probe: &mut Probe<'_>,
    service: &Node,
    tasks: &str,
    title: &str,
) -> Verdict {
    let span = Duration::from_secs(probe.contract().default_timeout / 2);
    let expired = probe.redis().let_time_pass(span).await?;
    let after = read(probe, service, tasks).await?;
    let expired: Vec<String> = expired.iter().map(ToString::to_string).collect();
    expect(
        lists(&after.body, "title", &json!(title)),
        format!(
            "GET {tasks} to list {title:?}, written earlier, after {} s more (the grader ran \
             Redis' clock forward: keys with less time left expired)",
            span.as_secs()
        ),
        format!(
            "the list from before the write, once {} expired: what marks a write must outlive \
             the values it retired",
            if expired.is_empty() { "nothing".to_owned() } else { expired.join(", ") }
        ),
    )
}

async fn write_while_redis_down(probe: &mut Probe<'_>) -> Verdict {
    let service = Node::service(probe);
    let CachedList { category, path: tasks, .. } =
        cached_task_list(probe, &service, "outage").await?;

    // Redis goes away with the entry in it, and comes back with it (as a Redis that persists
    // its data would).
    probe.redis().save().await?;
    probe.stop_redis().await?;
    let title = probe.unique("written-while-down");
    let outcome = write_during_outage(probe, category, &title).await;
    probe.restart_redis().await?;
    outcome?;
    if probe.cached_keys().await?.is_empty() {
        return Err(Failure::Error("Redis came back without its saved entries".to_owned()));
    }
    service_sees_redis(probe).await?;

    for attempt in ["first", "second"] {
        let after = read(probe, &service, &tasks).await?;
        expect(
            lists(&after.body, "title", &json!(title)),
            format!("the {attempt} GET {tasks} after Redis is back to list {title:?}"),
            "the list from before the outage: the failed invalidation was forgotten",
        )?;
    }
    Ok(())
}

/// While Redis is down: the write succeeds and the next read shows it.
async fn write_during_outage(probe: &Probe<'_>, category: i64, title: &str) -> Verdict {
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
async fn service_sees_redis(probe: &Probe<'_>) -> Verdict {
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
