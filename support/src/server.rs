//! Server start-up: the routes every exercise has, and graceful shutdown.
//!
//! An exercise's library builds its own [`App`] (see [`crate::app`]) and the workbook's `main`
//! hands it to [`run`]. The framework answers these paths itself, before the exercise's routes
//! see the request:
//!
//! - `GET /health`: `200` with the result of each health check the exercise registered,
//!   e.g. `{"status":"ok","checks":{"redis":"up"}}`;
//! - `GET /__workbook/stats`: the counters of [`crate::stats`], read by the grader;
//! - `POST /__workbook/hold-next-query`, `POST /__workbook/hold-next-write` and
//!   `POST /__workbook/release`: the grader's brake on one query, after it ran or before a
//!   write runs (the private `hold` module);
//! - any other `/__workbook/...`: 404.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use std::process::ExitCode;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::app::{App, BoxedCheck, Context};
use crate::config::Config;
use crate::db::connections;
use crate::stats::Stats;
use crate::{from_grader, hold};

/// How long a health check may take before it counts as down: `/health` must answer quickly
/// even when a dependency hangs.
const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Starts the service around an exercise's `app` and serves it until Ctrl-C or SIGTERM: the
/// whole of an exercise's `main`. Reads the [`Config`] from the environment, sets up logging
/// (`RUST_LOG`, `info` by default), and says what went wrong when the service cannot start.
pub fn run<F, Fut>(app: F) -> ExitCode
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = anyhow::Result<App>>,
{
    let _ = tracing_subscriber::fmt()
        // Colours for a person at a terminal; plain text in a log file (the grader's).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .try_init();
    // Before any exercise code runs: what the grader hands over is the workbook's alone.
    from_grader::read_from_stdin();
    let served = tokio::runtime::Runtime::new().map_err(anyhow::Error::from).and_then(|runtime| {
        runtime.block_on(async {
            let config = Config::from_env()?;
            // The port is the workbook's before any exercise code runs: an exercise cannot
            // listen there itself and answer the workbook's own paths in its place.
            let listener = listen(&config).await?;
            let app = app(Context::new(config)).await?;
            serve(listener, app).await
        })
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: the service stopped: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Takes the service's port (`WORKBOOK_BIND`).
async fn listen(config: &Config) -> anyhow::Result<TcpListener> {
    TcpListener::bind(config.bind).await.map_err(|err| {
        anyhow::anyhow!("cannot listen on {}: {err} (is the port in use?)", config.bind)
    })
}

/// Serves `app` behind the workbook's own routes until the process gets Ctrl-C or SIGTERM.
/// Requests that arrived while the exercise started wait on the listener until then.
async fn serve(listener: TcpListener, app: App) -> anyhow::Result<()> {
    tracing::info!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, workbook_routes(app)).with_graceful_shutdown(shutdown_signal()).await?;
    Ok(())
}

/// The workbook's paths, answered before the exercise's router sees a request: the exercise
/// is a fallback, so no route or middleware of its own can shadow or rewrite them, and every
/// other path under `/__workbook/` is the workbook's too (404).
fn workbook_routes(app: App) -> Router {
    let checks = Arc::new(app.checks);
    Router::new()
        .route("/health", get(move || health(checks.clone())))
        .route(
            "/__workbook/stats",
            get(|headers: HeaderMap| async move { Json(current_stats(&headers)) }),
        )
        .route(
            "/__workbook/hold-next-query",
            post(|headers: HeaderMap| brake(headers, hold::hold_next_query)),
        )
        .route(
            "/__workbook/hold-next-write",
            post(|headers: HeaderMap| brake(headers, hold::hold_next_write)),
        )
        .route("/__workbook/release", post(|headers: HeaderMap| brake(headers, hold::release)))
        .route("/__workbook/{*rest}", any(|| async { (StatusCode::NOT_FOUND, RESERVED) }))
        .fallback_service(app.router)
}

/// Works the brake for the grader, who sends its key; to anybody else the path does not exist.
async fn brake(headers: HeaderMap, action: fn()) -> (StatusCode, &'static str) {
    if !from_grader::admits(&headers) {
        return (StatusCode::NOT_FOUND, RESERVED);
    }
    action();
    (StatusCode::OK, "")
}

/// Why a path under `/__workbook/` that the workbook does not serve is a 404.
const RESERVED: &str = "paths under /__workbook/ belong to the workbook, not to exercises";

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

/// The counters and the gauges, as `GET /__workbook/stats` reports them: a query held by the
/// brake only to the grader (see [`from_grader`]).
fn current_stats(headers: &HeaderMap) -> Stats {
    Stats {
        connections_open: connections::open_now(),
        connections_open_peak: connections::peak(),
        queries_held: if from_grader::admits(headers) { hold::held() } else { 0 },
        ..Stats::counters()
    }
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use axum::middleware::{self, Next};
    use axum::response::IntoResponse;
    use tower::ServiceExt;

    use super::*;

    /// An exercise that tries to take the workbook's paths: its own stats, a nested router
    /// and a middleware that answers every `/__workbook` path itself.
    fn greedy_exercise() -> App {
        let router = Router::new()
            .route("/tasks", get(|| async { "the exercise's page" }))
            .route("/__workbook/stats", get(|| async { "forged" }))
            .nest("/__workbook/extra", Router::new().route("/", get(|| async { "forged" })))
            .layer(middleware::from_fn(|request: Request<Body>, next: Next| async move {
                if request.uri().path().starts_with("/__workbook") {
                    return "forged".into_response();
                }
                next.run(request).await
            }));
        App::new(router)
    }

    async fn get_text(router: Router, path: &str) -> (StatusCode, String) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn the_workbooks_paths_are_answered_before_the_exercise_sees_them() {
        let (status, stats) =
            get_text(workbook_routes(greedy_exercise()), "/__workbook/stats").await;
        assert_eq!(status, StatusCode::OK);
        let stats: Stats = serde_json::from_str(&stats).expect("the workbook's own counters");
        assert_eq!(stats.queries_held, 0);

        let (status, body) =
            get_text(workbook_routes(greedy_exercise()), "/__workbook/extra/").await;
        assert_eq!((status, body.as_str()), (StatusCode::NOT_FOUND, RESERVED));

        let (status, body) = get_text(workbook_routes(greedy_exercise()), "/tasks").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "the exercise's page"));
    }

    #[tokio::test]
    async fn only_the_grader_with_its_key_may_work_the_brake() {
        from_grader::set_for_tests("the-graders-own");
        let post = |key: Option<&str>, path: &str| {
            let mut request = Request::post(path);
            if let Some(key) = key {
                request = request.header(from_grader::HEADER, key);
            }
            workbook_routes(greedy_exercise()).oneshot(request.body(Body::empty()).unwrap())
        };
        for path in ["/__workbook/hold-next-query", "/__workbook/hold-next-write"] {
            let asked = post(None, path).await.unwrap();
            assert_eq!(asked.status(), StatusCode::NOT_FOUND, "{path} opened without the key");
            let guessed = post(Some("a-guess"), path).await.unwrap();
            assert_eq!(guessed.status(), StatusCode::NOT_FOUND, "{path} opened with a guess");
            let armed = post(Some("the-graders-own"), path).await.unwrap();
            assert_eq!(armed.status(), StatusCode::OK);
            let released = post(Some("the-graders-own"), "/__workbook/release").await.unwrap();
            assert_eq!(released.status(), StatusCode::OK);
        }
    }
}
