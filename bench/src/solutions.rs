//! The reference solutions, built with `--release` and started the way the grader starts
//! them: configured by environment variables only.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use grader::run::contract::Contract;

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
    /// `redis_base_url` is `redis://HOST:PORT`; `redis_db` the database the service uses.
    pub async fn start(
        binary: &Path,
        redis_base_url: &str,
        redis_db: u8,
        tasks: usize,
        dir: &Path,
    ) -> Result<Self> {
        let name = binary.file_name().context("a binary has a name")?.to_string_lossy();
        let port = processes::free_port()?;
        let mut command = std::process::Command::new(binary);
        command.current_dir(dir).env_clear().envs(environment(
            port,
            redis_base_url,
            redis_db,
            tasks,
            dir,
        ));
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

/// The grader's contract ([`Contract::environment`]), with Django's defaults where the grader
/// draws random ones, and quiet logs.
fn environment(
    port: u16,
    redis_base_url: &str,
    redis_db: u8,
    tasks: usize,
    dir: &Path,
) -> Vec<(String, String)> {
    let contract = Contract {
        seed: 1,
        redis_db,
        key_prefix: "bench".to_owned(),
        key_version: 1,
        default_timeout: 300,
        session_ttl: 1_209_600,
        tasks,
        query_delay_ms: 0,
    };
    let database_url = format!("sqlite://{}", dir.join("db.sqlite3").display());
    let mut environment = contract.environment(redis_base_url, port, &database_url);
    // Quiet services: the bench measures them, nobody reads their logs.
    environment.push(("RUST_LOG".to_owned(), "warn".to_owned()));
    environment
}
