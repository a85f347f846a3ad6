//! Exercise 5 — Template fragment caching.
//!
//! The dashboard (`GET /`) holds a sidebar of task counts rendered from `sidebar.html`, whose
//! heading names its owner ("Categories of alice", "Categories of everyone" for a visitor).
//! Every computation of the sidebar is counted by the support crate, so the checks read from
//! `GET /__workbook/stats` how often it was rebuilt. Each check starts from an empty cache and
//! uses users of its own, so one bug cannot leak into another check.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use super::inspect::{describe_commands, describe_ttl};
use super::{
    Because, Category, Criterion, ExerciseSpec, Failure, Symptom, Verdict, check, expect, fail,
};
use workbook::seed::SplitMix64;

use crate::course;
use crate::criteria::probe::{Body, Probe, Reply};
use crate::words::counted;

/// The fragment's timeout, as in the seed's `{% cache 500 sidebar user.id %}`.
const FRAGMENT_TIMEOUT: i64 = 500;
/// How far below the timeout a fresh key may be (seconds pass between SET and TTL).
const TTL_TOLERANCE: i64 = 5;
/// Django's `make_template_fragment_key("sidebar", [None])`, a visitor's sidebar.
const VISITOR_FRAGMENT_KEY: &str = "template.cache.sidebar.6846ba559f7f55c20a67d890d03d20e0";
/// How quickly the page must answer while Redis is down (only catches hangs).
const OUTAGE_ANSWER_LIMIT: Duration = Duration::from_secs(4);
/// The category the escaping check renames, and the one the invalidation check renames.
const ESCAPED_CATEGORY: i64 = 10;
const RENAMED_CATEGORY: i64 = 1;
/// Redis commands that clear more than the fragments of a changed category.
const WHOLESALE_COMMANDS: &[&str] = &["flushdb", "flushall", "keys"];

pub fn spec() -> ExerciseSpec {
    ExerciseSpec {
        exercise: course::FRAGMENT_CACHE,
        query_delay_ms: 0,
        needs_reference: false,
        criteria: vec![
            Criterion {
                id: "sidebar-computed-once",
                title: "The sidebar is computed once per user; the rest of the page every time",
                category: Category::Performance,
                points: 3,
                hint: "Wrap only the sidebar in cached_fragment: a hit must skip \
                       category_counts, while the page around it is rendered on every request.",
                hints: &[(
                    Symptom::NothingCached,
                    "Nothing was served from the cache: on a miss cached_fragment must SET the \
                     rendered sidebar (awaited), and on the next view GET it before computing.",
                )],
                check: check!(sidebar_computed_once),
            },
            Criterion {
                id: "fragment-key-and-ttl",
                title: "The fragment is stored for 500 s under Django's key, one per user",
                category: Category::Caching,
                points: 2,
                hint: "Store with SET key value EX 500, under make_template_fragment_key with \
                       the user's id among the vary-on values.",
                hints: &[(
                    Symptom::NothingCached,
                    "The view stored nothing in Redis: on a miss, SET the rendered fragment \
                     under make_template_fragment_key(...) with EX 500, and .await the command.",
                )],
                check: check!(fragment_key_and_ttl),
            },
            Criterion {
                id: "no-leak-between-users",
                title: "One user's sidebar never appears in another user's page",
                category: Category::Security,
                points: 3,
                hint: "The key must vary on the user: hash the vary-on values into \
                       make_template_fragment_key instead of ignoring them.",
                hints: &[(Symptom::NothingCached, NOTHING_CACHED)],
                check: check!(no_leak_between_users),
            },
            Criterion {
                id: "escaping-preserved",
                title: "HTML escaping survives the cache: markup in a category name is escaped once",
                category: Category::Security,
                points: 2,
                hint: "Cache the rendered, already-escaped HTML and insert it with \
                       Value::from_safe_string; keep autoescaping on for .html templates.",
                hints: &[(Symptom::NothingCached, NOTHING_CACHED)],
                check: check!(escaping_preserved),
            },
            Criterion {
                id: "invalidated-on-change",
                title: "Renaming a category deletes the cached sidebars by key",
                category: Category::Invalidation,
                points: 3,
                hint: "After the UPDATE, rebuild every sidebar key with \
                       make_template_fragment_key and DEL them; do not flush the database.",
                hints: &[(Symptom::NothingCached, NOTHING_CACHED)],
                check: check!(invalidated_on_change),
            },
            Criterion {
                id: "renders-without-redis",
                title: "With Redis down the page renders, the sidebar computed fresh",
                category: Category::Resilience,
                points: 2,
                hint: "In cached_fragment treat a failed GET as a miss and ignore a failed SET.",
                hints: &[(Symptom::NothingCached, NOTHING_CACHED)],
                check: check!(renders_without_redis),
            },
        ],
    }
}

