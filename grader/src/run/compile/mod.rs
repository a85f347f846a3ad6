//! Building a submission's exercise against the pristine workbook.
//!
//! The *stage* ([`stage`]) is a small Cargo workspace in the grader's own target folder: the
//! pristine workspace manifest and `Cargo.lock`, the pristine manifest of each exercise, and the
//! submission's `src/` (and `templates/`). Nothing else of the submission is used, so it cannot
//! add crates, build scripts or change the support crate; a submission whose `Cargo.toml` asks
//! for more is warned that it is ignored ([`warnings`]).
//!
//! The build is `--frozen` ([`cargo`]): offline and locked to the instructor's `Cargo.lock`. The
//! grader fetches the dependencies itself beforehand ([`fetch`]), on the machine's network.
//! After the build, cargo's dep-info lists every file the compiler read; one outside the
//! exercise (`include_str!("/home/…/another-student/…")`) refuses the build ([`audit`]). A
//! failed build is told in words the student can act on ([`failure`]).
//!
//! A build runs in a slot ([`slot`]): a stage, a target folder and a lock, so that syncing a
//! submission into the stage, building it and copying its binary out is one build's alone
//! (cargo tells crates apart by their path inside the workspace, so two stages could not share a
//! target folder). A self-check, `--watch` and Gradescope use the first slot; a batch gives each
//! of its jobs one, so that its builds overlap. Every slot's dependencies are compiled once, and
//! a re-grade rebuilds one crate.

mod audit;
mod cargo;
mod failure;
mod fetch;
mod folder;
mod slot;
mod stage;
mod tidy;
mod warnings;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::course::{self, Exercise};
use crate::fs::LockWaits;
use crate::run::bwrap;
use crate::run::diagnostics::Warning;
use crate::run::sandbox::{Ended, Limits, Sandboxed};
use crate::run::users::{self, Reach, RunUser};
use cargo::{Toolchain, cargo_build};
use failure::SecondLook;
pub use fetch::fetch_dependencies;
pub use folder::BuildFolder;
pub use slot::Slot;
use stage::Staged;
pub use warnings::workbook_file_warnings;
// For the property tests over everything a submission supplies.
#[cfg(test)]
pub(crate) use {audit::dep_info_files, warnings::manifest_without_name};

/// The folders of an exercise that are the student's to write.
pub const STUDENT_DIRS: &[&str] = &["src", "templates"];

/// The binary's source, the workbook's own like `Cargo.toml`: it starts the service around the
/// student's library and serves the routes the grader measures with. Always the pristine copy.
pub const WORKBOOK_MAIN: &str = "src/main.rs";

/// The grader's own build area: `target/grader`, so that it never waits on an editor's cargo.
pub fn grader_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| course::root().join("target"));
    target.join("grader")
}

/// The result of building one exercise.
pub enum Build {
    Built(Built),
    /// The compiler's complaint, or why the build was refused, ready to show the student.
    Failed(String),
    /// The submission's exercise breaks a staging rule (a linked folder, too many files):
    /// never built, and why, ready to show the student.
    Refused(String),
}

/// A successful build.
pub struct Built {
    /// The binary, copied into the run's own folder.
    pub binary: PathBuf,
    /// What staging left out, in words for the student.
    pub left_out: Vec<String>,
    /// The compiler's warnings about the student's crate.
    pub warnings: Vec<Warning>,
}

