//! Building a submission's exercise against the pristine workbook.
//!
//! The *stage* is a small Cargo workspace in the grader's own target folder: the pristine
//! workspace manifest and `Cargo.lock`, the pristine manifest of each exercise, and the
//! submission's `src/` (and `templates/`). Nothing else of the submission is used, so it cannot
//! add crates, build scripts or change the support crate.
//!
//! There is one stage, shared by every grader process, and one target folder, so dependencies
//! are compiled once and a re-grade rebuilds one crate. Syncing a submission into the stage,
//! building it and copying its binary out happen under one lock: cargo tells crates apart by
//! their path inside the workspace, so two stages could not safely share a target folder.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use crate::sandbox::{Ended, Limits, Sandboxed};
use crate::workbook::{self, Exercise};

/// The folders of an exercise that are the student's to write.
pub const STUDENT_DIRS: &[&str] = &["src", "templates"];
/// Limits on what one exercise may contain.
const MAX_FILES: usize = 200;
const MAX_FILE_BYTES: u64 = 1 << 20;

/// The grader's own build area: `target/grader`, so that it never waits on an editor's cargo.
pub fn grader_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workbook::root().join("target"));
    target.join("grader")
}

/// The result of building one exercise.
pub enum Build {
    /// The binary, copied into the run's own folder.
    Built(PathBuf),
    /// The compiler's complaint, ready to show the student.
    Failed(String),
}

/// Builds `exercise` from `submission` and returns a copy of its binary in `run_dir`, or the
/// compiler's errors.
pub async fn build(
    submission: &Path,
    exercise: &Exercise,
    timeout: Duration,
    run_dir: &Path,
) -> Result<Build> {
    let grader = grader_dir();
    std::fs::create_dir_all(&grader)?;
    let _one_build_at_a_time = lock_file(&grader.join("build.lock")).await?;
    let stage = grader.join("stage");
    prepare(&stage, submission, exercise)?;

    let target = grader.join("build");
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .arg("build")
        .arg("--manifest-path")
        .arg(stage.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .args(["--package", &exercise.package(), "--message-format", "short", "--color", "never"]);
    let log = run_dir.join(format!("build-{}", exercise.dir_name()));
    let mut process = Sandboxed::spawn(command, Limits::BUILD, &log)?;
    match process.wait(timeout).await? {
        Ended::TimedOut => {
            Ok(Build::Failed(format!("the build did not finish within {} s", timeout.as_secs())))
        }
        Ended::Exited(status) if status.success() => {
            let private = run_dir.join(exercise.package());
            std::fs::copy(target.join("debug").join(exercise.package()), &private)
                .context("cannot copy the built binary")?;
            Ok(Build::Built(private))
        }
        Ended::Exited(_) => Ok(Build::Failed(compiler_errors(&crate::sandbox::tail(
            process.stderr_path(),
            64 * 1024,
        )))),
    }
}

/// Makes the stage a workspace of every exercise, with `exercise` taken from `submission`.
/// The other members keep whatever they hold (at first, the pristine starters): only the
/// exercise being built is compiled.
fn prepare(stage: &Path, submission: &Path, exercise: &Exercise) -> Result<()> {
    let root = workbook::root();
    let all = workbook::exercises()?;
    std::fs::create_dir_all(stage)?;
    write_if_changed(&stage.join("Cargo.toml"), &stage_manifest(&root, &all)?)?;
    write_if_changed(&stage.join("Cargo.lock"), &std::fs::read(root.join("Cargo.lock"))?)?;
    for member in &all {
        let name = member.dir_name();
        let staged = stage.join("exercises").join(&name);
        let pristine = root.join("exercises").join(&name);
        std::fs::create_dir_all(&staged)?;
        write_if_changed(&staged.join("Cargo.toml"), &std::fs::read(pristine.join("Cargo.toml"))?)?;
        let source = if member == exercise { submission.join(&name) } else { pristine };
        if member == exercise || !staged.join("src").exists() {
            for dir in STUDENT_DIRS {
                sync_dir(&source.join(dir), &staged.join(dir))?;
            }
        }
    }
    Ok(())
}

/// Waits for an exclusive lock on `path`, held until the returned file is dropped.
async fn lock_file(path: &Path) -> Result<File> {
    let file = File::create(path)?;
    while file.try_lock().is_err() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(file)
}

/// The pristine workspace manifest with only the staged exercises as members and the support
/// crate pointing at the pristine copy.
fn stage_manifest(root: &Path, exercises: &[Exercise]) -> Result<Vec<u8>> {
    let text = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let mut manifest: toml_edit::DocumentMut = text.parse().context("workspace Cargo.toml")?;
    let workspace = manifest["workspace"].as_table_mut().context("no [workspace]")?;
    let mut members = toml_edit::Array::new();
    for exercise in exercises {
        members.push(format!("exercises/{}", exercise.dir_name()));
    }
    workspace["members"] = toml_edit::value(members);
    let support = root.join("support");
    workspace["dependencies"]["workbook"]["path"] =
        toml_edit::value(support.to_string_lossy().as_ref());
    Ok(manifest.to_string().into_bytes())
}

/// Makes `to` hold exactly the regular files of `from` (none when `from` is missing).
fn sync_dir(from: &Path, to: &Path) -> Result<()> {
    let wanted = collect_files(from)?;
    if to.exists() {
        for existing in collect_files(to)? {
            if !wanted.contains(&existing) {
                std::fs::remove_file(to.join(&existing))?;
            }
        }
    }
    for relative in &wanted {
        let source = from.join(relative);
        if std::fs::metadata(&source)?.len() > MAX_FILE_BYTES {
            bail!("{} is larger than {} KiB", source.display(), MAX_FILE_BYTES / 1024);
        }
        let target = to.join(relative);
        std::fs::create_dir_all(target.parent().expect("a file has a parent"))?;
        write_if_changed(&target, &std::fs::read(&source)?)?;
    }
    Ok(())
}

/// Regular files below `dir`, relative to it; symbolic links are ignored.
fn collect_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&relative)) else {
            continue;
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = relative.join(entry.file_name());
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                files.push(path);
            }
        }
        if files.len() > MAX_FILES {
            bail!("{} holds more than {MAX_FILES} files", dir.display());
        }
    }
    Ok(files)
}

