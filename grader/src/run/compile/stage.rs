//! The stage: a workspace of every exercise, the pristine manifests and `src/main.rs`, and the
//! graded exercise's `src/` and `templates/` from the submission, synced so that cargo rebuilds
//! only what changed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::tidy::keep_private;
use super::{STUDENT_DIRS, WORKBOOK_MAIN};
use crate::course::{self, Exercise};

/// Limits on what one exercise may contain.
const MAX_FILES: usize = 200;

const MAX_FILE_BYTES: u64 = 1 << 20;

/// What staging made of a submission's exercise.
pub(super) enum Staged {
    /// Ready to build; what was left out, in words for the student.
    Ready(Vec<String>),
    /// Not built at all, and why.
    Refused(String),
}

/// Makes the stage a workspace of every exercise, with `exercise` taken from `submission` and
/// every other member the pristine starter: only the exercise being built is compiled, and no
/// other submission's code is in the stage. Stage and build folders are the grader's alone.
pub(super) fn prepare(stage: &Path, graded: Option<(&Path, &Exercise)>) -> Result<Staged> {
    let root = course::root();
    let all = course::exercises();
    std::fs::create_dir_all(stage)?;
    keep_private(stage)?;
    write_if_changed(&stage.join("Cargo.toml"), &stage_manifest(&root, &all)?)?;
    let mut skipped = Vec::new();
    for member in &all {
        let name = member.dir_name();
        let staged = stage.join("exercises").join(&name);
        let pristine = root.join("exercises").join(&name);
        std::fs::create_dir_all(&staged)?;
        write_if_changed(&staged.join("Cargo.toml"), &std::fs::read(pristine.join("Cargo.toml"))?)?;
        let source = match graded {
            Some((submission, exercise)) if exercise == member => {
                let folder = submission.join(&name);
                // A link would take another folder's code (another student's) as this one's.
                if !is_real_dir(&folder) {
                    return Ok(Staged::Refused(format!(
                        "refused: {name} in your submission is a symbolic link (or not a folder); \
                         submit the exercise's own folder, not a link to one"
                    )));
                }
                Some(folder)
            }
            // Every other member goes back to the starter: the build's jail shows the whole
            // stage, and no build may see another student's code (sync_dir writes only what
            // changed, so this costs nothing once the starters are there).
            _ => Some(pristine.clone()),
        };
        if let Some(source) = source {
            for dir in STUDENT_DIRS {
                match sync_dir(&source.join(dir), &staged.join(dir), Path::new(WORKBOOK_MAIN))? {
                    Synced::Done(left_out) => skipped
                        .extend(left_out.into_iter().map(|why| format!("{name}/{dir}/{why}"))),
                    Synced::TooMany => {
                        return Ok(Staged::Refused(format!(
                            "refused: {name}/{dir} holds more than {MAX_FILES} files; \
                             the grader takes at most {MAX_FILES} per folder"
                        )));
                    }
                }
            }
        }
        write_if_changed(
            &staged.join(WORKBOOK_MAIN),
            &std::fs::read(pristine.join(WORKBOOK_MAIN))?,
        )?;
    }
    Ok(Staged::Ready(skipped))
}

/// A folder that is one, not a symbolic link to one.
fn is_real_dir(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_dir())
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
    for (dependency, folder) in [("workbook", "support"), ("workspace-hack", "workspace-hack")] {
        let path = root.join(folder);
        workspace["dependencies"][dependency]["path"] =
            toml_edit::value(path.to_string_lossy().as_ref());
    }
    Ok(manifest.to_string().into_bytes())
}

/// What syncing a student's folder into the stage did.
enum Synced {
    /// Done; the entries left out, each with why (relative to the folder).
    Done(Vec<String>),
    /// The folder holds more files than the grader takes.
    TooMany,
}

/// Makes `to` hold exactly the regular files of `from` that the grader may take (none when
/// `from` is missing or is a link): links, names with control characters and files over
/// [`MAX_FILE_BYTES`] are left out, and said so. `owned` is a file of the workbook's
/// (`src/main.rs`): neither side's copy touches it.
fn sync_dir(from: &Path, to: &Path, owned: &Path) -> Result<Synced> {
    let is_owned = |relative: &Path| to.join(relative).ends_with(owned);
    let mut left_out = Vec::new();
    let wanted: Vec<PathBuf> = if is_real_dir(from) {
        match collect_files(from, &mut left_out)? {
            Some(files) => files.into_iter().filter(|relative| !is_owned(relative)).collect(),
            None => return Ok(Synced::TooMany),
        }
    } else {
        if std::fs::symlink_metadata(from).is_ok() {
            left_out.push("(the whole folder): it is a symbolic link or not a folder".to_owned());
        }
        Vec::new()
    };
    if to.exists() {
        let mut ignored = Vec::new();
        for existing in collect_files(to, &mut ignored)?.unwrap_or_default() {
            if !wanted.contains(&existing) && !is_owned(&existing) {
                std::fs::remove_file(to.join(&existing))?;
            }
        }
    }
    for relative in &wanted {
        let source = from.join(relative);
        let target = to.join(relative);
        if std::fs::symlink_metadata(&source)?.len() > MAX_FILE_BYTES {
            left_out.push(format!(
                "{}: larger than {} KiB",
                relative.display(),
                MAX_FILE_BYTES / 1024
            ));
            let _ = std::fs::remove_file(&target);
            continue;
        }
        std::fs::create_dir_all(target.parent().expect("a file has a parent"))?;
        write_if_changed(&target, &std::fs::read(&source)?)?;
    }
    Ok(Synced::Done(left_out))
}