async fn sidebar_computed_once(probe: &mut Probe<'_>) -> Verdict {
    probe.empty_the_cache().await?;
    let user = probe.users(1)?.remove(0);
    let cookie = log_in(probe, &user).await?;
    let (pages, computed) = view(probe, Some(&cookie), 4).await?;
    let verdict = expect(
        computed == 1,
        format!("the sidebar computed once for 4 views of {user}'s dashboard"),
        format!("computed {}", counted(computed, "time")),
    );
    if computed as usize == pages.len() {
        verdict.because(Symptom::NothingCached)?;
    } else {
        verdict?;
    }
    let distinct: BTreeSet<&String> = pages.iter().collect();
    expect(
        distinct.len() == pages.len(),
        "every view of the dashboard to differ (the request id outside the sidebar changes)",
        format!(
            "only {} different pages in {} views: the whole page is cached, not the fragment",
            distinct.len(),
            pages.len()
        ),
    )
}

async fn fragment_key_and_ttl(probe: &mut Probe<'_>) -> Verdict {
    probe.empty_the_cache().await?;
    let [first, second] = <[String; 2]>::try_from(probe.users(2)?).expect("two users drawn");
    let first_cookie = log_in(probe, &first).await?;
    let second_cookie = log_in(probe, &second).await?;
    let firsts = keys_created_by_a_view(probe, Some(&first_cookie)).await?;
    let seconds = keys_created_by_a_view(probe, Some(&second_cookie)).await?;
    let visitors = keys_created_by_a_view(probe, None).await?;
    expect(
        !firsts.is_empty(),
        format!("{first}'s first view to store their sidebar in Redis"),
        "no new key in the service's database",
    )
    .because(Symptom::NothingCached)?;
    expect(
        !seconds.is_empty(),
        format!("{second}'s first view to store a sidebar of their own under another key"),
        format!("no new key: {second} was served the fragment stored under {}", firsts.join(", ")),
    )?;
    // Django's key: the visitor's vary-on value is `None`, whose key is known exactly; a
    // user's hash covers their id, so only its form is.
    let visitor_key = probe.contract().full_key(VISITOR_FRAGMENT_KEY);
    expect(
        visitors.contains(&visitor_key),
        format!("a visitor's first view to store the sidebar under `{visitor_key}`"),
        created_keys(&visitors),
    )?;
    let form = probe.contract().full_key("template.cache.sidebar.");
    for key in firsts.iter().chain(&seconds) {
        expect(
            is_fragment_key(key, &form),
            format!("a user's sidebar under `{form}` followed by the MD5 of the vary-on values"),
            format!("`{key}`"),
        )?;
    }
    for key in firsts.iter().chain(&seconds).chain(&visitors) {
        let ttl = probe.redis().ttl(key).await?;
        expect(
            (FRAGMENT_TIMEOUT - TTL_TOLERANCE..=FRAGMENT_TIMEOUT).contains(&ttl),
            format!("`{key}` to expire in {FRAGMENT_TIMEOUT} s"),
            describe_ttl(ttl),
        )?;
    }
    Ok(())
}