/// Builds `exercise` from `submission` as `builder` (the run's user; the grader's when `None`)
/// and returns a copy of its binary in `run_dir`, a folder of the grader's own, or the
/// compiler's errors.
/// Waiting for the slot's lock is counted in `waits`, so that it is never charged to the
/// submission.
pub async fn build(
    submission: &Path,
    exercise: &Exercise,
    timeout: Duration,
    run_dir: &Path,
    builder: Option<RunUser>,
    folder: BuildFolder,
    waits: &LockWaits,
) -> Result<Build> {
    let _one_build_at_a_time = waits.lock_file(&folder.slot().lock()?).await?;
    let stage = folder.slot().stage();
    let left_out = match stage::prepare(&stage, Some((submission, exercise)))? {
        Staged::Ready(left_out) => left_out,
        Staged::Refused(reason) => return Ok(Build::Refused(reason)),
    };
    let (target, lent) = folder.paths()?;
    if let BuildFolder::Private(_) = folder {
        tidy::forget_earlier_submissions(&target)?;
    }
    let toolchain = Toolchain::find().await?;
    // The run's own user compiles, never root: the stage and the target folder become its.
    let builder = builder.filter(|_| bwrap::can_change_user());
    lend(&stage, lent, builder)?;
    let settings = folder.cargo_settings();
    let packages = [exercise.package()];
    let command = cargo_build(&toolchain, &stage, &target, &packages, builder, settings)?;
    let log = run_dir.join(format!("build-{}", exercise.dir_name()));
    let mut process = Sandboxed::spawn(command, Limits::BUILD, &log)?;
    match process.wait(timeout).await? {
        Ended::TimedOut => {
            Ok(Build::Failed(format!("the build did not finish within {} s", timeout.as_secs())))
        }
        Ended::Exited(status) if status.success() => {
            if let Some(refusal) = audit::refusal(&stage, exercise, &target, &toolchain)? {
                return Ok(Build::Failed(refusal));
            }
            let binary = run_dir.join(exercise.package());
            std::fs::copy(target.join("debug").join(exercise.package()), &binary)
                .context("cannot copy the built binary")?;
            let warnings = failure::compiler_messages(&process, exercise).warnings;
            Ok(Build::Built(Built { binary, left_out, warnings }))
        }
        Ended::Exited(_) => {
            let failed = failure::Failed { process: &process, exercise, builder, run_dir };
            let look =
                SecondLook { toolchain: &toolchain, stage: &stage, target: &target, settings };
            Ok(Build::Failed(failed.explain(&look, &left_out).await?))
        }
    }
}

/// Gives the stage and the parts of the build folder a build writes to `builder` (see
/// [`users::hand_over`]).
fn lend(stage: &Path, lent: Vec<(PathBuf, Reach)>, builder: Option<RunUser>) -> Result<()> {
    for (path, reach) in std::iter::once((stage.to_owned(), Reach::Tree)).chain(lent) {
        users::hand_over(&path, reach, builder)?;
    }
    Ok(())
}

/// Compiles every dependency of the exercises into `folder`, as the grader (only the
/// workbook's own crates and the registry's take part), before any submission is built there.
/// The first build of a folder takes minutes; done here, it holds no student's time limit and
/// no build lock a student waits on, and each submission's build then compiles its own crate
/// only, which is why a batch can give builds a short limit of their own. On a warm folder it
/// takes a second.
///
/// It builds the support crate and `workspace-hack`, whose features are the union of every
/// member's (see CONTRIBUTING, "Shared builds"): the same artifacts an exercise's build uses.
/// A new slot other than the first starts from a copy of the first's (see [`Slot`]): warm the
/// first slot before the others.
pub async fn warm_up(folder: BuildFolder, timeout: Duration, waits: &LockWaits) -> Result<()> {
    // The stage's `Cargo.lock` is written by the fetch: a fresh clone has none yet.
    fetch_dependencies().await;
    let slot = folder.slot();
    let _one_build_at_a_time = waits.lock_file(&slot.lock()?).await?;
    slot.take_from_first(waits).await?;
    let stage = slot.stage();
    stage::prepare(&stage, None)?;
    let (target, lent) = folder.paths()?;
    lend(&stage, lent, None)?;
    let toolchain = Toolchain::find().await?;
    let packages = ["workbook".to_owned(), "workspace-hack".to_owned()];
    let command =
        cargo_build(&toolchain, &stage, &target, &packages, None, folder.cargo_settings())?;
    let log = tempfile::Builder::new().prefix("grader-warm-up-").tempdir()?;
    let mut process = Sandboxed::spawn(command, Limits::BUILD, &log.path().join("build"))?;
    match process.wait(timeout).await? {
        Ended::Exited(status) if status.success() => Ok(()),
        Ended::Exited(_) => bail!(
            "the workbook's own dependencies do not build:\n{}",
            failure::compiler_errors(&crate::run::sandbox::tail(process.stderr_path(), 16 * 1024))
        ),
        Ended::TimedOut => bail!(
            "compiling the workbook's dependencies took longer than {} s (--build-timeout)",
            timeout.as_secs()
        ),
    }
}
