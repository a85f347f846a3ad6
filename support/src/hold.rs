//! A brake the grader can put on one query, to replay a race step by step.
//!
//! Some bugs only show when two requests overlap in a particular order, such as a slow reader
//! that read the database *before* a write and stores its result in the cache *after* the
//! writer invalidated it. Timing cannot produce that order reliably; this module can:
//!
//! 1. `POST /__workbook/hold-next-query` arms the brake;
//! 2. the next query that runs through [`crate::Db`] does its work, then waits (its rows are
//!    read, the request has not gone on yet); `GET /__workbook/stats` shows `queries_held: 1`;
//! 3. the grader sends the write it wants to overlap;
//! 4. `POST /__workbook/release` lets the held query return, and its request carries on.
//!
//! The race the other way round, a read that overlaps a write *before* the write reaches the
//! database, is `POST /__workbook/hold-next-write`: the next `INSERT`, `UPDATE` or `DELETE`
//! waits before it runs, while the grader sends its read.
//!
//! Exercise code never calls this module: [`crate::server`] answers both paths itself.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// The longest a query is held when nobody releases it: a forgotten brake must not hang a
/// service for ever.
const LONGEST_HOLD: Duration = Duration::from_secs(30);

/// The service's one brake.
static BRAKE: Brake = Brake::new();

/// Holds the next query that finishes, until [`release`].
pub fn hold_next_query() {
    BRAKE.arm();
}

/// Holds the next write (`INSERT`, `UPDATE`, `DELETE`) before it runs, until [`release`].
pub fn hold_next_write() {
    BRAKE.arm_before_write();
}

/// Lets every held query return, and disarms a brake that caught nothing.
pub fn release() {
    BRAKE.release();
}

/// Queries waiting for [`release`] right now.
pub fn held() -> u64 {
    BRAKE.held()
}

/// Called by [`crate::Db`] after each query: waits here if the brake is armed for it.
pub(crate) async fn after_query() {
    BRAKE.after_query().await;
}

/// Called by [`crate::Db`] before each write: waits here if the brake is armed for it.
pub(crate) async fn before_write() {
    BRAKE.before_write().await;
}

struct Brake {
    armed: AtomicBool,
    armed_before_write: AtomicBool,
    held: AtomicU64,
    /// Bumped by every release; a held query waits for it to change.
    releases: OnceLock<watch::Sender<u64>>,
}

impl Brake {
    const fn new() -> Self {
        Self {
            armed: AtomicBool::new(false),
            armed_before_write: AtomicBool::new(false),
            held: AtomicU64::new(0),
            releases: OnceLock::new(),
        }
    }

    fn releases(&self) -> &watch::Sender<u64> {
        self.releases.get_or_init(|| watch::channel(0).0)
    }

    fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    fn arm_before_write(&self) {
        self.armed_before_write.store(true, Ordering::SeqCst);
    }

    fn release(&self) {
        self.armed.store(false, Ordering::SeqCst);
        self.armed_before_write.store(false, Ordering::SeqCst);
        self.releases().send_modify(|count| *count += 1);
    }

    fn held(&self) -> u64 {
        self.held.load(Ordering::SeqCst)
    }

    async fn after_query(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.hold().await;
        }
    }

    async fn before_write(&self) {
        if self.armed_before_write.swap(false, Ordering::SeqCst) {
            self.hold().await;
        }
    }

    /// Waits for the next [`Brake::release`] (or [`LONGEST_HOLD`]), counted as held.
    async fn hold(&self) {
        let mut released = self.releases().subscribe();
        self.held.fetch_add(1, Ordering::SeqCst);
        let _ = tokio::time::timeout(LONGEST_HOLD, released.changed()).await;
        self.held.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_held_before_it_runs_waits_for_its_release_and_reads_pass() {
        static TEST_BRAKE: Brake = Brake::new();
        TEST_BRAKE.arm_before_write();
        // Reads go by: only a write is caught.
        TEST_BRAKE.after_query().await;
        let write = tokio::spawn(TEST_BRAKE.before_write());
        while TEST_BRAKE.held() == 0 {
            tokio::task::yield_now().await;
        }
        TEST_BRAKE.before_write().await;
        assert!(!write.is_finished());
        TEST_BRAKE.release();
        write.await.unwrap();
        assert_eq!(TEST_BRAKE.held(), 0);
    }

    #[tokio::test]
    async fn a_held_query_waits_for_its_release() {
        static TEST_BRAKE: Brake = Brake::new();
        TEST_BRAKE.arm();
        let query = tokio::spawn(TEST_BRAKE.after_query());
        while TEST_BRAKE.held() == 0 {
            tokio::task::yield_now().await;
        }
        // Only one query is caught: the next one goes straight through.
        TEST_BRAKE.after_query().await;
        assert!(!query.is_finished());
        TEST_BRAKE.release();
        query.await.unwrap();
        assert_eq!(TEST_BRAKE.held(), 0);
    }
}
