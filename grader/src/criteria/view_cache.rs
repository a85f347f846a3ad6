//! Exercise 2 — view caching: whole pages in Redis, `Cache-Control`, per-user pages.
//!
//! Every check asks for URLs of its own (a fresh `probe=` query parameter, or task ids no
//! other check uses), so a bug that one check finds does not change what the others see.
//! "Served from the cache" always means: the support crate counted no query for the request.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use workbook::seed::Dataset;

use super::inspect::{describe_commands, describe_ttl};
use super::{
    Because, Category, Criterion, ExerciseSpec, Failure, Symptom, Verdict, check, expect, fail,
};
use crate::course;
use crate::criteria::probe::{Body, Probe, REQUEST_TIMEOUT, Reply};
use crate::words::counted;

/// `cache_page(60 * 15)`.
const PAGE_TTL: i64 = 15 * 60;
/// How far below the TTL a fresh entry may be (seconds pass between SET and TTL).
const TTL_TOLERANCE: i64 = 5;
/// `@cache_control(private=True, max_age=300)`.
const DASHBOARD_MAX_AGE: i64 = 300;
/// The pause added to every query while latency is measured.
const QUERY_DELAY_MS: u64 = 100;
/// Pages fetched (once missing, once hitting) to compare latencies.
const LATENCY_SAMPLES: i64 = 7;
/// How much faster the median hit must be than the median miss.
const MIN_SPEED_UP: f64 = 4.0;
/// How quickly a page must answer while Redis is down.
const OUTAGE_ANSWER_LIMIT: Duration = Duration::from_secs(4);

/// Task ids reserved for each check, so that no check finds another's pages in the cache.
const TTL_TASK: i64 = 150;
const SUCCESS_TASK: i64 = 160;
const FAILING_TASK: i64 = 165;
const PATH_TASKS: (i64, i64) = (170, 171);
const LATENCY_TASKS: i64 = 101;

const CACHE_CONTROL_TITLE: &str = "Cache-Control: private, max-age=300 on the dashboard; \
    max-age=900 on the task list; private and Vary: Cookie on a user's own page";
const CACHE_CONTROL_HINT: &str = "The dashboard is for one user's browser only (private, \
    max-age=300); the cached task list tells browsers and proxies what the server does \
    (max-age=900); a page per user is private, max-age=900, with Vary: Cookie.";

pub fn spec() -> ExerciseSpec {
    ExerciseSpec {
        exercise: course::VIEW_CACHE,
        query_delay_ms: 0,
        needs_reference: false,
        criteria: vec![
            Criterion {
                id: "served-from-redis",
                title: "A second GET of the task list is served from Redis in one command",
                category: Category::Caching,
                points: 3,
                hint: "Put the cache_page middleware on GET /tasks: on a hit answer from one \
                       Redis GET of the stored page, without calling the handler.",
                hints: &[],
                check: check!(served_from_redis),
            },
            Criterion {
                id: "page-ttl",
                title: "Cached pages live under the configured prefix for 900 s",
                category: Category::Caching,
                points: 2,
                hint: "Store pages with SET key value EX 900 through Cache::make_key, so the key \
                       starts with CACHE_KEY_PREFIX:CACHE_KEY_VERSION.",
                hints: &[],
                check: check!(page_ttl),
            },
            Criterion {
                id: "key-separation",
                title: "The cache key holds the path and the query string",
                category: Category::Caching,
                points: 2,
                hint: "Build the key from request.uri().path_and_query(), not from the path \
                       alone: /tasks?category=1 and /tasks?category=2 are different pages.",
                hints: &[],
                check: check!(key_separation),
            },
            Criterion {
                id: "caches-only-successes",
                title: "Only successful answers are cached",
                category: Category::Caching,
                points: 2,
                hint: "Store a response only when response.status().is_success(): a 404 or a \
                       500 must not be served for fifteen minutes.",
                hints: &[],
                check: check!(caches_only_successes),
            },
            Criterion {
                id: "never-caches-cookies",
                title: "An answer that sets a cookie is never cached",
                category: Category::Security,
                points: 2,
                hint: "Skip the store when the response has a Set-Cookie header: replaying it \
                       would sign the next visitor in as someone else.",
                hints: &[],
                check: check!(never_caches_cookies),
            },
            Criterion {
                id: "per-user-isolation",
                title: "Per-user pages are cached per user and never shown to another user",
                category: Category::Security,
                points: 6,
                hint: "For GET /my/tasks put the signed-in user into the cache key, and do not \
                       use the cache at all for requests without a user.",
                hints: &[],
                check: check!(per_user_isolation),
            },
            Criterion {
                id: "cache-control",
                title: CACHE_CONTROL_TITLE,
                category: Category::Caching,
                points: 2,
                hint: CACHE_CONTROL_HINT,
                hints: &[],
                check: check!(cache_control_check),
            },
            Criterion {
                id: "hit-cheaper",
                title: "A cache hit is measurably faster than a miss on a slow database",
                category: Category::Performance,
                points: 2,
                hint: "A hit must not touch the database or call the handler: answer straight \
                       from the stored page.",
                hints: &[],
                check: check!(hit_cheaper),
            },
            Criterion {
                id: "works-without-redis",
                title: "Pages keep working, uncached, while Redis is down",
                category: Category::Resilience,
                points: 2,
                hint: "Treat a failed or timed-out Redis read as a miss, render the page, and \
                       ignore a failed store.",
                hints: &[],
                check: check!(works_without_redis),
            },
        ],
    }
}