async fn no_leak_between_users(probe: &mut Probe<'_>) -> Verdict {
    probe.empty_the_cache().await?;
    let [first, second] = <[String; 2]>::try_from(probe.users(2)?).expect("two users drawn");
    let first_cookie = log_in(probe, &first).await?;
    let second_cookie = log_in(probe, &second).await?;
    view(probe, Some(&first_cookie), 1).await?;
    let (seconds, _) = view(probe, Some(&second_cookie), 1).await?;
    let (seconds_again, computed) = view(probe, Some(&second_cookie), 1).await?;
    expect_cached(computed, &format!("{second}'s second view"))?;
    let (firsts_again, computed) = view(probe, Some(&first_cookie), 1).await?;
    expect_cached(computed, &format!("{first}'s second view"))?;

    for (page, owner, other) in [
        (&seconds[0], &second, &first),
        (&seconds_again[0], &second, &first),
        (&firsts_again[0], &first, &second),
    ] {
        expect(
            page.contains(&sidebar_heading(owner)) && !page.contains(&sidebar_heading(other)),
            format!("{owner}'s page to hold {owner}'s sidebar ({:?})", sidebar_heading(owner)),
            excerpt(page, &[&sidebar_heading(other), "Categories of"]),
        )?;
    }
    Ok(())
}

async fn escaping_preserved(probe: &mut Probe<'_>) -> Verdict {
    let user = probe.users(1)?.remove(0);
    let cookie = log_in(probe, &user).await?;
    let seed = probe.contract().seed;
    let mut draws = SplitMix64::new(seed ^ PAYLOAD_STREAM);
    for _ in 0..PAYLOADS {
        let payload = super::xss::payload(&mut draws);
        // A cold cache for each name: invalidation is a criterion of its own.
        probe.empty_the_cache().await?;
        rename_category(probe, ESCAPED_CATEGORY, &payload, None).await?;
        let (first, _) = view(probe, Some(&cookie), 1).await?;
        let (second, computed) = view(probe, Some(&cookie), 1).await?;
        expect_cached(computed, &format!("{user}'s second view"))?;
        for (page, which) in [(&first[0], "freshly rendered"), (&second[0], "read from the cache")]
        {
            expect_escaped_once(page, &payload, which)
                .map_err(|failure| drawn_by(failure, seed))?;
        }
    }
    Ok(())
}

/// Category names each run draws from the seed (see [`super::xss`]), so no list of names can
/// be special-cased.
const PAYLOADS: usize = 3;
/// Keeps the payloads' draws apart from the seed's other uses.
const PAYLOAD_STREAM: u64 = 0x7873_735f_6e61_6d65;

/// A failure on a drawn input says how to draw it again.
fn drawn_by(failure: Failure, seed: u64) -> Failure {
    match failure {
        Failure::Failed { expected, observed, symptom } => Failure::Failed {
            expected: format!(
                "{expected} (a name drawn from seed {seed}: --seed {seed} replays it)"
            ),
            observed,
            symptom,
        },
        error => error,
    }
}

/// `payload` appears in `page` escaped exactly once: not as markup, and read back as itself
/// when the page's entities are decoded once.
fn expect_escaped_once(page: &str, payload: &str, which: &str) -> Verdict {
    expect(
        !page.contains(payload),
        format!("the category {payload:?} escaped in the {which} sidebar"),
        format!("it is in the page as is, unescaped: {}", excerpt(page, &[payload])),
    )?;
    let once = html_escape::decode_html_entities(page);
    let twice = html_escape::decode_html_entities(&once);
    let observed = if twice.contains(payload) && !once.contains(payload) {
        format!("escaped twice: {}", excerpt(page, &["&amp;lt;", "&lt;aside", "&amp;amp;"]))
    } else {
        "no category of that name in the page, once its entities are decoded".to_owned()
    };
    expect(
        once.contains(payload),
        format!("the category {payload:?} in the {which} sidebar, escaped once"),
        observed,
    )
}

