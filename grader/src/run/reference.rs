//! The pristine reference solution of an exercise, built once and kept, for criteria that
//! compare a submission with it in the same run.
//!
//! The binary is kept under `target/grader/reference/`, named by a hash of everything it is
//! built from, so a batch of submissions builds it once and a change to the solution or the
//! support crate builds it again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::course::{self, Exercise};
use crate::fs::LockWaits;
use crate::run::compile::{self, Build, BuildFolder, Built};

/// The longest building the reference may take (it rebuilds one crate: dependencies are built).
const BUILD_TIMEOUT: Duration = Duration::from_secs(600);

/// The reference solution's binary for `exercise`, built now if no kept copy matches.
pub async fn binary(
    exercise: &Exercise,
    folder: BuildFolder,
    waits: &LockWaits,
) -> Result<PathBuf> {
    let dir = compile::grader_dir().join("reference");
    std::fs::create_dir_all(&dir)?;
    // One builder at a time: the others wait here, then find its binary.
    let _one_at_a_time = waits.lock_file(&dir.join("reference.lock")).await?;
    let kept = dir.join(format!("{}-{}", exercise.dir_name(), fingerprint(exercise)?));
    if kept.is_file() {
        return Ok(kept);
    }
    let build_dir = tempfile::tempdir_in(&dir)?;
    let solutions = course::root().join("solutions");
    match compile::build(&solutions, exercise, BUILD_TIMEOUT, build_dir.path(), None, folder, waits)
        .await?
    {
        Build::Built(Built { binary, .. }) => {
            std::fs::rename(&binary, &kept).context("cannot keep the reference binary")?;
            Ok(kept)
        }
        Build::Failed(errors) | Build::Refused(errors) => {
            bail!("the reference solution does not build:\n{errors}")
        }
    }
}

/// A hash of the sources the reference is built from: its own, the support crate's and the
/// workspace's manifest and lock file.
fn fingerprint(exercise: &Exercise) -> Result<String> {
    let root = course::root();
    let mut files = Vec::new();
    for dir in [root.join("solutions").join(exercise.dir_name()), root.join("support")] {
        collect(&dir, &mut files)?;
    }
    files.extend([root.join("Cargo.toml"), root.join("Cargo.lock")]);
    files.sort();
    let mut hash = Sha256::new();
    for file in &files {
        hash.update(file.strip_prefix(&root).unwrap_or(file).to_string_lossy().as_bytes());
        hash.update(std::fs::read(file)?);
    }
    let digest = hash.finalize();
    Ok(digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect())
}

/// Every regular file below `dir`, skipping build output.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() && entry.file_name() != "target" {
            collect(&entry.path(), files)?;
        } else if kind.is_file() {
            files.push(entry.path());
        }
    }
    Ok(())
}