/// What one request cost the service.
struct Measured {
    reply: Reply,
    queries: u64,
    redis_commands: BTreeMap<String, u64>,
}

impl Measured {
    fn redis_total(&self) -> u64 {
        self.redis_commands.values().sum()
    }

    /// `200 "..." (2 queries, GET×1)` for messages.
    fn describe(&self) -> String {
        format!(
            "{} ({} {}, {})",
            self.reply.summary(),
            self.queries,
            if self.queries == 1 { "query" } else { "queries" },
            describe_commands(&self.redis_commands)
        )
    }
}

/// GETs `path` (as `cookie`, if any) and counts the queries and Redis commands it caused.
async fn measured(
    probe: &mut Probe<'_>,
    path: &str,
    cookie: Option<&str>,
) -> Result<Measured, Failure> {
    let stats_before = probe.stats().await?;
    let commands_before = probe.redis().command_counts().await?;
    let reply =
        probe.send(reqwest::Method::GET, path, Body::Empty, cookie, REQUEST_TIMEOUT).await?;
    let commands_after = probe.redis().command_counts().await?;
    let queries = probe.stats().await?.since(&stats_before).queries;
    Ok(Measured { reply, queries, redis_commands: commands_after.since(&commands_before) })
}

/// GETs `path` twice and passes when the second answer came from the cache: the evidence the
/// other checks need before they test what must *not* be cached.
async fn cached_twice(probe: &mut Probe<'_>, path: &str, cookie: Option<&str>) -> Verdict {
    let first = measured(probe, path, cookie).await?;
    expect(first.reply.status == 200, format!("GET {path} to answer 200"), first.describe())?;
    let second = measured(probe, path, cookie).await?;
    expect(
        second.queries == 0,
        format!("a second GET {path} to be served from the cache (no database query)"),
        format!(
            "it was rendered again, so the page is not cached at all (this criterion needs \
             caching to work before it can check its own rule): {}",
            second.describe()
        ),
    )
}

fn user_cookie(username: &str) -> String {
    format!("user={username}")
}

fn marker(task_id: i64) -> String {
    format!("id=\"t{task_id}\"")
}