async fn invalidated_on_change(probe: &mut Probe<'_>) -> Verdict {
    probe.empty_the_cache().await?;
    let [first, second] = <[String; 2]>::try_from(probe.users(2)?).expect("two users drawn");
    let first_cookie = log_in(probe, &first).await?;
    let second_cookie = log_in(probe, &second).await?;
    view(probe, Some(&first_cookie), 1).await?;
    view(probe, Some(&second_cookie), 1).await?;
    view(probe, None, 1).await?;
    let (_, computed) = view(probe, Some(&first_cookie), 1).await?;
    expect_cached(computed, &format!("{first}'s second view"))?;

    // A key the rename has no reason to touch: it must survive.
    let bystander = probe.unique("bystander");
    let bystander = probe.contract().full_key(&bystander);
    probe.redis().set_for(&bystander, "keep", 3600).await?;
    let new_name = probe.unique("renamed");
    let before = probe.redis().command_counts().await?;
    rename_category(probe, RENAMED_CATEGORY, &new_name, Some(&first_cookie)).await?;
    let commands = probe.redis().command_counts().await?.since(&before);
    let wholesale: Vec<&str> =
        WHOLESALE_COMMANDS.iter().copied().filter(|name| commands.contains_key(*name)).collect();
    expect(
        wholesale.is_empty(),
        "the rename to delete the sidebar fragments by key (DEL/UNLINK), not wholesale",
        format!("it ran {}", describe_commands(&commands)),
    )?;
    expect(
        probe.redis().exists(&bystander).await?,
        format!("the unrelated key `{bystander}` to survive the rename"),
        format!("it is gone: the rename ran {}", describe_commands(&commands)),
    )?;

    // Every sidebar that was cached: each user's, and the visitors' (no user at all).
    let visitor = "a visitor".to_owned();
    for (cookie, user) in
        [(Some(&first_cookie), &first), (Some(&second_cookie), &second), (None, &visitor)]
    {
        let (page, _) = view(probe, cookie.map(String::as_str), 1).await?;
        expect(
            page[0].contains(&new_name),
            format!("{user}'s sidebar to show the new name {new_name:?} right after the rename"),
            "it still shows the old name: the cached fragment was not deleted",
        )?;
    }
    Ok(())
}

async fn renders_without_redis(probe: &mut Probe<'_>) -> Verdict {
    probe.empty_the_cache().await?;
    view(probe, None, 1).await?;
    let (_, computed) = view(probe, None, 1).await?;
    expect_cached(computed, "a visitor's second view (before Redis goes down)")?;

    probe.stop_redis().await?;
    let outcome = views_while_redis_is_down(probe).await;
    probe.restart_redis().await?;
    outcome
}

async fn views_while_redis_is_down(probe: &mut Probe<'_>) -> Verdict {
    for attempt in 1..=2 {
        let before = computations(probe).await?;
        let page = probe.send(Method::GET, "/", Body::Empty, None, OUTAGE_ANSWER_LIMIT).await?;
        let computed = computations(probe).await? - before;
        expect(
            page.status == 200 && page.body.contains(&sidebar_heading("everyone")),
            format!("view {attempt} while Redis is down to answer 200 with the sidebar"),
            page.summary(),
        )?;
        expect(
            computed == 1,
            format!("view {attempt} while Redis is down to compute the sidebar afresh"),
            format!("computed {}", counted(computed, "time")),
        )?;
    }
    Ok(())
}

/// Logs `username` in; returns the cookie to send back.
async fn log_in(probe: &mut Probe<'_>, username: &str) -> Result<String, Failure> {
    let reply = probe.post_json("/login", json!({ "username": username }), None).await?;
    expect(
        (200..300).contains(&reply.status),
        format!("POST /login as {username} to succeed"),
        reply.summary(),
    )?;
    reply.session_cookie().ok_or_else(|| fail("a Set-Cookie header on the login answer", "none"))
}

/// Views the dashboard `times` times; returns the pages and how often the sidebar was computed.
async fn view(
    probe: &Probe<'_>,
    cookie: Option<&str>,
    times: usize,
) -> Result<(Vec<String>, u64), Failure> {
    let before = computations(probe).await?;
    let mut pages = Vec::new();
    for _ in 0..times {
        let page = dashboard(probe, cookie).await?;
        pages.push(page.body);
    }
    let computed = computations(probe).await? - before;
    Ok((pages, computed))
}

