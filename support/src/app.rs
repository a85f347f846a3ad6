//! The contract between an exercise and the workbook: the exercise's library exposes
//!
//! ```ignore
//! pub async fn app(context: workbook::Context) -> anyhow::Result<workbook::App>
//! ```
//!
//! and the workbook's `main` (the same in every exercise, and not yours to edit) starts the
//! service around it with [`crate::run`]. Your `app` builds what the service needs (settings,
//! the Redis connection, the database) from the [`Context`] and returns its routes and health
//! checks as an [`App`]. The paths the grader measures with (`/health`, `/__workbook/*`) stay
//! the workbook's: they are answered before your routes ever see a request.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;

use crate::config::Config;

/// What an exercise's `app` is given.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Context {
    /// The settings every exercise shares (where to listen, the database, the seed).
    pub config: Config,
}

impl Context {
    /// The context of a service configured by `config`.
    pub fn new(config: Config) -> Self {
        Self { config }
    }
}

/// The answer of one health check: `Ok` when the dependency is up, `Err(reason)` otherwise.
pub type HealthResult = Result<(), String>;

pub(crate) type BoxedCheck =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = HealthResult> + Send>> + Send + Sync>;

/// What an exercise's `app` returns: its routes, and the checks `GET /health` reports.
pub struct App {
    pub(crate) router: Router,
    pub(crate) checks: Vec<(String, BoxedCheck)>,
}

impl App {
    /// An app serving `router`, with no health checks yet.
    pub fn new(router: Router) -> Self {
        Self { router, checks: Vec::new() }
    }

    /// Adds a check reported by `GET /health` under `name`, e.g. `"redis"`.
    pub fn health_check<F, Fut>(mut self, name: &str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HealthResult> + Send + 'static,
    {
        let boxed: BoxedCheck = Arc::new(move || Box::pin(check()));
        self.checks.push((name.to_owned(), boxed));
        self
    }
}
