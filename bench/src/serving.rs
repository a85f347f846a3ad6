//! Serving figures: the same two pages from the reference solutions, from the Django peer and
//! from three limits, one after the other under the same load.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use axum::body::Bytes;

use crate::django::{self, Django};
use crate::fixed::FixedResponse;
use crate::load::Load;
use crate::one_get::OneGet;
use crate::private_redis::PrivateRedis;
use crate::redis_benchmark;
use crate::solutions::{self, Solution};
use crate::table::{Page, Role, Row};
use crate::{cargo, table, wrk};

pub struct Options {
    pub load: wrk::Settings,
    /// Tasks in every server's database.
    pub tasks: usize,
    /// The Django peer's `serve.sh`, or `None` to leave Django out.
    pub django: Option<PathBuf>,
    /// How many times each page's servers are loaded in turn.
    pub rounds: usize,
}

/// One page and where each server answers it.
struct Endpoints {
    title: &'static str,
    /// Which solution serves it, as the table names it.
    solution_name: &'static str,
    solution: &'static str,
    django: &'static str,
    /// The key the same bytes are stored under for `redis-benchmark`.
    redis_key: &'static str,
}

const PAGES: [Endpoints; 2] = [
    Endpoints {
        title: "cached task list",
        solution_name: "Rust solution 02",
        solution: solutions::CACHED_TASK_LIST,
        django: django::CACHED_TASK_LIST,
        redis_key: "bench:task-list",
    },
    Endpoints {
        title: "`get_or_set` counter",
        solution_name: "Rust solution 03",
        solution: solutions::GET_OR_SET_COUNT,
        django: django::GET_OR_SET_COUNT,
        redis_key: "bench:task-count",
    },
];

pub async fn measure(options: &Options, workbook: &Path, work: &Path) -> Result<Vec<Page>> {
    eprintln!("building the reference solutions with --release");
    let built =
        cargo::build(workbook, &[solutions::VIEW_CACHE, solutions::LOW_LEVEL_CACHE], true).await?;
    let redis = PrivateRedis::start(&folder(work, "redis")?).await?;
    let view_cache = Solution::start(
        &cargo::binary(&built, solutions::VIEW_CACHE)?,
        &redis.base_url(),
        1,
        options.tasks,
        &folder(work, solutions::VIEW_CACHE)?,
    )
    .await?;
    let low_level_cache = Solution::start(
        &cargo::binary(&built, solutions::LOW_LEVEL_CACHE)?,
        &redis.base_url(),
        2,
        options.tasks,
        &folder(work, solutions::LOW_LEVEL_CACHE)?,
    )
    .await?;
    let django = match &options.django {
        Some(script) => {
            eprintln!("starting the Django peer (the first start builds its virtualenv)");
            Some(Django::start(script, options.tasks, &folder(work, "django")?).await?)
        }
        None => None,
    };

    let mut pages = Vec::new();
    for (endpoints, solution) in PAGES.iter().zip([&view_cache, &low_level_cache]) {
        pages.push(
            measure_page(
                endpoints,
                solution,
                django.as_ref(),
                &redis,
                options.load,
                options.rounds,
            )
            .await?,
        );
    }
    Ok(pages)
}

