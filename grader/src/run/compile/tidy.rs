//! The grader's own build folders kept tidy: private to the grader, and free of what earlier
//! builds compiled from other students' code. Below every other part of the build, which
//! all use it.

use std::path::Path;

use anyhow::{Context, Result};

use crate::course;

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
