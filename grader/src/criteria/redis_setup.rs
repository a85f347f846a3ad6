//! Exercise 1 — Redis configured and running.

use std::time::Duration;

use futures::future::join_all;
use reqwest::Method;
use serde_json::json;

use super::inspect::{Located, describe_commands, describe_ttl};
use super::{
    Because, Category, Criterion, ExerciseSpec, Failure, Symptom, Verdict, check, expect, fail,
};
use crate::course;
use crate::criteria::probe::{Body, Probe, REQUEST_TIMEOUT};
use crate::words::counted;

/// How quickly the service must answer while Redis is down: long enough for any reasonable
/// command time-out, far shorter than a client that retries for ten seconds.
const OUTAGE_ANSWER_LIMIT: Duration = Duration::from_secs(4);
/// How long the service gets to notice that Redis is back.
const RECONNECT_LIMIT: Duration = Duration::from_secs(15);
/// How long a service that has never reported Redis up gets to do it: Redis has been up all
/// its life, so there is nothing to reconnect to (a starter fails here in seconds, not 15).
const FIRST_CONNECT_LIMIT: Duration = Duration::from_secs(5);
/// How far below the asked TTL a fresh key may be (seconds pass between SET and TTL).
const TTL_TOLERANCE: i64 = 5;
/// The shortest session id taken for random: 16 hexadecimal digits are 64 bits.
const MIN_SESSION_ID_CHARS: usize = 16;

pub fn spec() -> ExerciseSpec {
    ExerciseSpec {
        exercise: course::REDIS_SETUP,
        query_delay_ms: 0,
        needs_reference: false,
        criteria: vec![
            Criterion {
                id: "health-pings-redis",
                title: "/health pings the Redis named by REDIS_URL",
                category: Category::Resilience,
                points: 3,
                hint: "Read REDIS_URL in CacheSettings::from_env and PING through the shared \
                       connection in the health check.",
                hints: &[],
                check: check!(health_pings_redis),
            },
            Criterion {
                id: "key-naming",
                title: "Keys are named prefix:version:key in the configured database",
                category: Category::Caching,
                points: 3,
                hint: "Build every key with Cache::make_key from CACHE_KEY_PREFIX and \
                       CACHE_KEY_VERSION; the database index is the last part of REDIS_URL.",
                hints: &[],
                check: check!(key_naming),
            },
            Criterion {
                id: "default-timeout",
                title: "Entries expire after CACHE_DEFAULT_TIMEOUT",
                category: Category::Caching,
                points: 3,
                hint: "Store with SET key value EX seconds (set_ex), using the default timeout \
                       from the settings.",
                hints: &[],
                check: check!(default_timeout),
            },
            Criterion {
                id: "sessions-in-redis",
                title: "Logging in stores a session in Redis; logging out deletes it",
                category: Category::Security,
                points: 3,
                hint: "On login store the session under a prefixed key and send its id in a \
                       cookie; on logout DEL the key so the cookie stops working at once.",
                hints: &[],
                check: check!(sessions_in_redis),
            },
            Criterion {
                id: "session-expiry",
                title: "Session keys expire SESSION_TTL after logging in",
                category: Category::Security,
                points: 2,
                hint: "A session without a TTL lives forever: store it with SET ... EX \
                       session_ttl when logging in, and only read it (GET) afterwards.",
                hints: &[],
                check: check!(session_expiry),
            },
            Criterion {
                id: "connection-reuse",
                title: "Requests share connections instead of opening their own",
                category: Category::Performance,
                points: 3,
                hint: "Create one ConnectionManager (or a pool) at start-up and clone it into \
                       handlers; never call Client::get_*connection per request.",
                hints: &[],
                check: check!(connection_reuse),
            },
            Criterion {
                id: "survives-outage",
                title: "Keeps answering while Redis is down",
                category: Category::Resilience,
                points: 2,
                hint: "Put a short time limit on every Redis command (tokio::time::timeout, \
                       ConnectionManagerConfig) and treat a failed read as a cache miss.",
                hints: &[],
                check: check!(survives_outage),
            },
            Criterion {
                id: "reconnects",
                title: "Reconnects by itself when Redis comes back",
                category: Category::Resilience,
                points: 1,
                hint: "First make /health report Redis up (health-pings-redis). Then: a plain \
                       MultiplexedConnection stays broken after a restart; a \
                       ConnectionManager reconnects on its own.",
                hints: &[],
                check: check!(reconnects),
            },
        ],
    }
}