/// The user a page says it belongs to (`data-user="..."`), empty for nobody's page.
fn owner_of(body: &str) -> &str {
    body.split_once("data-user=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or("", |(owner, _)| owner)
}

fn dataset(probe: &Probe<'_>) -> Dataset {
    Dataset::generate(probe.contract().seed, probe.contract().tasks)
}

async fn served_from_redis(probe: &mut Probe<'_>) -> Verdict {
    let path = format!("/tasks?probe={}", probe.unique("hit"));
    // The first GET is usually a miss; it need not be (a key without the query string finds an
    // older page), and that is another criterion's business.
    let first = measured(probe, &path, None).await?;
    expect(first.reply.status == 200, format!("GET {path} to answer 200"), first.describe())?;
    let hit = measured(probe, &path, None).await?;
    expect(
        hit.reply.status == 200 && hit.reply.body == first.reply.body,
        "the second GET to return the same page",
        hit.reply.summary(),
    )?;
    expect(
        hit.queries == 0,
        "the second GET to run no database query",
        format!("the page was rendered again: {}", hit.describe()),
    )?;
    expect(
        hit.redis_total() >= 1,
        "the second GET to read the page from the grader's Redis",
        format!("{}: the page is not cached in this Redis", hit.describe()),
    )?;
    expect(
        hit.redis_total() <= 1,
        "a hit to cost one Redis command (the whole page stored as one value)",
        hit.describe(),
    )?;

    // Redis holds the page: emptied by the grader, the next GET renders the page again,
    // whatever the service keeps in its own memory.
    probe.empty_the_cache().await?;
    let after = measured(probe, &path, None).await?;
    expect(
        after.reply.status == 200 && after.queries > 0,
        "a GET after the grader emptied Redis to render the page again",
        format!("{}: the page is served from somewhere other than Redis", after.describe()),
    )
}

async fn page_ttl(probe: &mut Probe<'_>) -> Verdict {
    let path = format!("/tasks/{TTL_TASK}");
    let before = probe.redis().keys("*").await?;
    let reply = probe.get(&path).await?;
    expect(reply.status == 200, format!("GET {path} to answer 200"), reply.summary())?;
    let created: Vec<String> =
        probe.redis().keys("*").await?.into_iter().filter(|key| !before.contains(key)).collect();
    let prefix = probe.contract().full_key("");
    let Some(key) = created.iter().find(|key| key.starts_with(&prefix)) else {
        let observed = if created.is_empty() {
            "no new key: the page is not stored in this Redis".to_owned()
        } else {
            format!("new keys outside the prefix: {}", created.join(", "))
        };
        return Err(fail(
            format!("a new key starting with `{prefix}` in database {}", probe.contract().redis_db),
            observed,
        ));
    };
    // The cache prefixes a key itself: one prefixed again on the way in lives where the
    // lesson's `redis-cli --scan --pattern 'prefix:version:view:*'` finds nothing.
    expect(
        !key[prefix.len()..].starts_with(&prefix),
        format!("the page's key to be `{prefix}` and the page's own name, once"),
        format!("`{key}`: the prefix and version are prefixed twice (make_key applied twice)"),
    )?;
    let ttl = probe.redis().ttl(key).await?;
    expect(
        (PAGE_TTL - TTL_TOLERANCE..=PAGE_TTL).contains(&ttl),
        format!("`{key}` to expire in {PAGE_TTL} s"),
        describe_ttl(ttl),
    )
}

async fn key_separation(probe: &mut Probe<'_>) -> Verdict {
    let data = dataset(probe);
    let first = data.tasks[0].category_id;
    let other = data.tasks.iter().map(|task| task.category_id).find(|id| *id != first);
    let other = other.ok_or_else(|| Failure::Error("the seed has one category only".into()))?;
    let fresh = probe.unique("query");
    for category in [first, other] {
        let path = format!("/tasks?category={category}&probe={fresh}");
        let reply = probe.get(&path).await?;
        let wrong = data
            .tasks
            .iter()
            .find(|task| reply.body.contains(&marker(task.id)) != (task.category_id == category));
        expect(
            reply.status == 200 && wrong.is_none(),
            format!("GET {path} to list exactly the tasks of category {category}"),
            match wrong {
                Some(task) if reply.status == 200 => format!(
                    "task {} (category {}) is {}: a page cached for another query string",
                    task.id,
                    task.category_id,
                    if reply.body.contains(&marker(task.id)) { "listed" } else { "missing" }
                ),
                _ => reply.summary(),
            },
        )?;
        cached_twice(probe, &path, None).await?;
    }
    let (one, two) = PATH_TASKS;
    for task in [one, two] {
        let path = format!("/tasks/{task}");
        cached_twice(probe, &path, None).await?;
        let reply = probe.get(&path).await?;
        expect(
            reply.body.contains(&marker(task)),
            format!("GET {path} to show task {task}"),
            reply.summary(),
        )?;
    }
    Ok(())
}

async fn caches_only_successes(probe: &mut Probe<'_>) -> Verdict {
    cached_twice(probe, &format!("/tasks/{SUCCESS_TASK}"), None).await?;
    // Paths, not query strings: whether the key holds the query string is another criterion.
    let missing = probe.contract().tasks as i64 + 1000;
    let paths = [format!("/tasks/{missing}"), format!("/tasks/{}", missing + 1)];
    for path in paths {
        let first = measured(probe, &path, None).await?;
        expect(
            first.reply.status == 404,
            format!("GET {path} (it does not exist) to answer 404"),
            first.describe(),
        )?;
        let second = measured(probe, &path, None).await?;
        expect(
            second.reply.status == 404 && second.queries > 0,
            format!("a second GET {path} to look again (a 404 must not be cached)"),
            format!("served from the cache: {}", second.describe()),
        )?;
    }
    server_error_is_not_kept(probe).await
}

/// Breaks the database for one request (the `tasks` table disappears, so the page answers
/// `500`), mends it, and expects the page to work again at once.
async fn server_error_is_not_kept(probe: &mut Probe<'_>) -> Verdict {
    let path = format!("/tasks/{FAILING_TASK}");
    probe.run_sql("ALTER TABLE tasks RENAME TO tasks_hidden_by_the_grader").await?;
    let broken = probe.get(&path).await;
    probe.run_sql("ALTER TABLE tasks_hidden_by_the_grader RENAME TO tasks").await?;
    let broken = broken?;
    expect(
        broken.status >= 500,
        format!("GET {path} to fail with a 5xx while the tasks table is missing"),
        broken.summary(),
    )?;
    let mended = probe.get(&path).await?;
    expect(
        mended.status == 200 && mended.body.contains(&marker(FAILING_TASK)),
        format!("GET {path} to show the task once the database works again"),
        format!("{}: the error page was cached", mended.summary()),
    )
}

async fn never_caches_cookies(probe: &mut Probe<'_>) -> Verdict {
    let [reader, follower, signer] =
        <[String; 3]>::try_from(probe.users(3)?).expect("three users drawn");
    let reader_page = format!("/my/tasks?probe={}", probe.unique("mine"));
    cached_twice(probe, &reader_page, Some(&user_cookie(&reader))).await?;

    // One user follows another's sign-in link: the answer signs them in as the other.
    let follower = user_cookie(&follower);
    let path = format!("/my/tasks?as={signer}&probe={}", probe.unique("sign-in"));
    for attempt in ["first", "second"] {
        let reply = measured(probe, &path, Some(&follower)).await?;
        let sets_cookie = reply.reply.headers.contains_key("set-cookie");
        expect(
            reply.reply.status == 200 && owner_of(&reply.reply.body) == signer && sets_cookie,
            format!("the {attempt} GET {path} to show {signer}'s tasks and set the user cookie"),
            format!(
                "{} (Set-Cookie: {})",
                reply.describe(),
                if sets_cookie { "yes" } else { "no" }
            ),
        )?;
        expect(
            reply.queries > 0,
            format!("the {attempt} GET {path} to be rendered, not replayed from the cache"),
            format!(
                "served from the cache: an answer with Set-Cookie was stored ({})",
                reply.describe()
            ),
        )?;
    }
    Ok(())
}

async fn per_user_isolation(probe: &mut Probe<'_>) -> Verdict {
    let data = dataset(probe);
    let [one, other] = <[String; 2]>::try_from(probe.users(2)?).expect("two users drawn");
    for (first, second) in [(one.as_str(), other.as_str()), (other.as_str(), one.as_str())] {
        let path = format!("/my/tasks?probe={}", probe.unique("mine"));
        cached_twice(probe, &path, Some(&user_cookie(first))).await?;
        for user in [second, first] {
            let reply = probe.get_as(&path, &user_cookie(user)).await?;
            let user_id = data.users.iter().find(|u| u.username == user).map_or(0, |u| u.id);
            let wrong = data
                .tasks
                .iter()
                .find(|task| reply.body.contains(&marker(task.id)) != (task.owner_id == user_id));
            let owner = owner_of(&reply.body);
            expect(
                reply.status == 200 && owner == user && wrong.is_none(),
                format!("GET {path} as {user} (after {first}) to show {user}'s own tasks"),
                match wrong {
                    _ if owner != user => format!("the page of {owner:?}: {}", reply.summary()),
                    Some(task) if task.owner_id == user_id => {
                        format!("{user}'s task {} is missing: {}", task.id, reply.summary())
                    }
                    Some(task) => format!(
                        "task {} of user {} is on it: {}",
                        task.id,
                        task.owner_id,
                        reply.summary()
                    ),
                    None => reply.summary(),
                },
            )?;
        }
        let anonymous = probe.get(&path).await?;
        let owner = owner_of(&anonymous.body);
        expect(
            owner.is_empty(),
            format!("GET {path} without a user cookie to show nobody's tasks"),
            format!("the page of {owner:?}: {}", anonymous.summary()),
        )?;
    }
    Ok(())
}

/// The directives of a `Cache-Control` header, lower-cased: `["private", "max-age=300"]`.
fn cache_control(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all("cache-control")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|directive| directive.trim().to_ascii_lowercase().replace(' ', ""))
        .collect()
}

