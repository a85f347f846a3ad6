//! The code a submission is compared on: each exercise's `src/**/*.rs` (but the workbook's own
//! `src/main.rs`) and `templates/**`, read once while the submission is unpacked and kept in
//! `students/<id>/code.json`, so that `grader merge` can compare a class it never unpacked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::course::Exercise;
use crate::fs::write_atomically;

/// A file larger than this is nobody's hand-written exercise code: left out, and said so.
const MAX_FILE_BYTES: u64 = 256 << 10;
/// The most one submission keeps, so that a class of hostile submissions cannot fill the disk.
const MAX_SUBMISSION_BYTES: usize = 4 << 20;

/// The file a batch keeps each student's code in, beside their result.
const FILE_NAME: &str = "code.json";

/// One submission's exercise code: text by path (`02-view-cache/src/cache.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Code {
    pub files: BTreeMap<String, String>,
    /// Files not kept, each with why (a link, too large, not UTF-8).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
}

impl Code {
    /// The code of `exercises` in `folder` (a submission's exercises folder, the workbook's
    /// `exercises/` or `solutions/`). Links are never followed: the grader reads as root.
    pub fn read(folder: &Path, exercises: &[Exercise]) -> Code {
        let mut code = Code::default();
        let mut kept = 0;
        for exercise in exercises {
            let root = folder.join(exercise.dir_name());
            for part in ["src", "templates"] {
                for relative in regular_files(&root, Path::new(part), &mut code.left_out) {
                    let name = format!("{}/{}", exercise.dir_name(), relative.display());
                    if relative == Path::new("src/main.rs") {
                        continue; // the workbook's one line, the same for everybody
                    }
                    if part == "src" && relative.extension().is_none_or(|ext| ext != "rs") {
                        continue;
                    }
                    match read_text(&root.join(&relative)) {
                        Ok(text) if kept + text.len() <= MAX_SUBMISSION_BYTES => {
                            kept += text.len();
                            code.files.insert(name, text);
                        }
                        Ok(_) => code.left_out.push(format!(
                            "{name}: over the {} MiB kept per submission",
                            MAX_SUBMISSION_BYTES >> 20
                        )),
                        Err(why) => code.left_out.push(format!("{name}: {why}")),
                    }
                }
            }
        }
        code
    }

    /// Only the files of one exercise (`02-view-cache`).
    pub fn of_exercise<'a>(
        &'a self,
        exercise: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.files
            .iter()
            .filter(move |(path, _)| exercise_of(path) == exercise)
            .map(|(path, text)| (path.as_str(), text.as_str()))
    }
}

/// The exercise folder a kept path belongs to: `02-view-cache/src/cache.rs` → `02-view-cache`.
pub fn exercise_of(path: &str) -> &str {
    path.split('/').next().unwrap_or_default()
}

/// Keeps `code` as the student's (or removes an earlier copy when there is none now, so that a
/// submission handed in again without its exercises is not compared on its old code).
pub fn save(student_dir: &Path, code: Option<&Code>) -> Result<()> {
    let file = student_dir.join(FILE_NAME);
    match code {
        Some(code) => write_atomically(&file, &serde_json::to_vec(code)?),
        None => match std::fs::remove_file(&file) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                Err(err).with_context(|| format!("cannot remove {}", file.display()))
            }
            _ => Ok(()),
        },
    }
}

/// The code kept for the student whose folder is `student_dir`, if any.
pub fn load(student_dir: &Path) -> Option<Code> {
    serde_json::from_slice(&std::fs::read(student_dir.join(FILE_NAME)).ok()?).ok()
}

/// Regular files below `root/part`, relative to `root`, sorted; links are left out, said so.
fn regular_files(root: &Path, part: &Path, left_out: &mut Vec<String>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![part.to_owned()];
    while let Some(relative) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&relative)) else { continue };
        for entry in entries.filter_map(|entry| entry.ok()) {
            let path = relative.join(entry.file_name());
            match entry.file_type() {
                Ok(kind) if kind.is_symlink() => {
                    left_out.push(format!("{}: a symbolic link", path.display()))
                }
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(kind) if kind.is_file() => files.push(path),
                _ => {}
            }
        }
    }
    files.sort();
    files
}

/// A file's text, refusing what is not a regular file of hand-written size or not UTF-8.
fn read_text(path: &Path) -> Result<String, String> {
    let meta = std::fs::symlink_metadata(path).map_err(|err| err.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".to_owned());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("larger than {} KiB", MAX_FILE_BYTES >> 10));
    }
    let bytes = std::fs::read(path).map_err(|err| err.to_string())?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_sources_and_templates_but_main_links_and_other_files() {
        let folder = tempfile::tempdir().unwrap();
        let exercise = folder.path().join("05-fragment-cache");
        std::fs::create_dir_all(exercise.join("src/nested")).unwrap();
        std::fs::create_dir_all(exercise.join("templates")).unwrap();
        std::fs::write(exercise.join("src/main.rs"), "fn main() {}").unwrap();
        std::fs::write(exercise.join("src/lib.rs"), "pub fn a() {}").unwrap();
        std::fs::write(exercise.join("src/nested/b.rs"), "pub fn b() {}").unwrap();
        std::fs::write(exercise.join("src/notes.txt"), "notes").unwrap();
        std::fs::write(exercise.join("templates/page.html"), "<p>{{ x }}</p>").unwrap();
        std::fs::write(exercise.join("src/huge.rs"), vec![b' '; MAX_FILE_BYTES as usize + 1])
            .unwrap();
        std::os::unix::fs::symlink("/etc/passwd", exercise.join("src/stolen.rs")).unwrap();
        let exercises = crate::course::select(Some("5")).unwrap();

        let code = Code::read(folder.path(), &exercises);

        let kept: Vec<&str> = code.files.keys().map(String::as_str).collect();
        assert_eq!(
            kept,
            [
                "05-fragment-cache/src/lib.rs",
                "05-fragment-cache/src/nested/b.rs",
                "05-fragment-cache/templates/page.html"
            ]
        );
        let left_out = code.left_out.join("\n");
        assert!(left_out.contains("src/stolen.rs: a symbolic link"), "{left_out}");
        assert!(left_out.contains("src/huge.rs: larger than 256 KiB"), "{left_out}");
    }

    #[test]
    fn saved_code_loads_back_and_none_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut code = Code::default();
        code.files.insert("01-redis-setup/src/lib.rs".to_owned(), "fn x() {}".to_owned());
        save(dir.path(), Some(&code)).unwrap();
        assert_eq!(load(dir.path()), Some(code));
        save(dir.path(), None).unwrap();
        assert_eq!(load(dir.path()), None);
    }
}
