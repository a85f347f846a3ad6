//! Server start-up: the routes every exercise has, and graceful shutdown.
//!
//! An exercise builds its own [`Router`] and hands it to [`Service::serve`]. The framework
//! answers two paths itself, before the exercise's routes see the request:
//!
//! - `GET /health`: `200` with the result of each health check the exercise registered,
//!   e.g. `{"status":"ok","checks":{"redis":"up"}}`;
//! - `GET /__workbook/stats`: the counters of [`crate::stats`], read by the grader;
//! - `POST /__workbook/hold-next-query` and `POST /__workbook/release`: see [`crate::hold`].

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::db::connections;
use crate::hold;
use crate::stats::Stats;

/// The answer of one health check: `Ok` when the dependency is up, `Err(reason)` otherwise.
pub type HealthResult = Result<(), String>;

type BoxedCheck = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = HealthResult> + Send>> + Send + Sync>;

/// How long a health check may take before it counts as down: `/health` must answer quickly
/// even when a dependency hangs.
const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// A service about to start: its configuration and health checks.
pub struct Service {
    config: Config,
    checks: Vec<(String, BoxedCheck)>,
}

impl Service {
    /// Prepares a service and sets up logging (`RUST_LOG` picks the level, `info` by default).
    pub fn new(config: &Config) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info".into()),
            )
            .try_init();
        Self { config: config.clone(), checks: Vec::new() }
    }

    /// Adds a check reported by `/health` under `name`.
    pub fn health_check<F, Fut>(mut self, name: &str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HealthResult> + Send + 'static,
    {
        let boxed: BoxedCheck = Arc::new(move || Box::pin(check()));
        self.checks.push((name.to_owned(), boxed));
        self
    }

    /// Serves `app` until the process gets Ctrl-C or SIGTERM.
    pub async fn serve(self, app: Router) -> anyhow::Result<()> {
        let checks = Arc::new(self.checks);
        let router = Router::new()
            .route("/health", get(move || health(checks.clone())))
            .route("/__workbook/stats", get(|| async { Json(current_stats()) }))
            .route("/__workbook/hold-next-query", post(|| async { hold::hold_next_query() }))
            .route("/__workbook/release", post(|| async { hold::release() }))
            .fallback_service(app);
        let listener = TcpListener::bind(self.config.bind).await.map_err(|err| {
            anyhow::anyhow!("cannot listen on {}: {err} (is the port in use?)", self.config.bind)
        })?;
        tracing::info!("listening on http://{}", listener.local_addr()?);
        axum::serve(listener, router).with_graceful_shutdown(shutdown_signal()).await?;
        Ok(())
    }
}

async fn health(checks: Arc<Vec<(String, BoxedCheck)>>) -> Json<Value> {
    let mut results = BTreeMap::new();
    for (name, check) in checks.iter() {
        let state = match tokio::time::timeout(HEALTH_CHECK_TIMEOUT, check()).await {
            Ok(Ok(())) => "up".to_owned(),
            Ok(Err(reason)) => format!("down: {reason}"),
            Err(_) => "down: the check timed out".to_owned(),
        };
        results.insert(name.clone(), state);
    }
    let all_up = results.values().all(|state| state == "up");
    Json(json!({
        "status": if all_up { "ok" } else { "degraded" },
        "checks": results,
    }))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// The counters and the gauges, as `GET /__workbook/stats` reports them.
fn current_stats() -> Stats {
    Stats {
        connections_open: connections::open_now(),
        connections_open_peak: connections::peak(),
        queries_held: hold::held(),
        ..Stats::counters()
    }
}
