//! What a new student lives through: a fresh clone of the workbook, the README's first
//! command (`cargo run -p grader -- 1`), which compiles the grader and every dependency, then
//! one edit and the same command again.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use crate::processes::{self, Timed};

/// The longest one command may take: the first compiles every dependency.
const TIMEOUT: Duration = Duration::from_secs(3 * 3600);

/// The exercise of the README's first command, and the file the student edits.
const EXERCISE: &str = "01-redis-setup";
const EDITED_FILE: &str = "exercises/01-redis-setup/src/lib.rs";

/// The README's first command, with a fixed seed so that each run grades alike.
const GRADER_ARGS: [&str; 7] = ["run", "-p", "grader", "--", "1", "--seed", "1"];

/// The grader's exit code when some criteria failed, as they do for the untouched starter.
const SOME_FAILED: i32 = 1;

/// The seconds a new student waits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FirstScorecard {
    /// From `cargo run -p grader -- 1` in the fresh clone to its scorecard.
    pub first_seconds: f64,
    /// The same command after one edit of the exercise, to its scorecard.
    pub regrade_seconds: f64,
    /// Of the re-grade, from the grader's `building` line to its `grading` line.
    pub regrade_build_seconds: f64,
}

/// Clones the workbook's committed HEAD into `work`, times the first scorecard and a re-grade
/// after an edit there, and deletes the clone (gigabytes of build) afterwards.
pub async fn measure(workbook: &Path, work: &Path) -> Result<FirstScorecard> {
    let clone_dir = work.join("fresh-clone");
    let measured = measure_in(workbook, &clone_dir).await;
    if clone_dir.exists() {
        std::fs::remove_dir_all(&clone_dir)
            .with_context(|| format!("cannot delete the fresh clone {}", clone_dir.display()))?;
    }
    measured
}

async fn measure_in(workbook: &Path, clone_dir: &Path) -> Result<FirstScorecard> {
    let clone = fresh_clone(workbook, clone_dir).await?;
    eprintln!("first scorecard: `cargo {}` in {}", GRADER_ARGS.join(" "), clone.display());
    let first = student_grades(&clone).await?;
    append_comment(&clone.join(EDITED_FILE))?;
    eprintln!("first scorecard: the same command after an edit of {EDITED_FILE}");
    let regrade = student_grades(&clone).await?;
    Ok(FirstScorecard {
        first_seconds: first.scorecard_seconds,
        regrade_seconds: regrade.scorecard_seconds,
        regrade_build_seconds: regrade.build_seconds,
    })
}

/// `git clone` of the repository holding `workbook` into `into`; returns the workbook's
/// folder inside the clone (the workbook may be a subfolder of its repository).
async fn fresh_clone(workbook: &Path, into: &Path) -> Result<PathBuf> {
    let git = |args: &[&str]| {
        let mut command = Command::new("git");
        command.arg("-C").arg(workbook).args(args);
        command
    };
    let top = processes::run(git(&["rev-parse", "--show-toplevel"]), TIMEOUT)
        .await
        .context("the workbook is not in a git repository: the fresh clone needs one")?;
    let prefix = processes::run(git(&["rev-parse", "--show-prefix"]), TIMEOUT).await?;
    let mut clone = Command::new("git");
    clone.args(["clone", "--quiet"]).arg(top.trim()).arg(into);
    processes::run(clone, TIMEOUT)
        .await
        .with_context(|| format!("cannot clone {} into {}", top.trim(), into.display()))?;
    Ok(into.join(prefix.trim()))
}

/// How long one `cargo run -p grader -- 1` took.
struct StudentGrade {
    scorecard_seconds: f64,
    build_seconds: f64,
}

/// Runs the README's first command in `clone` as a student's fresh shell would, and times it
/// from its start to the scorecard's total line.
async fn student_grades(clone: &Path) -> Result<StudentGrade> {
    let mut command = Command::new("cargo");
    command.current_dir(clone).args(GRADER_ARGS);
    for (name, _) in std::env::vars_os() {
        if not_in_a_fresh_shell(&name) {
            command.env_remove(&name);
        }
    }
    let timed = processes::run_timed(command, TIMEOUT).await?;
    read_grade(&timed)
}