async fn health_pings_redis(probe: &mut Probe<'_>) -> Verdict {
    let before = probe.redis().command_counts().await?;
    let state = probe.redis_health(Duration::from_secs(10)).await?;
    let after = probe.redis().command_counts().await?;
    expect(
        state == "up",
        "GET /health to report \"redis\": \"up\"",
        format!("\"redis\": {state:?}"),
    )?;
    let pings = after.delta(&before, "ping");
    expect(
        pings >= 1,
        "a PING reaching the grader's Redis (the one in REDIS_URL) during GET /health",
        format!(
            "{} there: the health check talks to some other Redis, or to none",
            describe_commands(&after.since(&before))
        ),
    )
}

async fn key_naming(probe: &mut Probe<'_>) -> Verdict {
    let key = probe.unique("greeting");
    let value = probe.unique("hello");
    let stored = probe.put_text(&format!("/cache/{key}"), &value).await?;
    expect(
        (200..300).contains(&stored.status),
        format!("PUT /cache/{key} to succeed"),
        stored.summary(),
    )?;
    let full_key = probe.contract().full_key(&key);
    if !probe.redis().exists(&full_key).await? {
        let found = probe.redis().find_anywhere(&key).await?;
        let observed = if found.is_empty() {
            "no key containing it in any database".to_owned()
        } else {
            format!("found instead: {}", found.join(", "))
        };
        return Err(fail(
            format!("the key `{full_key}` in database {}", probe.contract().redis_db),
            observed,
        ));
    }
    let read = probe.get(&format!("/cache/{key}")).await?;
    expect(
        read.status == 200 && read.body == value,
        format!("GET /cache/{key} to return 200 {value:?}"),
        read.summary(),
    )
}

async fn default_timeout(probe: &mut Probe<'_>) -> Verdict {
    let key = probe.unique("timeout");
    let stored = probe.put_text(&format!("/cache/{key}"), "expires").await?;
    expect(
        (200..300).contains(&stored.status),
        format!("PUT /cache/{key} to succeed"),
        stored.summary(),
    )?;
    // Found by name, whatever the prefix and database: key naming is a criterion of its own.
    let stored_key = stored_key(probe, &key).await?;
    let wanted = probe.contract().default_timeout as i64;
    let ttl = probe.redis().ttl_of(&stored_key).await?;
    expect(
        (wanted - TTL_TOLERANCE..=wanted).contains(&ttl),
        format!("{stored_key} to expire in {wanted} s (CACHE_DEFAULT_TIMEOUT)"),
        describe_ttl(ttl),
    )?;
    // Expiry, as Redis does it: the key goes. An entry that expired is gone for the service
    // too; a copy it kept of its own would outlive the TTL.
    let path = format!("/cache/{key}");
    probe.get(&path).await?;
    probe.redis().delete_at(&stored_key).await?;
    let after = probe.get(&path).await?;
    expect(
        after.status == 404,
        format!("GET {path} to be a miss (404) once {stored_key} has expired"),
        format!("{}: the value outlived its key in Redis", after.summary()),
    )
}

/// The Redis key that holds cache key `key`, in whichever database the service used.
async fn stored_key(probe: &mut Probe<'_>, key: &str) -> Result<Located, Failure> {
    let found = probe.redis().keys_anywhere(&format!("*{key}")).await?;
    found.into_iter().next().ok_or_else(|| {
        fail(
            format!("a key ending in `{key}` in the grader's Redis"),
            "none in any database: the value did not reach the grader's Redis",
        )
    })
}

