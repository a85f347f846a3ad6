//! Finding the submissions in a folder handed out by a learning-management system, and the
//! student each belongs to.

use std::path::{Path, PathBuf};

use crate::course::Exercise;

/// One entry of the submissions folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// A file-name-safe id, unique within the batch.
    pub student: String,
    /// The folder or archive it came from.
    pub source: PathBuf,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Folder,
    Zip,
    TarGz,
}

/// Every submission in `dir`, sorted by student id. Hidden entries and other files are skipped.
pub fn discover(dir: &Path) -> std::io::Result<Vec<Submission>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path())
        .filter(|path| !file_name(path).starts_with('.'))
        .collect();
    entries.sort();
    let mut submissions: Vec<Submission> = Vec::new();
    for source in entries {
        let name = file_name(&source);
        let kind = if source.is_dir() {
            Kind::Folder
        } else if name.ends_with(".zip") {
            Kind::Zip
        } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            Kind::TarGz
        } else {
            continue;
        };
        let mut student = student_id(&name);
        // Two entries for one student (say, a resubmission): keep both, numbered.
        let base = student.clone();
        let mut n = 2;
        while submissions.iter().any(|s| s.student == student) {
            student = format!("{base}-{n}");
            n += 1;
        }
        submissions.push(Submission { student, source, kind });
    }
    submissions.sort_by(|a, b| a.student.cmp(&b.student));
    Ok(submissions)
}

/// The student an entry belongs to, from its name:
/// - Canvas: `{sortablename}_{LATE_}{user_id}_{attachment_id}_{filename}` → `sortablename`;
/// - Moodle: `{Full Name}_{id}_assignsubmission_file_{filename}` → `Full-Name`;
/// - anything else: the name without its extension.
pub fn student_id(entry_name: &str) -> String {
    let stem = [".tar.gz", ".tgz", ".zip"]
        .iter()
        .find_map(|ext| entry_name.strip_suffix(ext))
        .unwrap_or(entry_name);
    let parts: Vec<&str> = stem.split('_').collect();
    let numeric = |part: &&str| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit());
    let name = if let Some(at) = stem.find("_assignsubmission_") {
        // Moodle: drop the trailing `_{id}` of the name part.
        let before = &stem[..at];
        before.rsplit_once('_').map_or(before, |(name, _)| name)
    } else {
        let ids_at = if parts.get(1) == Some(&"LATE") { 2 } else { 1 };
        if parts.len() > ids_at + 1 && numeric(&parts[ids_at]) && numeric(&parts[ids_at + 1]) {
            parts[0]
        } else {
            stem
        }
    };
    sanitise(name)
}

fn sanitise(name: &str) -> String {
    let mut id = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            id.push(c);
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    let id = id.trim_matches(|c| c == '-' || c == '.').to_owned();
    if id.is_empty() { "unnamed".to_owned() } else { id }
}

/// The folder holding the exercises in an unpacked submission: a folder named `exercises`
/// with exercise folders in it (preferred, so `solutions/` beside it is never graded), or else
/// any folder, up to three levels down, that has exercise folders.
pub fn find_exercises(root: &Path, exercises: &[Exercise]) -> Option<PathBuf> {
    let holds_exercises =
        |dir: &Path| exercises.iter().any(|exercise| dir.join(exercise.dir_name()).is_dir());
    let mut level = vec![root.to_owned()];
    let mut fallback = None;
    for _ in 0..=3 {
        let mut next = Vec::new();
        for dir in &level {
            if holds_exercises(dir) {
                if file_name(dir) == "exercises" {
                    return Some(dir.clone());
                }
                if fallback.is_none() && file_name(dir) != "solutions" {
                    fallback = Some(dir.clone());
                }
            }
            let Ok(children) = std::fs::read_dir(dir) else { continue };
            let mut children: Vec<PathBuf> = children
                .filter_map(|entry| entry.ok())
                .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
                .map(|entry| entry.path())
                .filter(|path| file_name(path) != "target" && !file_name(path).starts_with('.'))
                .collect();
            children.sort();
            next.extend(children);
        }
        level = next;
    }
    fallback
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn students_are_named_after_lms_conventions() {
        assert_eq!(student_id("doejane_12345_67890_workbook.zip"), "doejane");
        assert_eq!(student_id("doejane_LATE_12345_67890_workbook.zip"), "doejane");
        assert_eq!(student_id("Jane Doe_4711_assignsubmission_file_workbook.tar.gz"), "Jane-Doe");
        assert_eq!(student_id("alice"), "alice");
        assert_eq!(student_id("bob-smith.tgz"), "bob-smith");
        assert_eq!(student_id("../../etc"), "etc");
        assert_eq!(student_id("***"), "unnamed");
    }

    #[test]
    fn discovery_keeps_folders_and_archives_and_numbers_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("alice")).unwrap();
        std::fs::write(dir.path().join("bob.zip"), b"").unwrap();
        std::fs::write(dir.path().join("bob_1_2_again.zip"), b"").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"").unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        let found: Vec<(String, Kind)> =
            discover(dir.path()).unwrap().into_iter().map(|s| (s.student, s.kind)).collect();
        assert_eq!(
            found,
            [
                ("alice".into(), Kind::Folder),
                ("bob".into(), Kind::Zip),
                ("bob-2".into(), Kind::Zip)
            ]
        );
    }

    #[test]
    fn the_exercises_folder_wins_over_solutions() {
        let dir = tempfile::tempdir().unwrap();
        let exercise = crate::course::EXERCISES[0];
        for folder in ["wrapper/solutions/01-redis-setup", "wrapper/exercises/01-redis-setup"] {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        }
        let found = find_exercises(dir.path(), std::slice::from_ref(&exercise)).unwrap();
        assert!(found.ends_with("wrapper/exercises"), "{}", found.display());
        let bare = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(bare.path().join("01-redis-setup")).unwrap();
        assert_eq!(find_exercises(bare.path(), &[exercise]).unwrap(), bare.path());
    }
}
