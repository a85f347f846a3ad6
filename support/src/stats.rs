//! Counters of the work a service does, kept where exercise code cannot change them.
//!
//! A leaf: the database, the sidebar and the connection gauge count here; nothing here
//! depends on them.
//!
//! Every query that goes through [`crate::Db`] and every expensive computation marked with
//! [`count_computation`] bumps a counter here. The grader reads them from
//! `GET /__workbook/stats` (answered by [`crate::server`] before any exercise route sees the
//! request) to tell whether a cache really saved work.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// The header the grader sends its key in, on every request to a `/__workbook/` path: the
/// key opens the race brake and shows a held query (see the private `grader_key` module).
pub const GRADER_KEY_HEADER: &str = "x-workbook-grader-key";

static QUERIES: AtomicU64 = AtomicU64::new(0);
static CONNECTIONS_OPENED: AtomicU64 = AtomicU64::new(0);
static COMPUTATIONS: AtomicU64 = AtomicU64::new(0);

/// A snapshot of the counters since the process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// SQL statements run against the database.
    pub queries: u64,
    /// Database connections opened.
    pub connections_opened: u64,
    /// Expensive computations performed (see [`count_computation`]).
    pub computations: u64,
    /// Database connections open at the moment of reading (see `db::connections`).
    #[serde(default)]
    pub connections_open: u64,
    /// The most database connections that were ever open at the same time.
    #[serde(default)]
    pub connections_open_peak: u64,
    /// Queries the grader is holding at the moment of reading (see `hold`).
    #[serde(default)]
    pub queries_held: u64,
}

impl Stats {
    /// Reads the counters; the gauges, which other modules keep, are left at zero (the
    /// server fills them in for `GET /__workbook/stats`).
    pub(crate) fn counters() -> Self {
        Self {
            queries: QUERIES.load(Ordering::SeqCst),
            connections_opened: CONNECTIONS_OPENED.load(Ordering::SeqCst),
            computations: COMPUTATIONS.load(Ordering::SeqCst),
            ..Self::default()
        }
    }

    /// What happened between `earlier` and `self` (the gauges keep their later values).
    pub fn since(&self, earlier: &Stats) -> Stats {
        Stats {
            queries: self.queries.saturating_sub(earlier.queries),
            connections_opened: self.connections_opened.saturating_sub(earlier.connections_opened),
            computations: self.computations.saturating_sub(earlier.computations),
            connections_open: self.connections_open,
            connections_open_peak: self.connections_open_peak,
            queries_held: self.queries_held,
        }
    }
}

/// Records that an expensive computation ran (the thing a cache is meant to avoid repeating).
pub(crate) fn count_computation() {
    COMPUTATIONS.fetch_add(1, Ordering::SeqCst);
}

pub(crate) fn count_query() {
    QUERIES.fetch_add(1, Ordering::SeqCst);
}

pub(crate) fn count_connection() {
    CONNECTIONS_OPENED.fetch_add(1, Ordering::SeqCst);
}
