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
}