fn max_age(directives: &[String]) -> Option<i64> {
    directives.iter().find_map(|directive| directive.strip_prefix("max-age=")?.parse().ok())
}

async fn cache_control_check(probe: &mut Probe<'_>) -> Verdict {
    let dashboard = probe.get_as("/dashboard", &user_cookie("carol")).await?;
    expect(
        dashboard.status == 200 && dashboard.body.contains("carol"),
        "GET /dashboard as carol to answer 200 with her dashboard",
        dashboard.summary(),
    )?;
    let directives = cache_control(&dashboard);
    expect(
        directives.iter().any(|d| d == "private")
            && !directives.iter().any(|d| d == "public")
            && max_age(&directives) == Some(DASHBOARD_MAX_AGE),
        format!("the dashboard's Cache-Control to be `private, max-age={DASHBOARD_MAX_AGE}`"),
        format!("Cache-Control: {:?}", directives.join(", ")),
    )?;

    let path = format!("/tasks?probe={}", probe.unique("headers"));
    for attempt in ["first (a miss)", "second (a hit)"] {
        let reply = probe.get(&path).await?;
        let directives = cache_control(&reply);
        let age = max_age(&directives);
        expect(
            reply.status == 200
                && age.is_some_and(|age| (PAGE_TTL - TTL_TOLERANCE..=PAGE_TTL).contains(&age))
                && !directives.iter().any(|d| d == "private" || d == "no-store"),
            format!("the {attempt} GET {path} to advertise max-age={PAGE_TTL}, its TTL"),
            format!("{} with Cache-Control: {:?}", reply.status, directives.join(", ")),
        )?;
    }

    // A page per user: browsers may keep it, shared caches may not, and it varies on the
    // cookie that names the user.
    let path = format!("/my/tasks?probe={}", probe.unique("headers"));
    for attempt in ["first (a miss)", "second (a hit)"] {
        let reply = probe.get_as(&path, &user_cookie("carol")).await?;
        let directives = cache_control(&reply);
        let age = max_age(&directives);
        expect(
            reply.status == 200
                && directives.iter().any(|d| d == "private")
                && !directives.iter().any(|d| d == "public")
                && age.is_some_and(|age| (PAGE_TTL - TTL_TOLERANCE..=PAGE_TTL).contains(&age)),
            format!("the {attempt} GET {path} as carol to say `private, max-age={PAGE_TTL}`"),
            format!("{} with Cache-Control: {:?}", reply.status, directives.join(", ")),
        )?;
        let vary: Vec<String> = reply
            .headers
            .get_all("vary")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|name| name.trim().to_ascii_lowercase())
            .collect();
        expect(
            vary.iter().any(|name| name == "cookie" || name == "*"),
            format!("the {attempt} GET {path} as carol to say `Vary: Cookie`"),
            format!("Vary: {:?}", vary.join(", ")),
        )?;
    }
    Ok(())
}

