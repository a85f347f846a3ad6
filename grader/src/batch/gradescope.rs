//! Gradescope's autograder: `grader gradescope-bundle DIR` writes the `setup.sh` and
//! `run_autograder` Gradescope wants (with the workbook beside them), and `grader gradescope`,
//! which `run_autograder` calls, grades `/autograder/submission` into
//! `/autograder/results/results.json`. `GRADESCOPE_ROOT` stands for `/autograder`, so the
//! layout can be tried in any folder.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use super::meta::Outcome;
use super::outputs;
use super::submissions::{self, Submission};
use super::{Options, grade_submission};
use crate::course::Exercise;
use crate::fs::{LockWaits, write_atomically};
use crate::run::compile::{self, BuildFolder, Slot};

/// Grades `ROOT/submission` (a folder of the student's files, or the one archive in it) and
/// writes `ROOT/results/results.json`. Returns the outcome.
pub async fn grade(
    root: &Path,
    exercises: &[Exercise],
    seed: u64,
    timeout: Duration,
    build_timeout: Duration,
    uncontained: Vec<String>,
) -> Result<Outcome> {
    let folder = root.join("submission");
    let (source, kind) = submissions::content_of(&folder)
        .with_context(|| format!("there is no submission folder {}", folder.display()))?;
    let submission = Submission {
        student: "submission".to_owned(),
        name: String::new(),
        lms_id: None,
        lms: None,
        sis_id: None,
        email: None,
        late: false,
        label: "submission".to_owned(),
        exercise_folders: submissions::exercise_folders(&source, kind),
        source,
        kind,
        superseded: Vec::new(),
        attachments: Vec::new(),
    };
    // A second, where setup.sh ran `grader warm-up`; otherwise not charged to the student.
    compile::warm_up(BuildFolder::Private(Slot::FIRST), build_timeout, &LockWaits::default())
        .await?;
    let scratch = tempfile::Builder::new().prefix("grader-gradescope-").tempdir()?;
    let options = Options {
        submissions: folder,
        exercises: exercises.to_vec(),
        out: scratch.path().to_owned(),
        jobs: 1,
        regrade: true,
        shard: None,
        seed: Some(seed),
        timeout,
        build_timeout,
        uncontained,
    };
    let (meta, report) =
        grade_submission(&options, exercises, seed, Slot::FIRST, submission, String::new(), &[])
            .await;
    let results = match &report {
        Some(report) => outputs::gradescope(&meta, report),
        // The grader itself failed: no grade; say so rather than give a zero silently.
        None => serde_json::json!({
            "score": 0,
            "output": format!(
                "The grader failed, not your code: {}. Ask your instructor to run it again.",
                meta.message.as_deref().unwrap_or("unknown error")
            ),
            "output_format": "text",
            "visibility": "visible",
            "tests": [],
        }),
    };
    let file = root.join("results").join("results.json");
    write_atomically(&file, &serde_json::to_vec_pretty(&results)?)
        .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(meta.outcome)
}

/// Writes Gradescope's autograder files into `dir`: `setup.sh`, `run_autograder` and the
/// workbook itself (`workbook/`, from git), ready to zip and upload.
pub fn bundle(dir: &Path, exercise: Option<&str>, allow_unsandboxed: bool) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut arguments = String::new();
    if let Some(exercise) = exercise {
        arguments.push_str(&format!(" --exercise {}", shell_word(exercise)));
    }
    if allow_unsandboxed {
        arguments.push_str(" --allow-unsandboxed");
    }
    write_script(&dir.join("setup.sh"), SETUP)?;
    write_script(&dir.join("run_autograder"), &RUN.replace("{ARGUMENTS}", &arguments))?;
    export_workbook(&dir.join("workbook"))
}

fn write_script(path: &Path, text: &str) -> Result<()> {
    write_atomically(path, text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// The workbook's committed files (`git archive HEAD`), as the grader builds against them.
fn export_workbook(into: &Path) -> Result<()> {
    let archive = std::process::Command::new("git")
        .arg("-C")
        .arg(crate::course::root())
        .args(["archive", "--format=tar", "HEAD"])
        .output()
        .context("cannot run git to export the workbook")?;
    if !archive.status.success() {
        anyhow::bail!(
            "cannot export the workbook with `git archive HEAD` ({}): run this from a git \
             checkout of the workbook",
            String::from_utf8_lossy(&archive.stderr).trim()
        );
    }
    std::fs::create_dir_all(into)?;
    tar::Archive::new(archive.stdout.as_slice())
        .unpack(into)
        .with_context(|| format!("cannot unpack the workbook into {}", into.display()))
}

/// `text` quoted for `sh` when it needs it.
fn shell_word(text: &str) -> String {
    if text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

const SETUP: &str = r#"#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image: the tools the
# grader needs, the grader itself, and every dependency built once, in the folder the
# autograder builds submissions in, so that each submission compiles only its own crate.
set -euo pipefail
apt-get update
apt-get install -y --no-install-recommends build-essential ca-certificates curl git pkg-config \
  redis-server bubblewrap
curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
. "$HOME/.cargo/env"
cd /autograder/source/workbook
cargo build --release -p grader
./target/release/grader warm-up
# The submission's code runs as a user of its own; without bubblewrap (a container without
# privileges) it could read what others may, so the reference solutions are root's alone.
chmod -R go-rwx solutions
"#;

const RUN: &str = r#"#!/usr/bin/env bash
# Gradescope runs this for each submission: grades /autograder/submission into
# /autograder/results/results.json. GRADESCOPE_ROOT stands for /autograder (to try it in any
# folder) and GRADER for the grader's binary.
set -eu
root="${GRADESCOPE_ROOT:-/autograder}"
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
grader="${GRADER:-$root/source/workbook/target/release/grader}"
exec "$grader" gradescope --root "$root"{ARGUMENTS}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_for_the_shell_when_needed() {
        assert_eq!(shell_word("redis-setup"), "redis-setup");
        assert_eq!(shell_word("a b'c"), r"'a b'\''c'");
    }
}