/// One page on each server in turn: the solution, Django, then the three limits serving the
/// very bytes the solution served; all of that `rounds` times over, so that a burst of other
/// work on a shared machine falls on every server alike rather than on one. Each row holds
/// the median of its rounds.
async fn measure_page(
    endpoints: &Endpoints,
    solution: &Solution,
    django: Option<&Django>,
    redis: &PrivateRedis,
    load: wrk::Settings,
    rounds: usize,
) -> Result<Page> {
    let url = format!("{}{}", solution.base_url, endpoints.solution);
    let (content_type, body) = first_answer(&url).await?;
    let mut targets = vec![Target {
        role: Role::Solution,
        server: format!("{} `{}`", endpoints.solution_name, endpoints.solution),
        source: Source::Http(url),
        bytes: body.len(),
    }];
    if let Some(django) = django {
        let url = format!("{}{}", django.base_url, endpoints.django);
        let (_, django_body) = first_answer(&url).await?;
        targets.push(Target {
            role: Role::Django,
            server: format!("Django + django-redis `{}`", endpoints.django),
            source: Source::Http(url),
            bytes: django_body.len(),
        });
    }
    redis.set(endpoints.redis_key, &body).await?;
    let one_get =
        OneGet::start(&redis.base_url(), endpoints.redis_key, content_type.clone()).await?;
    let fixed = FixedResponse::start(content_type, body.clone()).await?;
    let limits = [
        (
            Role::OneGetLimit,
            "limit: axum + one Redis GET, same bytes",
            Source::Http(one_get.url.clone()),
        ),
        (
            Role::RedisLimit,
            "limit: `redis-benchmark` GET, same bytes",
            Source::RedisGet(endpoints.redis_key),
        ),
        (
            Role::FrameworkLimit,
            "limit: axum, fixed bytes, no Redis",
            Source::Http(fixed.url.clone()),
        ),
    ];
    for (role, server, source) in limits {
        targets.push(Target { role, server: server.to_owned(), source, bytes: body.len() });
    }

    let queries_before = solution.queries().await?;
    let mut loads: Vec<Vec<Load>> = vec![Vec::new(); targets.len()];
    for round in 1..=rounds {
        eprintln!("{}: round {round} of {rounds}", endpoints.title);
        for (target, loads) in targets.iter().zip(&mut loads) {
            loads.push(match &target.source {
                Source::Http(url) => http_load(url, load).await?,
                Source::RedisGet(key) => redis_get(redis, key, load).await?,
            });
        }
    }
    let solution_queries = solution.queries().await? - queries_before;

    let rows = targets
        .into_iter()
        .zip(loads)
        .map(|(target, loads)| Row {
            queries: (target.role == Role::Solution).then_some(solution_queries),
            role: target.role,
            server: target.server,
            load: Load::median(&loads),
            bytes: Some(target.bytes),
        })
        .collect();
    Ok(Page { title: format!("{} ({})", endpoints.title, table::size(body.len())), rows })
}

/// One server of a page's table.
struct Target {
    role: Role,
    server: String,
    source: Source,
    /// The size of its answer's body.
    bytes: usize,
}

/// How a server is loaded.
enum Source {
    /// `wrk` on this URL.
    Http(String),
    /// `redis-benchmark` sending `GET` for this key of the bench's Redis.
    RedisGet(&'static str),
}

/// Requests the page once (which also fills the cache) and returns its content type and body.
async fn first_answer(url: &str) -> Result<(String, Bytes)> {
    let response = reqwest::get(url).await.with_context(|| format!("GET {url}"))?;
    if !response.status().is_success() {
        bail!("GET {url} answered {}: the benchmark needs a 200", response.status());
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    Ok((content_type, response.bytes().await?))
}

async fn http_load(url: &str, settings: wrk::Settings) -> Result<Load> {
    eprintln!("wrk {url} for {} s", settings.duration.as_secs());
    wrk::run(url, settings).await
}

/// `redis-benchmark` for about as long as wrk runs: a short run first to learn the rate.
async fn redis_get(redis: &PrivateRedis, key: &str, settings: wrk::Settings) -> Result<Load> {
    eprintln!("redis-benchmark GET {key}");
    let (connections, threads) = (settings.connections, settings.threads);
    let probe = redis_benchmark::get(redis.port, key, connections, threads, 10_000).await?;
    let requests = (probe.requests_per_second * settings.duration.as_secs_f64()) as u64;
    redis_benchmark::get(redis.port, key, connections, threads, requests.max(10_000)).await
}

fn folder(work: &Path, name: &str) -> Result<PathBuf> {
    let dir = work.join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}
