//! Finding the submissions in a folder handed out by a learning-management system, and the
//! student each belongs to.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::course::Exercise;

mod gradescope;

/// One student's submission in the class folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// A file-name-safe id, unique within the batch (letters of any script are kept).
    pub student: String,
    /// The student's name as the LMS wrote it, for people.
    pub name: String,
    /// The LMS's id of the student (Canvas' user id, Moodle's participant id, Gradescope's
    /// submission id), for importing grades.
    pub lms_id: Option<String>,
    /// Handed in after the deadline, as far as the LMS's file name says (Canvas' `LATE`).
    pub late: bool,
    /// The folder or archive it came from.
    pub source: PathBuf,
    /// `source` inside the class folder, for people (`Ann Lee_42_assignsubmission_file_/x.zip`).
    pub label: String,
    pub kind: Kind,
    /// Older entries of the same student, left out: the latest wins.
    pub superseded: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Folder,
    Zip,
    TarGz,
}

/// Who an entry of the class folder belongs to, as its name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub lms_id: Option<String>,
    pub late: bool,
}

/// Every submission in `dir`, one per student, sorted by student id. Hidden entries, junk
/// (`__MACOSX`) and other files are skipped. Understands the bulk downloads of Canvas (flat
/// files), Moodle (flat, or "download in folders") and Gradescope (`submission_<id>/` folders,
/// named from `submission_metadata.yml`).
pub fn discover(dir: &Path) -> std::io::Result<Vec<Submission>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path())
        .filter(|path| !file_name(path).starts_with('.') && !is_junk(path))
        .collect();
    entries.sort();
    let gradescope_names = gradescope::names(dir);
    let mut found: Vec<(Submission, SystemTime)> = Vec::new();
    for entry in entries {
        let entry_name = file_name(&entry);
        let mut identity = identity(&entry_name);
        if let Some(name) = gradescope_names.get(&entry_name) {
            identity.name = name.clone();
        }
        // Several archives in one student's folder are several files of one student.
        for (source, kind) in contents_of(&entry) {
            let modified = modified_of(&source);
            found.push((submission(dir, &identity, source, kind), modified));
        }
    }
    Ok(one_per_student(found))
}

fn submission(dir: &Path, identity: &Identity, source: PathBuf, kind: Kind) -> Submission {
    let label = source.strip_prefix(dir).unwrap_or(&source).to_string_lossy().into_owned();
    Submission {
        label,
        student: sanitise(&identity.name),
        name: identity.name.clone(),
        lms_id: identity.lms_id.clone(),
        late: identity.late,
        source,
        kind,
        superseded: Vec::new(),
    }
}

/// Keeps the latest entry of each student (by LMS id, else by name) and numbers students who
/// share a name.
fn one_per_student(mut found: Vec<(Submission, SystemTime)>) -> Vec<Submission> {
    let key = |submission: &Submission| {
        submission.lms_id.clone().unwrap_or_else(|| format!("name:{}", submission.student))
    };
    // Latest first: by modification time, then by name (a resubmission's name sorts later).
    found.sort_by(|(a, a_time), (b, b_time)| {
        b_time.cmp(a_time).then_with(|| b.source.cmp(&a.source))
    });
    let mut submissions: Vec<Submission> = Vec::new();
    for (submission, _) in found {
        let older = file_name(&submission.source);
        if let Some(latest) = submissions.iter_mut().find(|s| key(s) == key(&submission)) {
            latest.superseded.push(older);
            continue;
        }
        submissions.push(submission);
    }
    submissions.sort_by(|a, b| a.student.cmp(&b.student).then_with(|| a.lms_id.cmp(&b.lms_id)));
    for index in 1..submissions.len() {
        let base = submissions[index].student.clone();
        let mut n = 2;
        while submissions[..index].iter().any(|s| s.student == submissions[index].student) {
            submissions[index].student = format!("{base}-{n}");
            n += 1;
        }
    }
    submissions
}

/// What to grade in an entry: an archive, a folder, or the archives a folder holds (Moodle's
/// "download in folders" puts each student's `workbook.zip` in a folder of its own).
fn contents_of(entry: &Path) -> Vec<(PathBuf, Kind)> {
    if !entry.is_dir() {
        return archive_kind(entry).map(|kind| (entry.to_owned(), kind)).into_iter().collect();
    }
    let Ok(children) = std::fs::read_dir(entry) else { return Vec::new() };
    let children: Vec<PathBuf> = children
        .filter_map(|child| child.ok())
        .map(|child| child.path())
        .filter(|path| !file_name(path).starts_with('.') && !is_junk(path))
        .collect();
    let archives: Vec<(PathBuf, Kind)> = children
        .iter()
        .filter(|path| path.is_file())
        .filter_map(|path| archive_kind(path).map(|kind| (path.clone(), kind)))
        .collect();
    if archives.is_empty() || children.iter().any(|path| path.is_dir()) {
        return vec![(entry.to_owned(), Kind::Folder)];
    }
    archives
}

/// What to grade in a folder such as Gradescope's `submission/`: its latest archive when it
/// holds only archives, else the folder itself.
pub fn content_of(entry: &Path) -> Option<(PathBuf, Kind)> {
    contents_of(entry).into_iter().max_by_key(|(source, _)| (modified_of(source), source.clone()))
}

fn archive_kind(path: &Path) -> Option<Kind> {
    let name = file_name(path).to_lowercase();
    if name.ends_with(".zip") {
        Some(Kind::Zip)
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        Some(Kind::TarGz)
    } else {
        None
    }
}

fn is_junk(path: &Path) -> bool {
    super::extract::is_junk(Path::new(&file_name(path)))
}