async fn dashboard(probe: &Probe<'_>, cookie: Option<&str>) -> Result<Reply, Failure> {
    let page = match cookie {
        Some(cookie) => probe.get_as("/", cookie).await?,
        None => probe.get("/").await?,
    };
    expect(page.status == 200, "GET / to answer 200", page.summary())?;
    Ok(page)
}

/// The keys that one view of the dashboard as `cookie` added to the service's database.
async fn keys_created_by_a_view(
    probe: &mut Probe<'_>,
    cookie: Option<&str>,
) -> Result<Vec<String>, Failure> {
    let before = probe.redis().keys("*").await?;
    dashboard(probe, cookie).await?;
    let after = probe.redis().keys("*").await?;
    Ok(after.into_iter().filter(|key| !before.contains(key)).collect())
}

/// Whether `key` is `form` (the prefix, the version and `template.cache.sidebar.`) followed by
/// an MD5 in hex, as Django's `make_template_fragment_key` writes it.
fn is_fragment_key(key: &str, form: &str) -> bool {
    key.strip_prefix(form).is_some_and(|digest| {
        digest.len() == 32 && digest.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// What a view stored, in words.
fn created_keys(keys: &[String]) -> String {
    match keys {
        [] => "no new key".to_owned(),
        keys => format!("new keys: {}", keys.join(", ")),
    }
}

/// `POST /categories/{id}` with the new name, as `cookie` when given.
async fn rename_category(
    probe: &mut Probe<'_>,
    id: i64,
    name: &str,
    cookie: Option<&str>,
) -> Verdict {
    let path = format!("/categories/{id}");
    let reply = probe.post_json(&path, json!({ "name": name }), cookie).await?;
    expect(
        (200..300).contains(&reply.status),
        format!("POST {path} {{\"name\": {name:?}}} to succeed"),
        reply.summary(),
    )
}

/// The sidebar's work counter, from the support crate's statistics.
async fn computations(probe: &Probe<'_>) -> Result<u64, Failure> {
    let reply = probe.get("/__workbook/stats").await?;
    reply.json()["computations"].as_u64().ok_or_else(|| {
        Failure::Error(format!("GET /__workbook/stats gave no counters: {}", reply.summary()))
    })
}

/// A view that should have been served from the cache: nothing else to judge without that.
fn expect_cached(computed: u64, which: &str) -> Verdict {
    expect(
        computed == 0,
        format!("{which} to be served from the fragment cache"),
        format!("the sidebar was computed {}: it is not cached", counted(computed, "time")),
    )
    .because(Symptom::NothingCached)
}

/// The hint of a criterion that needs a cached fragment to judge anything else.
const NOTHING_CACHED: &str = "Nothing was served from the fragment cache, so this criterion \
                              could not be judged: make sidebar-computed-once pass first.";

/// The heading `sidebar.html` gives the sidebar of `owner`.
fn sidebar_heading(owner: &str) -> String {
    format!("Categories of {owner}")
}

/// Up to 60 characters of `page` around the first of `needles` found in it, for messages.
fn excerpt(page: &str, needles: &[&str]) -> String {
    let Some((at, needle)) =
        needles.iter().find_map(|needle| page.find(needle).map(|at| (at, *needle)))
    else {
        return format!("none of {needles:?} in the page");
    };
    let mut start = at.saturating_sub(20);
    while !page.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + needle.len() + 40).min(page.len());
    while !page.is_char_boundary(end) {
        end += 1;
    }
    format!("…{}…", &page[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_show_the_first_needle_found_in_context() {
        let page = "<li>é &amp;lt;script&amp;gt;</li>";
        assert_eq!(excerpt(page, &["<script>", "&amp;lt;"]), format!("…{page}…"));
        assert_eq!(excerpt(page, &["<script>"]), "none of [\"<script>\"] in the page");
    }

    #[test]
    fn points_add_up_to_the_fifteen_of_the_books_table() {
        let spec = spec();
        assert_eq!(spec.criteria.iter().map(|c| c.points).sum::<u32>(), 15);
    }
}