async fn hit_cheaper(probe: &mut Probe<'_>) -> Verdict {
    probe.with_slow_database(QUERY_DELAY_MS, check!(compare_latencies)).await
}

async fn compare_latencies(probe: &mut Probe<'_>) -> Verdict {
    let (mut misses, mut hits) = (Vec::new(), Vec::new());
    let mut queries_on_hits = 0;
    for task in LATENCY_TASKS..LATENCY_TASKS + LATENCY_SAMPLES {
        let path = format!("/tasks/{task}");
        misses.push(timed_get(probe, &path).await?);
        let before = probe.stats().await?;
        hits.push(timed_get(probe, &path).await?);
        queries_on_hits += probe.stats().await?.since(&before).queries;
    }
    let (miss, hit) = (median(&mut misses), median(&mut hits));
    let speed_up = miss.as_secs_f64() / hit.as_secs_f64().max(1e-6);
    let verdict = expect(
        speed_up >= MIN_SPEED_UP,
        format!(
            "with {QUERY_DELAY_MS} ms per query, the median hit to be at least \
             {MIN_SPEED_UP}× faster than the median miss"
        ),
        format!(
            "median miss {miss:.1?}, median hit {hit:.1?}: {speed_up:.1}×; the second GETs ran \
             {}",
            counted(queries_on_hits, "database query")
        ),
    );
    // Hits that queried the database were not served from the cache: a count, which no
    // machine's load changes, says why they were slow.
    if queries_on_hits > 0 { verdict.because(Symptom::NothingCached) } else { verdict }
}