fn modified_of(path: &Path) -> SystemTime {
    std::fs::metadata(path).and_then(|meta| meta.modified()).unwrap_or(SystemTime::UNIX_EPOCH)
}

/// The student an entry belongs to, from its name:
/// - Canvas: `{sortablename}_{LATE_}{user_id}_{attachment_id}_{filename}`;
/// - Moodle: `{Full Name}_{id}_assignsubmission_file_{filename}`, or a folder
///   `{Full Name}_{id}_assignsubmission_file_`;
/// - Gradescope: a folder `submission_{id}`;
/// - anything else: the name without its extension.
pub fn identity(entry_name: &str) -> Identity {
    let stem = [".tar.gz", ".tgz", ".zip"]
        .iter()
        .find_map(|ext| entry_name.strip_suffix(ext))
        .unwrap_or(entry_name);
    let numeric = |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit());
    let plain = |name: &str| Identity { name: clean(name), lms_id: None, late: false };
    if let Some(at) = stem.find("_assignsubmission_") {
        let before = &stem[..at];
        return match before.rsplit_once('_') {
            Some((name, id)) if numeric(id) => {
                Identity { name: clean(name), lms_id: Some(id.to_owned()), late: false }
            }
            _ => plain(before),
        };
    }
    if let Some(id) = stem.strip_prefix("submission_").filter(|id| numeric(id)) {
        return Identity { name: stem.to_owned(), lms_id: Some(id.to_owned()), late: false };
    }
    let parts: Vec<&str> = stem.split('_').collect();
    let late = parts.get(1) == Some(&"LATE");
    let ids_at = if late { 2 } else { 1 };
    if parts.len() > ids_at + 1 && numeric(parts[ids_at]) && numeric(parts[ids_at + 1]) {
        return Identity { name: clean(parts[0]), lms_id: Some(parts[ids_at].to_owned()), late };
    }
    plain(stem)
}

/// A display name without control characters or surrounding spaces.
fn clean(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned()
}

/// The student's id for `name`: a file name (letters and digits of any script, `.`, `_`, `-`).
#[cfg(test)]
pub fn student_id(entry_name: &str) -> String {
    sanitise(&identity(entry_name).name)
}

fn sanitise(name: &str) -> String {
    let mut id = String::new();
    for c in name.trim().chars() {
        if c.is_alphanumeric() || c == '.' || c == '_' {
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
        assert_eq!(student_id("José García_12_assignsubmission_file_"), "José-García");
        assert_eq!(student_id("alice"), "alice");
        assert_eq!(student_id("bob-smith.tgz"), "bob-smith");
        assert_eq!(student_id("../../etc"), "etc");
        assert_eq!(student_id("***"), "unnamed");
        let canvas = identity("doejane_LATE_12345_67890_workbook.zip");
        assert_eq!((canvas.lms_id.as_deref(), canvas.late), (Some("12345"), true));
        let moodle = identity("José García_12_assignsubmission_file_");
        assert_eq!((moodle.name.as_str(), moodle.lms_id.as_deref()), ("José García", Some("12")));
        assert_eq!(identity("submission_987").lms_id.as_deref(), Some("987"));
    }

    fn touch(path: &Path, seconds: u64) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let file = std::fs::File::create(path).unwrap();
        file.set_modified(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(seconds))
            .unwrap();
    }

    #[test]
    fn discovery_keeps_one_entry_per_student_the_latest() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("alice")).unwrap();
        touch(&dir.path().join("bob_1_20_workbook-2.zip"), 100);
        touch(&dir.path().join("bob_1_10_workbook.zip"), 200);
        touch(&dir.path().join("bob_2_30_workbook.zip"), 100);
        std::fs::write(dir.path().join("notes.txt"), b"").unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::create_dir(dir.path().join("__MACOSX")).unwrap();
        let found = discover(dir.path()).unwrap();
        let summary: Vec<(&str, Kind, String, &[String])> = found
            .iter()
            .map(|s| (s.student.as_str(), s.kind, file_name(&s.source), s.superseded.as_slice()))
            .collect();
        assert_eq!(
            summary,
            [
                ("alice", Kind::Folder, "alice".to_owned(), &[][..]),
                (
                    "bob",
                    Kind::Zip,
                    "bob_1_10_workbook.zip".to_owned(),
                    &["bob_1_20_workbook-2.zip".to_owned()][..]
                ),
                ("bob-2", Kind::Zip, "bob_2_30_workbook.zip".to_owned(), &[][..]),
            ]
        );
    }

    #[test]
    fn a_folder_holding_one_archive_is_that_archive() {
        let dir = tempfile::tempdir().unwrap();
        let moodle = dir.path().join("Ann Lee_42_assignsubmission_file_");
        touch(&moodle.join("workbook.zip"), 2);
        touch(&moodle.join("workbook-old.zip"), 1);
        touch(&moodle.join(".DS_Store"), 1);
        let gradescope = dir.path().join("submission_7");
        touch(&gradescope.join("exercises/01-redis-setup/src/lib.rs"), 1);
        std::fs::write(
            dir.path().join("submission_metadata.yml"),
            "submission_7:\n  :submitters:\n  - :name: Bo Chen\n",
        )
        .unwrap();
        let found = discover(dir.path()).unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[0].name.as_str(), found[0].kind), ("Ann Lee", Kind::Zip));
        assert!(found[0].source.ends_with("workbook.zip"));
        assert_eq!(found[0].superseded, ["workbook-old.zip"]);
        assert_eq!(found[0].lms_id.as_deref(), Some("42"));
        assert_eq!((found[1].student.as_str(), found[1].kind), ("Bo-Chen", Kind::Folder));
        assert_eq!(found[1].lms_id.as_deref(), Some("7"));
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