/// Writes only when the content differs, so that cargo does not rebuild unchanged crates.
fn write_if_changed(path: &Path, content: &[u8]) -> Result<()> {
    if std::fs::read(path).ok().as_deref() == Some(content) {
        return Ok(());
    }
    std::fs::write(path, content).with_context(|| format!("cannot write {}", path.display()))
}

/// The useful part of cargo's output: errors and what follows them, without progress lines.
fn compiler_errors(output: &str) -> String {
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
    fn the_stage_manifest_lists_only_the_graded_exercises() {
        let exercise = Exercise { number: 1, slug: "redis-setup".into() };
        let manifest = stage_manifest(&workbook::root(), &[exercise]).unwrap();
        let manifest = String::from_utf8(manifest).unwrap();
        assert!(manifest.contains(r#"members = ["exercises/01-redis-setup"]"#), "{manifest}");
        let support = workbook::root().join("support");
        assert!(manifest.contains(&*support.to_string_lossy()), "{manifest}");
    }

    #[test]
    fn syncing_mirrors_files_and_skips_links() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        std::fs::create_dir(from.path().join("nested")).unwrap();
        std::fs::write(from.path().join("main.rs"), "fn main() {}").unwrap();
        std::fs::write(from.path().join("nested/mod.rs"), "").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", from.path().join("stolen.rs")).unwrap();
        std::fs::write(to.path().join("old.rs"), "stale").unwrap();

        sync_dir(from.path(), to.path()).unwrap();

        assert!(to.path().join("main.rs").is_file());
        assert!(to.path().join("nested/mod.rs").is_file());
        assert!(!to.path().join("stolen.rs").exists());
        assert!(!to.path().join("old.rs").exists());
    }
}
