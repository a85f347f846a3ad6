//! The slowest recent requests, kept in memory: silk's request list without the database.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// How many recent requests are remembered.
const REMEMBERED: usize = 500;
/// How many of them the page shows.
const SHOWN: usize = 20;

/// What the page shows about one request.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub total_ms: f64,
    pub db_ms: f64,
    pub cache_ms: f64,
    pub queries: u64,
}

/// A shared, bounded log of recent requests; clones share it.
#[derive(Clone, Default)]
pub struct SlowLog {
    recent: Arc<Mutex<VecDeque<RequestRecord>>>,
}

impl SlowLog {
    // ANCHOR: slow_log
    /// Remembers `record`, forgetting the oldest one when the log is full.
    pub fn record(&self, record: RequestRecord) {
        let mut recent = self.lock();
        if recent.len() == REMEMBERED {
            recent.pop_front();
        }
        recent.push_back(record);
    }

    /// The slowest of the recent requests, slowest first.
    pub fn slowest(&self) -> Vec<RequestRecord> {
        let mut records: Vec<RequestRecord> = self.lock().iter().cloned().collect();
        records.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
        records.truncate(SHOWN);
        records
    }
    // ANCHOR_END: slow_log

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<RequestRecord>> {
        // A panic elsewhere must not take the profiler down with it.
        self.recent.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
