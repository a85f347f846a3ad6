//! Request profiling: a `Server-Timing` header on every answer, and a record for the
//! slow-request page. The counterpart of django-silk, small enough to read in one go.
//!
//! The database numbers come from [`workbook::profile`], which sees every query the request
//! runs; the cache time is measured here, around each Redis command ([`time_cache`]).

use std::cell::Cell;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use workbook::profile::{QueryProfile, profiled};

use crate::slow_log::{RequestRecord, SlowLog};

// ANCHOR: todo_server_timing
tokio::task_local! {
    /// Time the current request has spent waiting for Redis.
    static CACHE_TIME: Cell<Duration>;
}

/// Runs a Redis command, adding its duration to the current request's cache time.
pub async fn time_cache<T>(command: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let output = command.await;
    // Outside a request (e.g. a health check) there is no profile to add to.
    let _ = CACHE_TIME.try_with(|total| total.set(total.get() + started.elapsed()));
    output
}

// ANCHOR: middleware
/// Middleware: profiles the request, adds `Server-Timing` and records it in the slow log.
pub async fn server_timing(
    State(slow_log): State<SlowLog>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let (method, path) = (request.method().to_string(), request.uri().path().to_owned());
    let handle = CACHE_TIME.scope(Cell::new(Duration::ZERO), async {
        let response = next.run(request).await;
        (response, CACHE_TIME.with(Cell::get))
    });
    let ((mut response, cache_time), db) = profiled(handle).await;
    let total = started.elapsed();

    let header = timing_header(&db, cache_time, total);
    if let Ok(value) = HeaderValue::from_str(&header) {
        response.headers_mut().insert("server-timing", value);
    }
    slow_log.record(RequestRecord {
        method,
        path,
        status: response.status().as_u16(),
        total_ms: millis(total),
        db_ms: millis(db.db_time),
        cache_ms: millis(cache_time),
        queries: db.queries,
    });
    response
}
// ANCHOR_END: middleware

// ANCHOR: header
/// `db;dur=12.50;desc="3 queries", cache;dur=0.40, total;dur=13.20`: durations in
/// milliseconds, as the browser's developer tools expect them.
fn timing_header(db: &QueryProfile, cache_time: Duration, total: Duration) -> String {
    format!(
        "db;dur={:.2};desc=\"{} queries\", cache;dur={:.2}, total;dur={:.2}",
        millis(db.db_time),
        db.queries,
        millis(cache_time),
        millis(total)
    )
}
// ANCHOR_END: header

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
// ANCHOR_END: todo_server_timing