/// Logs `username` in; returns the cookie and the session keys the login created, in
/// whichever database the service used.
async fn log_in(probe: &mut Probe<'_>, username: &str) -> Result<(String, Vec<Located>), Failure> {
    let pattern = probe.contract().key_pattern();
    let before = probe.redis().keys_anywhere(&pattern).await?;
    let reply = probe.post_json("/login", json!({ "username": username }), None).await?;
    expect(
        reply.status == 200,
        format!("POST /login as {username} to answer 200"),
        reply.summary(),
    )?;
    let cookie = reply
        .session_cookie()
        .ok_or_else(|| fail("a Set-Cookie header on the login answer", "none"))?;
    let created: Vec<Located> = probe
        .redis()
        .keys_anywhere(&pattern)
        .await?
        .into_iter()
        .filter(|key| !before.contains(key))
        .collect();
    if created.is_empty() {
        return Err(fail(
            format!("a new key under `{pattern}` after logging in"),
            "no new key: the session is not stored in this Redis",
        ));
    }
    Ok((cookie, created))
}

async fn sessions_in_redis(probe: &mut Probe<'_>) -> Verdict {
    let [user, another] = <[String; 2]>::try_from(probe.users(2)?).expect("two users drawn");
    let (cookie, created) = log_in(probe, &user).await?;
    let me = probe.get_as("/me", &cookie).await?;
    expect(
        me.status == 200 && me.json()["username"] == user.as_str(),
        format!("GET /me with the session cookie to answer 200 {{\"username\": \"{user}\"}}"),
        me.summary(),
    )?;
    let anonymous = probe.get("/me").await?;
    expect(anonymous.status == 401, "GET /me without a cookie to answer 401", anonymous.summary())?;

    let logout = probe.post_json("/logout", json!({}), Some(&cookie)).await?;
    expect((200..300).contains(&logout.status), "POST /logout to succeed", logout.summary())?;
    for key in &created {
        expect(
            !probe.redis().exists_at(key).await?,
            format!("{key} to be deleted by logging out"),
            "it is still in Redis: the session outlives the logout",
        )?;
    }
    let after = probe.get_as("/me", &cookie).await?;
    expect(
        after.status == 401,
        "GET /me with the old cookie to answer 401 after logging out",
        after.summary(),
    )?;

    // Redis is where a session lives: deleted there, it is gone, whatever the service keeps
    // in its own memory.
    let (cookie, created) = log_in(probe, &another).await?;
    for key in &created {
        probe.redis().delete_at(key).await?;
    }
    let forgotten = probe.get_as("/me", &cookie).await?;
    expect(
        forgotten.status == 401,
        "GET /me to answer 401 once the grader deleted the session from Redis",
        format!("{}: the session is read from somewhere other than Redis", forgotten.summary()),
    )?;

    let (cookie, _) = log_in(probe, &user).await?;
    known_to_another_instance(probe, &user, &cookie).await?;
    ids_cannot_be_guessed(probe, &user, &cookie).await
}

/// A session lives in Redis, which every instance of the service shares: a second instance
/// knows the session a login on the first created.
async fn known_to_another_instance(probe: &mut Probe<'_>, username: &str, cookie: &str) -> Verdict {
    let binary = probe.service().binary().to_owned();
    let who = "a second instance of the service";
    let second = probe.start_instance_on_the_services_database(&binary, who, &[]).await?;
    let base_url = second.service.base_url.clone();
    let me =
        probe.send_to(&base_url, Method::GET, "/me", Body::Empty, Some(cookie), REQUEST_TIMEOUT);
    let me = me.await;
    second.stop().await;
    let me = me?;
    expect(
        me.status == 200 && me.json()["username"] == username,
        format!(
            "GET /me on {who} (the same Redis), with the cookie of a login on the first, to answer \
             200 {{\"username\": \"{username}\"}}"
        ),
        format!("{}: the session is known only to the process that created it", me.summary()),
    )
    .because(Symptom::OneProcessOnly)
}

