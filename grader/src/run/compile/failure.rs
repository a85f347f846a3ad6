//! A failed build, told so that the student can act on it: the compiler's own words, a second
//! look for the errors that point away from their cause, and the grader's notes.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, bail};

use super::cargo::{Toolchain, cargo_build};
use super::warnings::dependency_list;
use crate::course::{self, Exercise};
use crate::run::diagnostics;
use crate::run::sandbox::{Ended, Limits, Sandboxed};
use crate::run::users::RunUser;
use crate::run::{debug_handler, error_notes};

/// A build that exited with errors.
pub(super) struct Failed<'a> {
    pub process: &'a Sandboxed,
    pub exercise: &'a Exercise,
    /// Who built it: a second look builds as the same user.
    pub builder: Option<RunUser>,
    pub run_dir: &'a Path,
}

impl Failed<'_> {
    /// The errors, ready to show the student: rustc's own rendering (snippet, notes, help)
    /// where there is one, cargo's words (a manifest or lock file problem) otherwise, with the
    /// grader's notes. `Err` when the fault is the grader's (a full disk): retried, never a zero.
    pub async fn explain(&self, look: &SecondLook<'_>, left_out: &[String]) -> Result<String> {
        let output = crate::run::sandbox::tail(self.process.stderr_path(), 64 * 1024);
        if output.contains("No space left on device") && crate::run::sandbox::disk_full(look.target)
        {
            bail!(
                "the disk holding {} is full: free some space and grade again",
                look.target.display()
            );
        }
        let mut diagnostics = compiler_messages(self.process, self.exercise);
        if !diagnostics.handlers.is_empty() {
            let found = look.debug_handlers(
                self.exercise,
                &diagnostics.handlers,
                self.builder,
                self.run_dir,
            );
            match found.await? {
                // The cause, named: instead of the list of possible causes.
                Found::Notes(notes) => diagnostics.notes = notes,
                Found::Said(said) => diagnostics.notes.push(said),
                Found::Nothing => {}
            }
        }
        let errors = if diagnostics.errors.is_empty() {
            compiler_errors(&output)
        } else {
            diagnostics.errors.join("\n\n")
        };
        let pristine = course::root().join("exercises").join(self.exercise.dir_name());
        let mut errors = explain_failure(&errors, &pristine);
        // First, where the scorecard cannot cut them off: these errors point elsewhere.
        for note in diagnostics.notes.iter().rev() {
            errors.insert_str(0, &format!("note from the grader: {note}\n\n"));
        }
        for note in left_out {
            errors.push_str(&format!("\n\nnote from the grader: {note}"));
        }
        Ok(errors)
    }
}

/// What a second build of the stage needs: the failed build's toolchain and folders.
pub(super) struct SecondLook<'a> {
    pub toolchain: &'a Toolchain,
    pub stage: &'a Path,
    pub target: &'a Path,
    /// The build folder's cargo settings ([`super::BuildFolder::cargo_settings`]).
    pub settings: &'a [(&'static str, &'static str)],
}

impl SecondLook<'_> {
    /// Builds the staged exercise again with `#[axum::debug_handler]` on `handlers`, which rustc
    /// refused without saying why (see [`debug_handler`]): the notes on what that build says.
    /// The next build's staging puts the student's files back.
    async fn debug_handlers(
        &self,
        exercise: &Exercise,
        handlers: &[String],
        builder: Option<RunUser>,
        run_dir: &Path,
    ) -> Result<Found> {
        let src = self.stage.join("exercises").join(exercise.dir_name()).join("src");
        if debug_handler::mark(&src, handlers)?.is_empty() {
            return Ok(Found::Nothing);
        }
        let packages = [exercise.package()];
        let command = cargo_build(
            self.toolchain,
            self.stage,
            self.target,
            &packages,
            builder,
            self.settings,
        )?;
        let log = run_dir.join(format!("build-{}-debug-handler", exercise.dir_name()));
        let mut process = Sandboxed::spawn(command, Limits::BUILD, &log)?;
        if !matches!(process.wait(SECOND_LOOK_TIMEOUT).await?, Ended::Exited(_)) {
            return Ok(Found::Nothing);
        }
        let found = compiler_messages(&process, exercise);
        // The routes' errors are still there, and say no more than the first time.
        let precise: Vec<String> =
            found.notes.into_iter().filter(|note| !error_notes::is_general(note)).collect();
        if !precise.is_empty() {
            return Ok(Found::Notes(precise));
        }
        // No note of ours for the cause: rustc's own words, now at the handler.
        let Some(error) = found.errors.into_iter().next() else { return Ok(Found::Nothing) };
        Ok(Found::Said(format!(
            "with `#[axum::debug_handler]` on `{}` (in the grader's copy, not in your file), \
             rustc says why:\n\n{error}",
            handlers.join("`, `")
        )))
    }
}