/// The seconds to the scorecard and the exercise's build, from the timed output; an error
/// when the grader failed rather than graded.
fn read_grade(timed: &Timed) -> Result<StudentGrade> {
    let code = timed.status.code();
    if !matches!(code, Some(0 | SOME_FAILED)) {
        bail!(
            "`cargo {}` failed ({}) in the fresh clone; its last lines:\n{}",
            GRADER_ARGS.join(" "),
            timed.status,
            timed.stderr_tail()
        );
    }
    let scorecard = timed.stdout_at("Total ").with_context(|| {
        format!(
            "the grader printed no scorecard (no `Total` line); its last lines:\n{}",
            timed.stderr_tail()
        )
    })?;
    let building = timed.stderr_at(&format!("building {EXERCISE}"));
    let grading = timed.stderr_at(&format!("grading {EXERCISE}"));
    let (Some(building), Some(grading)) = (building, grading) else {
        bail!(
            "the grader did not say `building {EXERCISE}` then `grading {EXERCISE}` on stderr; \
             has its progress output changed? Its last lines:\n{}",
            timed.stderr_tail()
        );
    };
    Ok(StudentGrade {
        scorecard_seconds: scorecard.as_secs_f64(),
        build_seconds: grading.saturating_sub(building).as_secs_f64(),
    })
}

/// Whether `name` is a variable that a student's fresh shell would not have: one our own
/// `cargo run` (or rustup's proxy) set, or one that changes how cargo builds. `CARGO_HOME` stays: it is the
/// student's too, and holds the downloaded crates.
fn not_in_a_fresh_shell(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else { return false };
    let cargo_set =
        (name.starts_with("CARGO") || name.starts_with("__CARGO")) && name != "CARGO_HOME";
    let build_changing = matches!(
        name,
        "RUSTFLAGS"
            | "RUSTDOCFLAGS"
            | "RUSTC"
            | "RUSTC_WRAPPER"
            | "RUSTC_WORKSPACE_WRAPPER"
            | "RUSTDOC"
            // rustup's proxy pins the toolchain it ran and counts its own nesting.
            | "RUSTUP_TOOLCHAIN"
            | "RUSTUP_TOOLCHAIN_SOURCE"
            | "RUST_RECURSION_COUNT"
            | "OUT_DIR"
            // Cargo puts our own target folder's libraries first on these.
            | "LD_LIBRARY_PATH"
            | "DYLD_FALLBACK_LIBRARY_PATH"
            // The grader starts its own Redis; a student has none configured yet.
            | "REDIS_URL"
    );
    cargo_set || build_changing
}

/// The student's edit: a comment at the end of `file`, which makes cargo build it again.
fn append_comment(file: &Path) -> Result<()> {
    let mut source = std::fs::read_to_string(file)
        .with_context(|| format!("the fresh clone has no {}", file.display()))?;
    source.push_str("// a student's first edit\n");
    std::fs::write(file, source).with_context(|| format!("cannot edit {}", file.display()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt as _;
    use std::process::ExitStatus;

    use super::*;

    #[test]
    fn a_fresh_shell_keeps_path_home_and_the_toolchains_homes() {
        for kept in ["PATH", "HOME", "CARGO_HOME", "RUSTUP_HOME", "LANG"] {
            assert!(!not_in_a_fresh_shell(OsStr::new(kept)), "{kept}");
        }
        for removed in [
            "CARGO",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET_DIR",
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_PKG_NAME",
            "CARGO_PRIMARY_PACKAGE",
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "RUSTUP_TOOLCHAIN",
            "RUST_RECURSION_COUNT",
            "LD_LIBRARY_PATH",
            "REDIS_URL",
        ] {
            assert!(not_in_a_fresh_shell(OsStr::new(removed)), "{removed}");
        }
    }

    fn timed(code: i32, stdout: &[(u64, &str)], stderr: &[(u64, &str)]) -> Timed {
        let lines = |lines: &[(u64, &str)]| {
            lines
                .iter()
                .map(|(ms, line)| (Duration::from_millis(*ms), (*line).to_owned()))
                .collect()
        };
        Timed {
            status: ExitStatus::from_raw(code << 8),
            stdout: lines(stdout),
            stderr: lines(stderr),
        }
    }

    #[test]
    fn the_starter_failing_its_criteria_is_a_scorecard_with_its_build_time() {
        let run = timed(
            1,
            &[(9_000, "✗ redis.connect"), (9_500, "Total 0/23  ·  seed 1")],
            &[(1_000, "building 01-redis-setup ..."), (4_250, "grading 01-redis-setup ...")],
        );
        let grade = read_grade(&run).unwrap();
        assert_eq!(grade.scorecard_seconds, 9.5);
        assert_eq!(grade.build_seconds, 3.25);
    }

    #[test]
    fn a_crash_or_a_missing_scorecard_is_an_error() {
        let crashed = timed(2, &[], &[(1_000, "error: cannot start tokio")]);
        let err = read_grade(&crashed).err().unwrap().to_string();
        assert!(err.contains("cannot start tokio"), "{err}");

        let silent = timed(1, &[], &[(1_000, "building 01-redis-setup ...")]);
        let err = read_grade(&silent).err().unwrap().to_string();
        assert!(err.contains("no scorecard"), "{err}");
    }
}