/// Whoever can guess a session id is logged in as its user: each login gets a new, random id,
/// long enough that nobody finds it by trying, and made of nothing the user is known by.
async fn ids_cannot_be_guessed(probe: &mut Probe<'_>, username: &str, cookie: &str) -> Verdict {
    let again = probe.post_json("/login", json!({ "username": username }), None).await?;
    let again = again.session_cookie().ok_or_else(|| {
        fail(format!("a Set-Cookie header on a second login as {username}"), again.summary())
    })?;
    let (first, second) = (cookie_value(cookie), cookie_value(&again));
    expect(
        first != second,
        format!("two logins as {username} to get two different session ids"),
        format!("both got `{first}`: whoever knows one login's id has every later one"),
    )?;
    for id in [first, second] {
        let lower = id.to_lowercase();
        expect(
            id.len() >= MIN_SESSION_ID_CHARS && !lower.contains(username),
            format!(
                "a session id nobody can guess: random, at least {MIN_SESSION_ID_CHARS} \
                 characters, nothing of the username"
            ),
            format!("`{id}`"),
        )?;
    }
    let logout = probe.post_json("/logout", json!({}), Some(&again)).await?;
    expect((200..300).contains(&logout.status), "POST /logout to succeed", logout.summary())
}

/// The value of a `name=value` cookie.
fn cookie_value(cookie: &str) -> &str {
    cookie.split_once('=').map_or(cookie, |(_, value)| value)
}

async fn session_expiry(probe: &mut Probe<'_>) -> Verdict {
    let user = probe.users(1)?.remove(0);
    let (cookie, created) = log_in(probe, &user).await?;
    let wanted = probe.contract().session_ttl as i64;
    for key in &created {
        let ttl = probe.redis().ttl_of(key).await?;
        expect(
            (wanted - TTL_TOLERANCE..=wanted).contains(&ttl),
            format!("the session key {key} to expire in {wanted} s (SESSION_TTL)"),
            describe_ttl(ttl),
        )?;
    }
    expiry_left_alone_by_a_request(probe, &cookie, &created).await
}

/// The session expires SESSION_TTL after logging in, as Django's does by default: a request
/// that reads it must not restart its TTL. Told apart by the order of two `PTTL`s, not by a
/// clock: time only runs down between them unless the request set the expiry again.
async fn expiry_left_alone_by_a_request(
    probe: &mut Probe<'_>,
    cookie: &str,
    keys: &[Located],
) -> Verdict {
    // Long enough that a restarted TTL would come back higher than it was read before.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut before = Vec::new();
    for key in keys {
        before.push(probe.redis().pttl_of(key).await?);
    }
    let reply = probe.get_as("/me", cookie).await?;
    expect(reply.status == 200, "GET /me with the session cookie to answer 200", reply.summary())?;
    for (key, before) in keys.iter().zip(before) {
        let after = probe.redis().pttl_of(key).await?;
        expect(
            after <= before,
            format!("GET /me to leave the expiry of {key} alone (set once, at login)"),
            format!(
                "its TTL went from {before} ms up to {after} ms: reading the session restarted it"
            ),
        )?;
    }
    Ok(())
}

/// One round of traffic: sequential and concurrent cache reads and writes, and the health
/// checks a load balancer sends meanwhile (whose connections count like the others').
async fn traffic(probe: &mut Probe<'_>) -> Verdict {
    let key = probe.unique("busy");
    for round in 0..10 {
        probe.put_text(&format!("/cache/{key}"), &round.to_string()).await?;
        probe.get(&format!("/cache/{key}")).await?;
        if round % 2 == 0 {
            probe.get("/health").await?;
        }
    }
    let probe = &*probe;
    let paths: Vec<String> = (0..20).map(|n| format!("/cache/{key}-{}", n % 5)).collect();
    let writes = paths.iter().map(|path| probe.put_text(path, "x"));
    for reply in join_all(writes).await {
        reply?;
    }
    Ok(())
}

