//! Build slots: places where one build at a time runs, so that a batch's jobs build side by
//! side instead of taking turns.
//!
//! Cargo tells a workspace's members apart by their path inside it, so a target folder serves
//! one stage; a slot is that pair (a stage and a private build folder) with the lock that keeps
//! one build in it at a time. A new slot starts from a copy of the first slot's build folder,
//! made in seconds where compiling takes minutes: cargo finds every dependency fresh there, as
//! the copy keeps the files' modification times and no fingerprint names the folder. Each slot
//! costs its own disk space (some 600 MiB).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::grader_dir;
use super::stage::write_if_changed;
use super::tidy::forget_earlier_submissions;
use crate::fs::LockWaits;

/// One place to build in: a stage, a private build folder, and the lock that lets one build
/// use them at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot(usize);

impl Slot {
    /// The slot of a single grading: a self-check, `--watch`, `grader warm-up`, Gradescope.
    pub const FIRST: Slot = Slot(0);

    /// The first `count` slots, at least one: a slot for each of a batch's jobs.
    pub fn first(count: usize) -> Vec<Slot> {
        (0..count.max(1)).map(Slot).collect()
    }

    /// The slot's folder: `target/grader` for the first, where the grader has always built
    /// (so a warmed Gradescope image and a self-check find it), `target/grader/slot-N` after.
    fn dir(self) -> PathBuf {
        match self.0 {
            0 => grader_dir(),
            n => grader_dir().join(format!("slot-{n}")),
        }
    }

    pub(super) fn stage(self) -> PathBuf {
        self.dir().join("stage")
    }

    /// Held for the whole of a build: its staging, the build, the copy of its binary.
    pub(super) fn lock(self) -> Result<PathBuf> {
        let dir = self.dir();
        std::fs::create_dir_all(&dir)?;
        Ok(dir.join("build.lock"))
    }

    /// The slot's private build folder (see [`super::BuildFolder::Private`]).
    pub(super) fn build_folder(self) -> PathBuf {
        self.dir().join("build")
    }

    /// Gives a slot other than the first what the first slot's fetch and builds made: the
    /// stage's `Cargo.lock` (the fetch writes it in the first stage only) and, for a slot
    /// without a build folder yet, a copy of the first slot's, so that its dependencies are
    /// copied in seconds rather than compiled in minutes. The caller holds this slot's lock.
    pub(super) async fn take_from_first(self, waits: &LockWaits) -> Result<()> {
        if self == Slot::FIRST {
            return Ok(());
        }
        let first = Slot::FIRST;
        // No build writes in the first slot while it is copied.
        let _first_is_still = waits.lock_file(&first.lock()?).await?;
        std::fs::create_dir_all(self.stage())?;
        let lock_file = first.stage().join("Cargo.lock");
        if lock_file.is_file() {
            write_if_changed(&self.stage().join("Cargo.lock"), &std::fs::read(&lock_file)?)?;
        }
        let (from, to) = (first.build_folder(), self.build_folder());
        if from.join("debug").is_dir() && !to.exists() {
            // Copied aside, then renamed: a copy cut short (a killed grader) is never taken
            // for a whole one.
            let copying = self.dir().join("build.copying");
            if copying.exists() {
                std::fs::remove_dir_all(&copying)?;
            }
            copy_tree(&from, &copying)
                .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
            // The dependencies are what is wanted: no student's compiled code changes slots.
            forget_earlier_submissions(&copying)?;
            std::fs::rename(&copying, &to)?;
        }
        Ok(())
    }
}

/// Copies the folder `from` to `to`, which must not exist: folders, and regular files with
/// their permissions and modification times (by which cargo tells what is fresh). Links are
/// left out, never followed: run users wrote in `from`, and the grader copying is root.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        // The entry's own type: a link is a link, not what it points to.
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            copy_file(&entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Copies one regular file, opened without following a link (one could have replaced it since
/// its folder was listed), to a new file with the same permissions and modification time.
fn copy_file(from: &Path, to: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut source =
        std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(from)?;
    let metadata = source.metadata()?;
    let mut copy = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(metadata.permissions().mode())
        .open(to)?;
    std::io::copy(&mut source, &mut copy)?;
    copy.set_modified(metadata.modified()?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_slot_is_the_grader_folder_and_each_other_has_its_own() {
        let slots = Slot::first(3);
        assert_eq!(slots[0].stage(), grader_dir().join("stage"));
        assert_eq!(slots[0].build_folder(), grader_dir().join("build"));
        assert_eq!(slots[2].build_folder(), grader_dir().join("slot-2/build"));
        assert_ne!(slots[1].stage(), slots[2].stage());
        assert_eq!(Slot::first(0), vec![Slot::FIRST]);
    }

    #[test]
    fn a_copied_tree_keeps_files_and_their_times_and_leaves_links_out() {
        let from = tempfile::tempdir().unwrap();
        std::fs::create_dir(from.path().join("deps")).unwrap();
        let library = from.path().join("deps/libserde.rlib");
        std::fs::write(&library, "compiled").unwrap();
        let long_ago = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30);
        std::fs::File::options()
            .write(true)
            .open(&library)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        std::os::unix::fs::symlink("/etc/shadow", from.path().join("deps/stolen")).unwrap();
        std::os::unix::fs::symlink("/root", from.path().join("elsewhere")).unwrap();
        let to = tempfile::tempdir().unwrap();
        let copy = to.path().join("build");

        copy_tree(from.path(), &copy).unwrap();

        let copied = copy.join("deps/libserde.rlib");
        assert_eq!(std::fs::read_to_string(&copied).unwrap(), "compiled");
        assert_eq!(std::fs::metadata(&copied).unwrap().modified().unwrap(), long_ago);
        for link in ["deps/stolen", "elsewhere"] {
            assert!(std::fs::symlink_metadata(copy.join(link)).is_err(), "{link} was copied");
        }
    }
}