/// What a second look found.
enum Found {
    /// The cause, in the grader's notes.
    Notes(Vec<String>),
    /// rustc's words about the cause, which no note covers.
    Said(String),
    Nothing,
}

/// The most a second look may take: one crate's build, its dependencies already compiled.
const SECOND_LOOK_TIMEOUT: Duration = Duration::from_secs(120);

/// Explains the failures a student cannot fix from the compiler's words alone.
fn explain_failure(errors: &str, pristine: &Path) -> String {
    let manifest = std::fs::read_to_string(pristine.join("Cargo.toml")).unwrap_or_default();
    let unlinked = ["unresolved import", "unlinked crate", "can't find crate"];
    if unlinked.iter().any(|phrase| errors.contains(phrase)) {
        return format!(
            "{errors}\n\nnote from the grader: if that name is a crate, it is not available. \
             The grader builds your exercise with the workbook's own Cargo.toml and Cargo.lock, \
             offline, so you can use only {}.",
            dependency_list(&manifest)
        );
    }
    if errors.contains("usage of an `unsafe` block") || errors.contains("`unsafe` ") {
        return format!(
            "{errors}\n\nnote from the grader: exercise code may not use `unsafe`. The workbook \
             forbids it (`unsafe_code = \"forbid\"` in its Cargo.toml) for every exercise, so that \
             no code can reach around the counters the grader reads."
        );
    }
    if errors.contains("is private") && errors.contains("workbook::") {
        return format!(
            "{errors}\n\nnote from the grader: the workbook's counters and its query brake are \
             its own, private to it: exercise code reaches the database through \
             `workbook::Db` and `workbook::db`, and the grader reads the counters from outside."
        );
    }
    if errors.contains("--offline") || errors.contains("offline mode") {
        return format!(
            "{errors}\n\nnote from the grader: a dependency of the workbook has not been \
             downloaded. Run `cargo fetch` once with a network connection, then grade again."
        );
    }
    errors.to_owned()
}

/// What the compiler said, read from the build's JSON output (see [`diagnostics`]).
pub(super) fn compiler_messages(
    process: &Sandboxed,
    exercise: &Exercise,
) -> diagnostics::Diagnostics {
    // A generous cap: the messages of one crate, not a flood a submission could make.
    let json = crate::run::sandbox::tail(process.stdout_path(), 16 << 20);
    diagnostics::parse(&json, &exercise.package())
}

/// The useful part of cargo's output: errors and what follows them, without progress lines.
pub(super) fn compiler_errors(output: &str) -> String {
    let useful: Vec<&str> = output
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            !(line.starts_with("Compiling ")
                || line.starts_with("Checking ")
                || line.starts_with("Blocking ")
                || line.starts_with("Building "))
        })
        .collect();
    useful.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_crate_gets_a_note_naming_the_crates_there_are() {
        let pristine = course::root().join("exercises/01-redis-setup");
        let errors = "error[E0432]: unresolved import `rand`";
        let explained = explain_failure(errors, &pristine);
        assert!(explained.starts_with(errors), "{explained}");
        assert!(explained.contains("anyhow, axum"), "{explained}");
        assert_eq!(explain_failure("error: expected `;`", &pristine), "error: expected `;`");
        let forbidden = explain_failure("error: usage of an `unsafe` block", &pristine);
        assert!(forbidden.contains("`unsafe_code = \"forbid\"`"), "{forbidden}");
        let private = "error[E0603]: module `hold` is private\n --> src/x.rs\n  | workbook::hold";
        assert!(explain_failure(private, &pristine).contains("private to it"));
    }
}