async fn connection_reuse(probe: &mut Probe<'_>) -> Verdict {
    // A pool may open its connections during the first round; the second must reuse them.
    traffic(probe).await?;
    let connections_before = probe.redis().info_number("total_connections_received").await?;
    let commands_before = probe.redis().command_counts().await?;
    traffic(probe).await?;
    let connections =
        probe.redis().info_number("total_connections_received").await? - connections_before;
    let commands = probe.redis().command_counts().await?.total_since(&commands_before);
    expect(
        commands >= 20,
        "the 40 cache requests to reach the grader's Redis",
        format!("only {commands} Redis commands arrived"),
    )?;
    expect(
        connections <= 2,
        "at most 2 new Redis connections for 40 requests and 5 health checks once the service \
         is warm",
        format!("{} ({})", counted(connections, "new connection"), counted(commands, "command")),
    )
}

async fn survives_outage(probe: &mut Probe<'_>) -> Verdict {
    let key = probe.unique("outage");
    probe.put_text(&format!("/cache/{key}"), "before").await?;
    let state = wait_for_redis_up(probe).await;
    expect(state == "up", "/health to report Redis up before the outage", format!("{state:?}"))?;

    probe.stop_redis().await?;
    let outcome = answers_while_down(probe, &key).await;
    probe.restart_redis().await?;
    outcome
}

async fn answers_while_down(probe: &mut Probe<'_>, key: &str) -> Verdict {
    let state = probe.redis_health(OUTAGE_ANSWER_LIMIT).await?;
    expect(
        state != "up",
        "/health to report Redis down while it is stopped",
        format!("{state:?}"),
    )?;
    // Several reads: a client that retries in the background may answer the first at once
    // and hang on the next.
    for _ in 0..3 {
        let read = probe
            .send(
                reqwest::Method::GET,
                &format!("/cache/{key}"),
                crate::criteria::probe::Body::Empty,
                None,
                OUTAGE_ANSWER_LIMIT,
            )
            .await?;
        expect(
            read.status < 500,
            format!("GET /cache/{key} to answer (as a miss) while Redis is down"),
            read.summary(),
        )?;
    }
    Ok(())
}

async fn reconnects(probe: &mut Probe<'_>) -> Verdict {
    // The previous check already restarted Redis once: a service that never reconnects is
    // still down here.
    let state = wait_for_redis_up(probe).await;
    if !probe.redis_seen_up() {
        return Err(fail(
            "/health to report Redis up before the grader restarts it",
            format!("{state:?}: it never has in this run, so there is no connection to restore"),
        ));
    }
    expect(
        state == "up",
        "/health to report Redis up again after the grader's earlier restart of Redis",
        format!("still {state:?}"),
    )?;
    probe.stop_redis().await?;
    // Let the service notice the outage before Redis returns.
    let _ = probe.redis_health(OUTAGE_ANSWER_LIMIT).await;
    probe.restart_redis().await?;

    let state = wait_for_redis_up(probe).await;
    expect(
        state == "up",
        format!("/health to report Redis up within {} s of its restart", RECONNECT_LIMIT.as_secs()),
        format!("still {state:?}"),
    )?;
    let key = probe.unique("after-restart");
    let stored = probe.put_text(&format!("/cache/{key}"), "again").await?;
    expect(
        (200..300).contains(&stored.status),
        "PUT /cache/... to work again after the restart",
        stored.summary(),
    )?;
    stored_key(probe, &key).await.map(drop)
}

/// Polls `/health` until it reports Redis up, for at most [`RECONNECT_LIMIT`] (or, while it
/// never has, until the service has been up for [`FIRST_CONNECT_LIMIT`]: an earlier check's
/// wait counts too); returns the last state seen.
async fn wait_for_redis_up(probe: &mut Probe<'_>) -> String {
    let limit = if probe.redis_seen_up() {
        RECONNECT_LIMIT
    } else {
        FIRST_CONNECT_LIMIT.saturating_sub(probe.service().up_for())
    };
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let state = match probe.redis_health(OUTAGE_ANSWER_LIMIT).await {
            Ok(state) => state,
            Err(Failure::Failed { observed, .. }) => observed,
            Err(Failure::Error(message)) => message,
        };
        if state == "up" || tokio::time::Instant::now() >= deadline {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
