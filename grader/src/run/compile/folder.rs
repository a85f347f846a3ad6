//! Where builds write: the workspace's own `target/` or a slot's private folder.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::grader_dir;
use super::slot::Slot;
use super::tidy::keep_private;
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
    /// What cargo is told for builds here, beyond the manifests. A private folder builds
    /// each submission from nothing of it (earlier submissions are forgotten): an incremental
    /// cache would only be written, never read, and debug information only linked (a panic's
    /// message names its file and line without it). Both off halve an exercise's build. The
    /// workspace's own `target/` keeps cargo's defaults, which the student's `cargo build`
    /// shares with the grader: other settings there would rebuild the crates each time.
    pub(super) fn cargo_settings(self) -> &'static [(&'static str, &'static str)] {
        match self {
            BuildFolder::Workspace => &[],
            BuildFolder::Private(_) => {
                &[("CARGO_INCREMENTAL", "0"), ("CARGO_PROFILE_DEV_DEBUG", "0")]
            }
        }
    }

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
