//! Settings shared by every exercise, read from the environment.
//!
//! The grader starts each exercise with these variables set; when you run an exercise by hand
//! the defaults below give you a working local setup. Cache settings (`REDIS_URL`,
//! `CACHE_KEY_PREFIX`, ...) are not here on purpose: reading them is part of exercise 1.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};

/// What the framework needs to start a service.
#[derive(Debug, Clone)]
pub struct Config {
    /// `WORKBOOK_BIND`: where the HTTP server listens.
    pub bind: SocketAddr,
    /// `DATABASE_URL`: the database, created and seeded on first start: `sqlite://FILE` (the
    /// default) or `postgres://USER@HOST/DATABASE`.
    pub database_url: String,
    /// `WORKBOOK_SEED`: the seed of the generated users, categories and tasks.
    pub seed: u64,
    /// `WORKBOOK_TASKS`: how many tasks the seed data holds.
    pub tasks: usize,
    /// `WORKBOOK_QUERY_DELAY_MS`: a pause added to every query, to make the database slow on
    /// purpose so that the effect of a cache is easy to see.
    pub query_delay: Duration,
}

impl Config {
    /// Reads the configuration, falling back to defaults for local development.
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            bind: var_or("WORKBOOK_BIND", "127.0.0.1:8000")?,
            database_url: std::env::var("DATABASE_URL")
                .unwrap_or_else(|_| "sqlite://workbook.sqlite3".to_owned()),
            seed: var_or("WORKBOOK_SEED", "1")?,
            tasks: var_or("WORKBOOK_TASKS", "200")?,
            query_delay: Duration::from_millis(var_or("WORKBOOK_QUERY_DELAY_MS", "0")?),
        })
    }
}

/// Parses an environment variable, or the default when it is unset.
pub fn var_or<T>(name: &str, default: &str) -> Result<T>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let raw = std::env::var(name).unwrap_or_else(|_| default.to_owned());
    raw.parse().with_context(|| format!("environment variable {name}={raw:?} is not valid"))
}
