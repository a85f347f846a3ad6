//! Files the grader writes for others to read: atomically, and under a lock where several
//! graders may share them.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

/// Writes `content` to `path` so that readers see the old file or the new one, never a part.
pub fn write_atomically(path: &Path, content: &[u8]) -> Result<()> {
    let dir = path.parent().context("a file has a folder")?;
    std::fs::create_dir_all(dir)?;
    let mut temporary = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {} (is the disk full?)", dir.display()))?;
    std::io::Write::write_all(&mut temporary, content)
        .with_context(|| format!("cannot write {} (is the disk full?)", path.display()))?;
    temporary.persist(path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// Waits for an exclusive lock on `path`, held until the returned file is dropped. Polls,
/// so that waiting never blocks the runtime's thread.
pub async fn lock_file(path: &Path) -> Result<File> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    while file.try_lock().is_err() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(file)
}

/// Time a grading run spent waiting for the grader's own locks (one build at a time, across
/// every grader on the machine): the grader's doing, so never charged against a submission's
/// time limit. Shared by the run and whoever enforces that limit.
#[derive(Debug, Clone, Default)]
pub struct LockWaits(std::sync::Arc<std::sync::Mutex<Waited>>);

#[derive(Debug, Default)]
struct Waited {
    finished: Duration,
    waiting_since: Option<tokio::time::Instant>,
}

impl LockWaits {
    /// Like [`lock_file`], counting the time spent waiting.
    pub async fn lock_file(&self, path: &Path) -> Result<File> {
        self.state().waiting_since = Some(tokio::time::Instant::now());
        let locked = lock_file(path).await;
        let mut state = self.state();
        if let Some(since) = state.waiting_since.take() {
            state.finished += since.elapsed();
        }
        locked
    }

    /// All the waiting so far, including a wait still going on.
    pub fn total(&self) -> Duration {
        let state = self.state();
        state.finished + state.waiting_since.map_or(Duration::ZERO, |since| since.elapsed())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Waited> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Runs `future` for at most `limit`, not counting the time it spends in `waits`: `None` when
/// it ran out of time.
pub async fn within_limit<F: std::future::Future>(
    limit: Duration,
    waits: &LockWaits,
    future: F,
) -> Option<F::Output> {
    let start = tokio::time::Instant::now();
    let mut future = std::pin::pin!(future);
    loop {
        let deadline = start + limit + waits.total();
        tokio::select! {
            output = &mut future => return Some(output),
            _ = tokio::time::sleep_until(deadline) => {
                // A wait that went on meanwhile moved the deadline: sleep again.
                if tokio::time::Instant::now() >= start + limit + waits.total() {
                    return None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deeper/file.txt");
        write_atomically(&path, b"a long first version").unwrap();
        write_atomically(&path, b"short").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "short");
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    #[tokio::test]
    async fn a_lock_is_held_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.lock");
        let held = lock_file(&path).await.unwrap();
        let waiting = tokio::spawn({
            let path = path.clone();
            async move { lock_file(&path).await.map(drop) }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "a second locker waits");
        drop(held);
        tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap().unwrap();
    }

    #[tokio::test]
    async fn waiting_for_a_lock_does_not_count_against_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("build.lock");
        let neighbour = lock_file(&lock).await.unwrap();
        let waits = LockWaits::default();
        // The neighbour holds the lock for 600 ms; the job itself takes 300 ms of a 400 ms limit.
        let release = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(600)).await;
            drop(neighbour);
        });
        let job = async {
            let _lock = waits.lock_file(&lock).await.unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
        };
        assert!(within_limit(Duration::from_millis(400), &waits, job).await.is_some());
        assert!(waits.total() >= Duration::from_millis(500), "{:?}", waits.total());
        release.await.unwrap();

        let slow = tokio::time::sleep(Duration::from_millis(600));
        assert!(
            within_limit(Duration::from_millis(200), &LockWaits::default(), slow).await.is_none()
        );
    }
}