/// Regular files below `dir`, relative to it, or `None` when there are more than
/// [`MAX_FILES`]. Symbolic links and names with control characters are never followed or
/// taken; each is added to `left_out`, with why.
fn collect_files(dir: &Path, left_out: &mut Vec<String>) -> Result<Option<Vec<PathBuf>>> {
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
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.chars().any(char::is_control) {
                left_out.push(format!("{:?}: a name with control characters", path));
            } else if kind.is_symlink() {
                left_out.push(format!("{}: a symbolic link", path.display()));
            } else if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                files.push(path);
            }
        }
        if files.len() > MAX_FILES {
            return Ok(None);
        }
    }
    files.sort();
    Ok(Some(files))
}

/// Writes only when the content differs, so that cargo does not rebuild unchanged crates.
pub(super) fn write_if_changed(path: &Path, content: &[u8]) -> Result<()> {
    if std::fs::read(path).ok().as_deref() == Some(content) {
        return Ok(());
    }
    std::fs::write(path, content).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stage_manifest_lists_only_the_graded_exercises() {
        let exercise = crate::course::EXERCISES[0];
        let manifest = stage_manifest(&course::root(), &[exercise]).unwrap();
        let manifest = String::from_utf8(manifest).unwrap();
        assert!(manifest.contains(r#"members = ["exercises/01-redis-setup"]"#), "{manifest}");
        let support = course::root().join("support");
        assert!(manifest.contains(&*support.to_string_lossy()), "{manifest}");
    }

    #[test]
    fn syncing_mirrors_files_and_leaves_out_links_and_odd_names_saying_so() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        std::fs::create_dir(from.path().join("nested")).unwrap();
        std::fs::write(from.path().join("main.rs"), "fn main() {}").unwrap();
        std::fs::write(from.path().join("nested/mod.rs"), "").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", from.path().join("stolen.rs")).unwrap();
        std::os::unix::fs::symlink("/root", from.path().join("stolen")).unwrap();
        std::fs::write(from.path().join("line\nbreak.rs"), "").unwrap();
        std::fs::write(from.path().join("huge.rs"), vec![b' '; MAX_FILE_BYTES as usize + 1])
            .unwrap();
        std::fs::write(to.path().join("old.rs"), "stale").unwrap();
        std::fs::write(from.path().join("lib.rs"), "// theirs").unwrap();
        std::fs::write(to.path().join("lib.rs"), "// the workbook's").unwrap();

        let Synced::Done(left_out) =
            sync_dir(from.path(), to.path(), &to.path().join("lib.rs")).unwrap()
        else {
            panic!("too many files")
        };

        assert!(to.path().join("main.rs").is_file());
        let owned = std::fs::read_to_string(to.path().join("lib.rs")).unwrap();
        assert_eq!(owned, "// the workbook's", "an owned file is neither copied nor removed");
        assert!(to.path().join("nested/mod.rs").is_file());
        for gone in ["stolen.rs", "stolen", "old.rs", "line\nbreak.rs", "huge.rs"] {
            assert!(!to.path().join(gone).exists(), "{gone} was staged");
        }
        let said = left_out.join("\n");
        for reason in ["stolen.rs: a symbolic link", "stolen: a symbolic link", "control", "KiB"] {
            assert!(said.contains(reason), "{reason} not in {said}");
        }
    }

    #[test]
    fn a_linked_student_folder_is_not_followed() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("main.rs"), "// another student's").unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), from.path().join("src")).unwrap();

        let Synced::Done(left_out) =
            sync_dir(&from.path().join("src"), to.path(), Path::new(WORKBOOK_MAIN)).unwrap()
        else {
            panic!("too many files")
        };
        assert!(!to.path().join("main.rs").exists());
        assert!(left_out[0].contains("symbolic link"), "{left_out:?}");
    }
}
