//! Where builds write: the workspace's own `target/` or a slot's private folder, and
//! what a private folder must forget between two students.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::grader_dir;
use super::slot::Slot;
use crate::course;
use crate::run::users::Reach;

/// Where a build's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildFolder {
    /// The workspace's own `target/`, for grading one's own work: `cargo run -p grader` and the
    /// student's own `cargo build` compiled every dependency there already (the
    /// `workspace-hack` crate gives all members one set of features), so none is compiled twice.
    Workspace,
    /// A private folder of the grader's, the slot's (`target/grader/build` for the first), for
    /// grading other people's code (a class): it holds no binary but the submissions'.
    Private(Slot),
}

impl BuildFolder {
    /// The slot whose stage and lock a build here uses: the workspace's `target/` is the
    /// first slot's, as the grader's folder is inside it.
    pub(super) fn slot(self) -> Slot {
        match self {
            BuildFolder::Workspace => Slot::FIRST,
            BuildFolder::Private(slot) => slot,
        }
    }

    /// The folder, and the parts of it a build writes: what a run user is lent for its build.
    pub(super) fn paths(self) -> Result<(PathBuf, Vec<(PathBuf, Reach)>)> {
        match self {
            BuildFolder::Workspace => {
                let grader = grader_dir();
                let target = grader.parent().context("the grader's folder has no parent")?;
                let profile = target.join("debug");
                std::fs::create_dir_all(&profile)?;
                // Cargo writes its notes at the top and its output in `debug/`; the rest of
                // `target/` (the grader's own folders) stays the grader's.
                Ok((
                    target.to_owned(),
                    vec![(target.to_owned(), Reach::Folder), (profile, Reach::Tree)],
                ))
            }
            BuildFolder::Private(slot) => {
                let own = slot.build_folder();
                std::fs::create_dir_all(&own)?;
                keep_private(&own)?;
                Ok((own.clone(), vec![(own, Reach::Tree)]))
            }
        }
    }
}

/// Removes what earlier builds compiled from submissions (each exercise's binary, library,
/// incremental cache and fingerprint) from a private build folder, before a build whose jail
/// shows that folder: a build must never find another student's code, even compiled. The
/// dependencies' outputs stay, so nothing but the exercise's own crate is compiled again.
pub(super) fn forget_earlier_submissions(target: &Path) -> Result<()> {
    let debug = target.join("debug");
    for exercise in course::exercises() {
        let package = exercise.package();
        let krate = package.replace('-', "_");
        for (folder, prefixes) in [
            (debug.clone(), vec![package.clone(), format!("{package}.d")]),
            (debug.join("deps"), vec![format!("{krate}-"), format!("lib{krate}-")]),
            (debug.join(".fingerprint"), vec![format!("{package}-")]),
            (debug.join("incremental"), vec![format!("{krate}-")]),
        ] {
            remove_entries_named(&folder, &prefixes)?;
        }
    }
    Ok(())
}

/// Removes every entry of `folder` whose name is one of `names` or, for those ending in `-`,
/// starts with it. Links are removed themselves, never followed.
fn remove_entries_named(folder: &Path, names: &[String]) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(folder) else { return Ok(()) };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let matches = names.iter().any(|wanted| {
            if wanted.ends_with('-') { name.starts_with(wanted.as_str()) } else { name == *wanted }
        });
        if !matches {
            continue;
        }
        let path = entry.path();
        let removed = if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| format!("cannot remove {}", path.display()))?;
    }
    Ok(())
}

/// Makes `dir` the grader's alone: no run user may list or read what other runs left there.
pub(super) fn keep_private(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make {} private", dir.display()))
}
