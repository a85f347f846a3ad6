//! The grader's own view of Redis: keys, TTLs and the server's statistics.
//!
//! Redis counts every command it runs and every connection it accepts; comparing two readings
//! taken around a probe tells exactly how much Redis work a request caused, with no timing.

use std::collections::BTreeMap;

use redis::RedisResult;

use crate::run::redis_server::BUSY_REPLY_THRESHOLD_MS;
use redis::aio::MultiplexedConnection;

/// A connection to the database the service under test uses.
pub struct Inspector {
    base_url: String,
    db: u8,
    conn: MultiplexedConnection,
}

/// A key and the database it is in (see [`Inspector::keys_anywhere`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub db: u8,
    pub key: String,
}

impl std::fmt::Display for Located {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` in database {}", self.key, self.db)
    }
}

/// Where a value sits in Redis, whatever kind of key holds it: a whole string, a hash's
/// field or a sorted set's member (see [`Inspector::places_holding`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    String(Located),
    HashField(Located, String),
    SortedSetMember(Located, String),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::String(key) => write!(f, "{key}"),
            Place::HashField(key, field) => write!(f, "field `{field}` of the hash {key}"),
            Place::SortedSetMember(key, member) => {
                write!(f, "the score of `{member}` in the sorted set {key}")
            }
        }
    }
}

/// Command counts by command name, from `INFO commandstats`.
#[derive(Debug, Clone, Default)]
pub struct CommandCounts(pub BTreeMap<String, u64>);

impl CommandCounts {
    /// How many times `command` ran between `earlier` and `self`.
    pub fn delta(&self, earlier: &CommandCounts, command: &str) -> u64 {
        let get = |counts: &CommandCounts| counts.0.get(command).copied().unwrap_or(0);
        get(self).saturating_sub(get(earlier))
    }

    /// All commands that ran between `earlier` and `self`, except the grader's own `INFO`.
    pub fn since(&self, earlier: &CommandCounts) -> BTreeMap<String, u64> {
        self.0
            .keys()
            .filter(|name| name.as_str() != "info")
            .map(|name| (name.clone(), self.delta(earlier, name)))
            .filter(|(_, count)| *count > 0)
            .collect()
    }

    /// The total of [`Self::since`].
    pub fn total_since(&self, earlier: &CommandCounts) -> u64 {
        self.since(earlier).values().sum()
    }
}

/// Renders a `TTL` reply for messages: `-1` never expires, `-2` is a missing key.
pub fn describe_ttl(ttl: i64) -> String {
    match ttl {
        -2 => "the key does not exist (TTL -2)".to_owned(),
        -1 => "no expiry (TTL -1): the key lives forever".to_owned(),
        seconds => format!("a TTL of {seconds} s"),
    }
}

/// Renders command counts as `GET×3, SET×1` for messages.
pub fn describe_commands(counts: &BTreeMap<String, u64>) -> String {
    if counts.is_empty() {
        return "no Redis commands".to_owned();
    }
    let parts: Vec<String> =
        counts.iter().map(|(name, count)| format!("{}×{count}", name.to_uppercase())).collect();
    parts.join(", ")
}

impl Inspector {
    pub async fn connect(base_url: &str, db: u8) -> RedisResult<Self> {
        let conn = open(base_url, db).await?;
        Ok(Self { base_url: base_url.to_owned(), db, conn })
    }

    /// Opens a fresh connection, e.g. after the server restarted.
    pub async fn reconnect(&mut self) -> RedisResult<()> {
        self.conn = open(&self.base_url, self.db).await?;
        Ok(())
    }

    /// `true` when the server answers PING.
    pub async fn ping(&mut self) -> bool {
        let ping = redis::cmd("PING");
        let answer = ping.query_async::<String>(&mut self.conn);
        matches!(tokio::time::timeout(std::time::Duration::from_secs(2), answer).await, Ok(Ok(_)))
    }

    /// `true` when the server answers BUSY: a script has run past the busy threshold and
    /// the server answers nothing else until it ends or is killed.
    pub async fn busy(&mut self) -> bool {
        let ping = redis::cmd("PING");
        let answer = ping.query_async::<String>(&mut self.conn);
        match tokio::time::timeout(std::time::Duration::from_secs(3), answer).await {
            Ok(Err(err)) => is_busy(&err),
            _ => false,
        }
    }

    /// `SCRIPT KILL`: stops the running script, unless it has written (then only a stop of
    /// the server ends it, and Redis answers UNKILLABLE).
    pub async fn kill_script(&mut self) -> RedisResult<()> {
        redis::cmd("SCRIPT").arg("KILL").query_async(&mut self.conn).await
    }

    /// Keys of the service's database matching `pattern`, found with SCAN.
    pub async fn keys(&mut self, pattern: &str) -> RedisResult<Vec<String>> {
        let mut cursor = 0u64;
        let mut keys = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut self.conn)
                .await?;
            keys.extend(batch);
            if next == 0 {
                keys.sort();
                return Ok(keys);
            }
            cursor = next;
        }
    }

    /// Where keys whose name contains `fragment` are, in any database: evidence for messages.
    pub async fn find_anywhere(&mut self, fragment: &str) -> RedisResult<Vec<String>> {
        let mut found = Vec::new();
        for db in 0..16u8 {
            let mut other = open(&self.base_url, db).await?;
            let (_, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(0)
                .arg("MATCH")
                .arg(format!("*{fragment}*"))
                .arg("COUNT")
                .arg(10_000)
                .query_async(&mut other)
                .await?;
            found.extend(keys.into_iter().map(|key| format!("`{key}` in database {db}")));
        }
        Ok(found)
    }

    /// Keys matching `pattern` in every database, the service's own first. A criterion that
    /// checks a key's TTL or value finds it wherever a buggy service put it: the database is
    /// `key-naming`'s to judge, and one bug must not cost several criteria.
    pub async fn keys_anywhere(&mut self, pattern: &str) -> RedisResult<Vec<Located>> {
        let mut found: Vec<Located> =
            self.keys(pattern).await?.into_iter().map(|key| Located { db: self.db, key }).collect();
        for db in (0..16u8).filter(|db| *db != self.db) {
            let mut other = Inspector::connect(&self.base_url, db).await?;
            found.extend(other.keys(pattern).await?.into_iter().map(|key| Located { db, key }));
        }
        Ok(found)
    }

    /// Every place in any database whose value is the number `value`: a string, a hash field
    /// or a sorted set's score. A check finds what the service stored by what it holds, not by
    /// guessing the name it chose.
    pub async fn places_holding(&mut self, value: i64) -> RedisResult<Vec<Place>> {
        let mut found = Vec::new();
        for located in self.keys_anywhere("*").await? {
            let mut inspector = self.in_db(located.db).await?;
            found.extend(inspector.places_in(&located, value).await?);
        }
        Ok(found)
    }

    /// The places of [`Self::places_holding`] inside one key of this connection's database.
    async fn places_in(&mut self, located: &Located, value: i64) -> RedisResult<Vec<Place>> {
        let key = &located.key;
        let kind: String = redis::cmd("TYPE").arg(key).query_async(&mut self.conn).await?;
        let holds = |text: &str| text.trim().parse::<f64>().ok() == Some(value as f64);
        let places = match kind.as_str() {
            "string" => {
                let text: Option<Vec<u8>> =
                    redis::cmd("GET").arg(key).query_async(&mut self.conn).await?;
                let text = String::from_utf8_lossy(&text.unwrap_or_default()).into_owned();
                if holds(&text) { vec![Place::String(located.clone())] } else { vec![] }
            }
            "hash" => {
                let fields: Vec<(String, String)> =
                    redis::cmd("HGETALL").arg(key).query_async(&mut self.conn).await?;
                fields
                    .into_iter()
                    .filter(|(_, text)| holds(text))
                    .map(|(field, _)| Place::HashField(located.clone(), field))
                    .collect()
            }
            "zset" => {
                let members: Vec<(String, String)> = redis::cmd("ZRANGE")
                    .arg(key)
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .query_async(&mut self.conn)
                    .await?;
                members
                    .into_iter()
                    .filter(|(_, score)| holds(score))
                    .map(|(member, _)| Place::SortedSetMember(located.clone(), member))
                    .collect()
            }
            _ => vec![],
        };
        Ok(places)
    }

    /// Whether `place` still holds the number `value`.
    pub async fn place_holds(&mut self, place: &Place, value: i64) -> RedisResult<bool> {
        let located = match place {
            Place::String(key) | Place::HashField(key, _) | Place::SortedSetMember(key, _) => key,
        };
        let mut inspector = self.in_db(located.db).await?;
        Ok(inspector.places_in(located, value).await?.contains(place))
    }

    /// Writes the number `value` at `place`, keeping the key's TTL: the grader changing what
    /// the service stored, to see whether the service follows Redis.
    pub async fn overwrite_place(&mut self, place: &Place, value: i64) -> RedisResult<()> {
        match place {
            Place::String(located) => self.overwrite(located, &value.to_string()).await,
            Place::HashField(located, field) => {
                let mut inspector = self.in_db(located.db).await?;
                redis::cmd("HSET")
                    .arg(&located.key)
                    .arg(field)
                    .arg(value)
                    .query_async(&mut inspector.conn)
                    .await
            }
            Place::SortedSetMember(located, member) => {
                let mut inspector = self.in_db(located.db).await?;
                redis::cmd("ZADD")
                    .arg(&located.key)
                    .arg(value)
                    .arg(member)
                    .query_async(&mut inspector.conn)
                    .await
            }
        }
    }

    /// The text of a string key of the service's database; `None` when the key is missing or
    /// holds another kind of value (a hash, a list, ...).
    pub async fn text(&mut self, key: &str) -> RedisResult<Option<String>> {
        let kind: String = redis::cmd("TYPE").arg(key).query_async(&mut self.conn).await?;
        if kind != "string" {
            return Ok(None);
        }
        let bytes: Option<Vec<u8>> = redis::cmd("GET").arg(key).query_async(&mut self.conn).await?;
        Ok(bytes.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Runs Redis' clock forward by `span`, as if that much time had passed: every key whose
    /// TTL runs out within it expires (is deleted, as Redis would), every other key with a TTL
    /// has `span` less to live, and keys without one stay. A claim over time (a stamp outlives
    /// its values, an entry is computed once per TTL) is observed without waiting for it.
    /// Returns the keys that expired.
    pub async fn let_time_pass(&mut self, span: std::time::Duration) -> RedisResult<Vec<Located>> {
        let span_ms = span.as_millis() as i64;
        let mut expired = Vec::new();
        for located in self.keys_anywhere("*").await? {
            let mut inspector = self.in_db(located.db).await?;
            let left: i64 =
                redis::cmd("PTTL").arg(&located.key).query_async(&mut inspector.conn).await?;
            if left < 0 {
                continue; // -1: no expiry; -2: gone meanwhile
            }
            if left <= span_ms {
                redis::cmd("DEL").arg(&located.key).query_async::<()>(&mut inspector.conn).await?;
                expired.push(located);
            } else {
                redis::cmd("PEXPIRE")
                    .arg(&located.key)
                    .arg(left - span_ms)
                    .query_async::<()>(&mut inspector.conn)
                    .await?;
            }
        }
        Ok(expired)
    }

    /// `TTL` of a key found by [`Self::keys_anywhere`].
    pub async fn ttl_of(&mut self, located: &Located) -> RedisResult<i64> {
        self.in_db(located.db).await?.ttl(&located.key).await
    }

    /// `PTTL` (milliseconds) of a key found by [`Self::keys_anywhere`]: fine enough to tell
    /// whether a request restarted the key's expiry.
    pub async fn pttl_of(&mut self, located: &Located) -> RedisResult<i64> {
        let mut inspector = self.in_db(located.db).await?;
        redis::cmd("PTTL").arg(&located.key).query_async(&mut inspector.conn).await
    }

    /// `EXISTS` of a key found by [`Self::keys_anywhere`].
    pub async fn exists_at(&mut self, located: &Located) -> RedisResult<bool> {
        self.in_db(located.db).await?.exists(&located.key).await
    }

    /// Overwrites a key found by [`Self::keys_anywhere`], keeping its TTL: the grader changing
    /// what the service stored, to see whether the service follows Redis.
    pub async fn overwrite(&mut self, located: &Located, value: &str) -> RedisResult<()> {
        let mut inspector = self.in_db(located.db).await?;
        redis::cmd("SET")
            .arg(&located.key)
            .arg(value)
            .arg("KEEPTTL")
            .query_async(&mut inspector.conn)
            .await
    }

    /// Deletes a key found by [`Self::keys_anywhere`].
    pub async fn delete_at(&mut self, located: &Located) -> RedisResult<()> {
        let mut inspector = self.in_db(located.db).await?;
        redis::cmd("DEL").arg(&located.key).query_async(&mut inspector.conn).await
    }

    /// A connection to database `db` of the same server.
    async fn in_db(&self, db: u8) -> RedisResult<Inspector> {
        Inspector::connect(&self.base_url, db).await
    }

    /// Seconds to live: `-1` when the key never expires, `-2` when it does not exist.
    pub async fn ttl(&mut self, key: &str) -> RedisResult<i64> {
        redis::cmd("TTL").arg(key).query_async(&mut self.conn).await
    }

    pub async fn exists(&mut self, key: &str) -> RedisResult<bool> {
        redis::cmd("EXISTS").arg(key).query_async(&mut self.conn).await
    }

    /// Stores `value` under `key` for `seconds`: a marker the service has no reason to touch.
    pub async fn set_for(&mut self, key: &str, value: &str, seconds: u64) -> RedisResult<()> {
        redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("EX")
            .arg(seconds)
            .query_async(&mut self.conn)
            .await
    }

    /// Stores `value` under each of `keys` in one round trip, with a TTL of `seconds`: keys
    /// the grader puts where the service's own would be, e.g. more than one `SCAN` reply holds.
    pub async fn fill(&mut self, keys: &[String], value: &str, seconds: u64) -> RedisResult<()> {
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.cmd("SET").arg(key).arg(value).arg("EX").arg(seconds).ignore();
        }
        pipe.query_async(&mut self.conn).await
    }

    pub async fn command_counts(&mut self) -> RedisResult<CommandCounts> {
        let info: String =
            redis::cmd("INFO").arg("commandstats").query_async(&mut self.conn).await?;
        Ok(CommandCounts(parse_commandstats(&info)))
    }

    /// A numeric field of `INFO`, e.g. `total_connections_received`.
    pub async fn info_number(&mut self, field: &str) -> RedisResult<u64> {
        let info: String = redis::cmd("INFO").arg("everything").query_async(&mut self.conn).await?;
        Ok(info_field(&info, field).unwrap_or(0))
    }

    /// Writes a snapshot to disk (`SAVE`), which the server loads when it starts again.
    pub async fn save(&mut self) -> RedisResult<()> {
        redis::cmd("SAVE").query_async(&mut self.conn).await
    }

    /// Holds every client's commands (the grader's too) for `pause`, then runs them all: the
    /// commands sent meanwhile queue up and run back to back, as if they had all arrived at
    /// the same instant.
    pub async fn pause_clients(&mut self, pause: std::time::Duration) -> RedisResult<()> {
        let millis = pause.as_millis().to_string();
        redis::cmd("CLIENT").arg("PAUSE").arg(millis).arg("ALL").query_async(&mut self.conn).await
    }

    /// Holds every client's write commands (the grader's too) for `pause`, and lets reads
    /// through: a write sent meanwhile is applied when the pause ends, and whoever waits for
    /// it waits until then.
    pub async fn pause_writes(&mut self, pause: std::time::Duration) -> RedisResult<()> {
        let millis = pause.as_millis().to_string();
        redis::cmd("CLIENT").arg("PAUSE").arg(millis).arg("WRITE").query_async(&mut self.conn).await
    }

    /// Empties every database: only for a server the grader started itself, and only before
    /// a service starts (a service could tell a `FLUSHALL` from its own use).
    pub async fn flush_all(&mut self) -> RedisResult<()> {
        redis::cmd("FLUSHALL").query_async(&mut self.conn).await
    }

    /// Deletes the keys of this database that match `pattern`, in one `DEL`.
    pub async fn delete_matching(&mut self, pattern: &str) -> RedisResult<()> {
        let keys = self.keys(pattern).await?;
        if keys.is_empty() {
            return Ok(());
        }
        redis::cmd("DEL").arg(keys).query_async(&mut self.conn).await
    }
}

/// Whether `err` is Redis' BUSY: a script has kept the server for longer than the threshold.
pub fn is_busy(err: &redis::RedisError) -> bool {
    err.code() == Some("BUSY")
}

/// How long the grader waits for a reply: longer than a script may hold the server before
/// it answers BUSY, so that a command sent while a script runs gets BUSY, not a time-out.
const RESPONSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
const _: () = assert!(RESPONSE_TIMEOUT.as_millis() > 2 * BUSY_REPLY_THRESHOLD_MS as u128);

async fn open(base_url: &str, db: u8) -> RedisResult<MultiplexedConnection> {
    let config = redis::AsyncConnectionConfig::new().set_response_timeout(Some(RESPONSE_TIMEOUT));
    redis::Client::open(format!("{base_url}/{db}"))?
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

/// Parses lines such as `cmdstat_get:calls=3,usec=12,...` into `{"get": 3}`.
fn parse_commandstats(info: &str) -> BTreeMap<String, u64> {
    info.lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats.split(',').find_map(|part| part.strip_prefix("calls="))?;
            Some((name.to_owned(), calls.parse().ok()?))
        })
        .collect()
}

fn info_field(info: &str, field: &str) -> Option<u64> {
    info.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commandstats_are_parsed() {
        let info = "# Commandstats\r\ncmdstat_get:calls=3,usec=12,usec_per_call=4.00\r\n\
                    cmdstat_client|list:calls=1,usec=5\r\n";
        let counts = parse_commandstats(info);
        assert_eq!(counts["get"], 3);
        assert_eq!(counts["client|list"], 1);
    }

    #[test]
    fn deltas_ignore_the_graders_info_calls() {
        let before = CommandCounts([("get".into(), 1), ("info".into(), 4)].into());
        let after =
            CommandCounts([("get".into(), 4), ("info".into(), 9), ("set".into(), 2)].into());
        assert_eq!(after.total_since(&before), 5);
        assert_eq!(describe_commands(&after.since(&before)), "GET×3, SET×2");
    }

    #[test]
    fn info_fields_are_read() {
        let info = "# Stats\r\ntotal_connections_received:17\r\ntotal_commands_processed:99\r\n";
        assert_eq!(info_field(info, "total_connections_received"), Some(17));
        assert_eq!(info_field(info, "missing"), None);
    }
}
