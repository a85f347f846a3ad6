//! Building a submission's exercise against the pristine workbook.
//!
//! A *stage* is a small Cargo workspace in the grader's own target folder: the pristine
//! workspace manifest and `Cargo.lock`, the pristine manifest of each exercise, and the
//! submission's `src/` (and `templates/`). Nothing else of the submission is used, so it cannot
//! add crates, build scripts or change the support crate.
//!
//! Stages are reused (`slot-0`, `slot-1`, ... each locked by the process using it) and all share
//! one target folder, so dependencies are compiled once and a re-grade rebuilds one crate.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use crate::sandbox::{Ended, Limits, Sandboxed};
use crate::workbook::{self, Exercise};

/// The folders of an exercise that are the student's to write.
const STUDENT_DIRS: &[&str] = &["src", "templates"];
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

/// A locked stage workspace.
pub struct Stage {
    dir: PathBuf,
    _lock: File,
}

/// The result of building one exercise.
pub enum Build {
    Built(PathBuf),
    /// The compiler's complaint, ready to show the student.
    Failed(String),
}

impl Stage {
    /// Takes the first free stage slot.
    pub fn acquire() -> Result<Self> {
        let base = grader_dir().join("stage");
        std::fs::create_dir_all(&base)?;
        for slot in 0.. {
            let lock = File::create(base.join(format!("slot-{slot}.lock")))?;
            if lock.try_lock().is_ok() {
                let dir = base.join(format!("slot-{slot}"));
                std::fs::create_dir_all(&dir)?;
                return Ok(Self { dir, _lock: lock });
            }
        }
        unreachable!("slots are unbounded")
    }

    /// Copies `exercises` from `submission` into the stage, with pristine manifests.
    pub fn prepare(&self, submission: &Path, exercises: &[Exercise]) -> Result<()> {
        let root = workbook::root();
        write_if_changed(&self.dir.join("Cargo.toml"), &stage_manifest(&root, exercises)?)?;
        write_if_changed(&self.dir.join("Cargo.lock"), &std::fs::read(root.join("Cargo.lock"))?)?;
        for exercise in exercises {
            let name = exercise.dir_name();
            let staged = self.dir.join("exercises").join(&name);
            let pristine = root.join("exercises").join(&name);
            std::fs::create_dir_all(&staged)?;
            write_if_changed(
                &staged.join("Cargo.toml"),
                &std::fs::read(pristine.join("Cargo.toml"))?,
            )?;
            let from = submission.join(&name);
            for dir in STUDENT_DIRS {
                sync_dir(&from.join(dir), &staged.join(dir))?;
            }
        }
        Ok(())
    }

    /// Builds one exercise and returns its binary, or the compiler's errors.
    pub async fn build(
        &self,
        exercise: &Exercise,
        timeout: Duration,
        log_dir: &Path,
    ) -> Result<Build> {
        let target = grader_dir().join("build");
        let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        command
            .arg("build")
            .arg("--manifest-path")
            .arg(self.dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .args([
                "--package",
                &exercise.package(),
                "--message-format",
                "short",
                "--color",
                "never",
            ]);
        let log = log_dir.join(format!("build-{}", exercise.dir_name()));
        let mut process = Sandboxed::spawn(command, Limits::BUILD, &log)?;
        match process.wait(timeout).await? {
            Ended::TimedOut => Ok(Build::Failed(format!(
                "the build did not finish within {} s",
                timeout.as_secs()
            ))),
            Ended::Exited(status) if status.success() => {
                Ok(Build::Built(target.join("debug").join(exercise.package())))
            }
            Ended::Exited(_) => Ok(Build::Failed(compiler_errors(&crate::sandbox::tail(
                process.stderr_path(),
                64 * 1024,
            )))),
        }
    }
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