/// The time `path` takes to answer 200.
async fn timed_get(probe: &mut Probe<'_>, path: &str) -> Result<Duration, Failure> {
    let started = Instant::now();
    let reply = probe.get(path).await?;
    let took = started.elapsed();
    expect(reply.status == 200, format!("GET {path} to answer 200"), reply.summary())?;
    Ok(took)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

async fn works_without_redis(probe: &mut Probe<'_>) -> Verdict {
    let before = format!("/tasks?probe={}", probe.unique("before"));
    cached_twice(probe, &before, None).await?;
    probe.stop_redis().await?;
    let outcome = answers_while_down(probe).await;
    probe.restart_redis().await?;
    outcome
}

async fn answers_while_down(probe: &mut Probe<'_>) -> Verdict {
    let path = format!("/tasks?probe={}", probe.unique("outage"));
    // Several requests: a client that retries in the background may answer the first at once
    // and hang on the next.
    for _ in 0..3 {
        let reply =
            probe.send(reqwest::Method::GET, &path, Body::Empty, None, OUTAGE_ANSWER_LIMIT).await?;
        expect(
            reply.status == 200 && reply.body.contains(&marker(1)),
            format!(
                "GET {path} to answer 200 with the task list within {} s while Redis is down",
                OUTAGE_ANSWER_LIMIT.as_secs()
            ),
            reply.summary(),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_of_a_page_is_read_from_data_user() {
        assert_eq!(owner_of("<body data-user=\"bob\">"), "bob");
        assert_eq!(owner_of("<body data-user=\"\">"), "");
        assert_eq!(owner_of("401 Unauthorized"), "");
    }

    #[test]
    fn cache_control_directives_are_normalised() {
        let directives = vec!["private".to_owned(), "max-age=300".to_owned()];
        assert_eq!(max_age(&directives), Some(300));
        assert_eq!(max_age(&["public".to_owned()]), None);
    }

    #[test]
    fn the_median_is_the_middle_value() {
        let mut times = [5, 1, 9].map(Duration::from_millis);
        assert_eq!(median(&mut times), Duration::from_millis(5));
    }
}
