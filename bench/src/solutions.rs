//! The reference solutions, built with `--release` and started the way the grader starts
//! them: configured by environment variables only.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::processes::{self, Background};

/// The solutions measured, by package (and binary) name, and the page measured of each.
pub const VIEW_CACHE: &str = "solution-02-view-cache";
pub const LOW_LEVEL_CACHE: &str = "solution-03-low-level-cache";
pub const CACHED_TASK_LIST: &str = "/tasks";
pub const GET_OR_SET_COUNT: &str = "/reports/task-count";

pub struct Solution {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    _server: Background,
}

impl Solution {
    /// Starts `binary` with its own SQLite file in `dir` and waits for `/health`.
    pub async fn start(binary: &Path, redis_url: &str, tasks: usize, dir: &Path) -> Result<Self> {
        let name = binary.file_name().context("a binary has a name")?.to_string_lossy();
        let port = processes::free_port()?;
        let mut command = std::process::Command::new(binary);
        command.current_dir(dir).env_clear().envs(environment(port, redis_url, tasks, dir));
        let mut server = Background::spawn(&name, command, dir)?;
        let base_url = format!("http://127.0.0.1:{port}");
        processes::wait_until_up(
            &format!("{base_url}/health"),
            &mut server,
            Duration::from_secs(60),
        )
        .await
        .with_context(|| format!("{name} did not start"))?;
        Ok(Self { base_url, _server: server })
    }

    /// The SQL statements the service has run so far (its `/__workbook/stats`).
    pub async fn queries(&self) -> Result<u64> {
        let stats: serde_json::Value =
            reqwest::get(format!("{}/__workbook/stats", self.base_url)).await?.json().await?;
        stats["queries"].as_u64().context("no `queries` in /__workbook/stats")
    }
}

/// The variables of the grader's contract (grader/src/contract.rs), with Django's defaults
/// where the grader draws random ones.
fn environment(port: u16, redis_url: &str, tasks: usize, dir: &Path) -> Vec<(String, String)> {
    [
        ("WORKBOOK_BIND", format!("127.0.0.1:{port}")),
        ("DATABASE_URL", format!("sqlite://{}", dir.join("db.sqlite3").display())),
        ("WORKBOOK_SEED", "1".to_owned()),
        ("WORKBOOK_TASKS", tasks.to_string()),
        ("WORKBOOK_QUERY_DELAY_MS", "0".to_owned()),
        ("REDIS_URL", redis_url.to_owned()),
        ("CACHE_KEY_PREFIX", "bench".to_owned()),
        ("CACHE_KEY_VERSION", "1".to_owned()),
        ("CACHE_DEFAULT_TIMEOUT", "300".to_owned()),
        ("SESSION_TTL", "1209600".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
        ("PATH", std::env::var("PATH").unwrap_or_default()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}
