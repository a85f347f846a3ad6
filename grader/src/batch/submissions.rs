//! Finding the submissions in a folder handed out by a learning-management system, and the
//! student each belongs to.
//!
//! A student may have several entries: a Canvas student several attachments (the workbook zip
//! and a zip of screenshots), a Moodle student an online-text folder beside their files. The
//! one that holds the workbook is graded, whatever its date; the others are kept as
//! attachments. Between two workbooks the LMS's own order decides (see [`Newness`]).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::extract;
use crate::course::{EXERCISES, Exercise};

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
    /// The LMS whose export named the student: which import file `lms_id` belongs in.
    pub lms: Option<Lms>,
    /// The school's student id and the student's email, where the export carries them
    /// (Gradescope's metadata): what a gradebook elsewhere matches students on.
    pub sis_id: Option<String>,
    pub email: Option<String>,
    /// Handed in after the deadline, as far as the LMS's file name says (Canvas' `LATE`).
    pub late: bool,
    /// The folder or archive it came from.
    pub source: PathBuf,
    /// `source` inside the class folder, for people (`Ann Lee_42_assignsubmission_file_/x.zip`).
    pub label: String,
    pub kind: Kind,
    /// Older workbooks of the same student, left out: the newest wins.
    pub superseded: Vec<String>,
    /// The student's other files, which hold no workbook (screenshots, Moodle's online text).
    pub attachments: Vec<String>,
    /// How many of the workbook's exercise folders it holds: archives are listed once, when
    /// the class is read, never unpacked for it (see [`exercise_folders`]).
    pub exercise_folders: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Folder,
    Zip,
    TarGz,
}

/// The learning-management system whose naming an entry follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lms {
    Canvas,
    Moodle,
    Gradescope,
}

/// Who an entry of the class folder belongs to, as its name says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub lms_id: Option<String>,
    pub lms: Option<Lms>,
    pub sis_id: Option<String>,
    pub email: Option<String>,
    pub late: bool,
    /// Canvas' id of the uploaded file: a later upload has a larger one.
    pub attachment_id: Option<u64>,
    /// Moodle's online text (`…_assignsubmission_onlinetext_`): an attachment, never the
    /// workbook.
    pub online_text: bool,
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
    let gradescope_submitters = gradescope::submitters(dir);
    let mut found = Vec::new();
    for entry in entries {
        let entry_name = file_name(&entry);
        let mut identity = identity(&entry_name);
        if let Some(submitter) = gradescope_submitters.get(&entry_name) {
            identity.name = clean(&submitter.name);
            identity.sis_id.clone_from(&submitter.sis_id);
            identity.email.clone_from(&submitter.email);
        }
        // Several archives in one student's folder are several files of one student.
        for (source, kind) in contents_of(&entry) {
            found.push(HandedIn::new(dir, &identity, source, kind));
        }
    }
    Ok(one_per_student(found))
}

/// One file or folder a student handed in, before it is known which of theirs to grade.
struct HandedIn {
    submission: Submission,
    online_text: bool,
    newness: Newness,
}

/// How recent a file is, by the LMS's own record first, compared field by field: Canvas'
/// attachment id, then the number a resubmission's name carries (`workbook-2.zip`,
/// `workbook (2).zip`), then the modification time, which only breaks ties (not every unzip
/// keeps it), then the name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Newness {
    attachment_id: Option<u64>,
    resubmission: u32,
    modified: SystemTime,
    name: String,
}

impl HandedIn {
    fn new(dir: &Path, identity: &Identity, source: PathBuf, kind: Kind) -> Self {
        let name = file_name(&source);
        let newness = Newness {
            attachment_id: identity.attachment_id,
            resubmission: resubmission_number(&name),
            modified: modified_of(&source),
            name,
        };
        let submission = submission(dir, identity, source, kind);
        Self { submission, online_text: identity.online_text, newness }
    }

    /// Whether it has exercise folders where [`find_exercises`] looks; archives are listed,
    /// not unpacked. Moodle's online text never does.
    fn holds_workbook(&self) -> bool {
        !self.online_text && self.submission.exercise_folders > 0
    }
}

impl Submission {
    /// The work grading it should cost, in rough units, for balancing shards: one to read
    /// it, and more per exercise folder it holds (archives are listed, not unpacked).
    pub fn expected_work(&self) -> usize {
        const PER_EXERCISE: usize = 6;
        1 + PER_EXERCISE * self.exercise_folders
    }
}

/// How many of the workbook's exercise folders `source` holds where [`find_exercises`] looks;
/// an archive is listed, not unpacked, and one that cannot be read holds none.
pub fn exercise_folders(source: &Path, kind: Kind) -> usize {
    let files = match kind {
        Kind::Folder => {
            let Some(exercises) = find_exercises(source, &EXERCISES) else { return 0 };
            return EXERCISES.iter().filter(|e| exercises.join(e.dir_name()).is_dir()).count();
        }
        Kind::Zip => extract::zip_file_paths(source),
        Kind::TarGz => extract::tar_gz_file_paths(source),
    };
    let Ok(files) = files else { return 0 };
    EXERCISES
        .iter()
        .filter(|exercise| files.iter().any(|file| in_the_exercise_folder(file, exercise)))
        .count()
}

fn submission(dir: &Path, identity: &Identity, source: PathBuf, kind: Kind) -> Submission {
    let label = source.strip_prefix(dir).unwrap_or(&source).to_string_lossy().into_owned();
    let exercise_folders = exercise_folders(&source, kind);
    Submission {
        label,
        student: sanitise(&identity.name),
        name: identity.name.clone(),
        lms_id: identity.lms_id.clone(),
        lms: identity.lms,
        sis_id: identity.sis_id.clone(),
        email: identity.email.clone(),
        late: identity.late,
        source,
        kind,
        superseded: Vec::new(),
        attachments: Vec::new(),
        exercise_folders,
    }
}

/// Keeps one entry per student (by LMS and id, else by name) and numbers students who share
/// a name.
fn one_per_student(found: Vec<HandedIn>) -> Vec<Submission> {
    let key = |submission: &Submission| match &submission.lms_id {
        Some(id) => (submission.lms, id.clone()),
        None => (None, format!("name:{}", submission.student)),
    };
    let mut students: Vec<Vec<HandedIn>> = Vec::new();
    for file in found {
        match students.iter_mut().find(|files| key(&files[0].submission) == key(&file.submission)) {
            Some(files) => files.push(file),
            None => students.push(vec![file]),
        }
    }
    let mut submissions: Vec<Submission> = students.into_iter().filter_map(choose).collect();
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

/// The one of a student's files to grade: a workbook before anything else, Moodle's online
/// text last, then the newest. Older workbooks are kept as `superseded`, the rest as
/// `attachments`.
fn choose(files: Vec<HandedIn>) -> Option<Submission> {
    // Only a choice needs the archives opened.
    let several = files.len() > 1;
    let mut ranked: Vec<(bool, HandedIn)> =
        files.into_iter().map(|file| (several && file.holds_workbook(), file)).collect();
    ranked.sort_by_key(|(workbook, file)| {
        std::cmp::Reverse((*workbook, !file.online_text, file.newness.clone()))
    });
    let mut ranked = ranked.into_iter();
    let (chosen_is_workbook, chosen) = ranked.next()?;
    let mut submission = chosen.submission;
    for (is_workbook, file) in ranked {
        let name = file_name(&file.submission.source);
        if is_workbook == chosen_is_workbook && !file.online_text {
            submission.superseded.push(name);
        } else {
            submission.attachments.push(name);
        }
    }
    Some(submission)
}

/// The number an LMS adds to a file handed in again under the same name: Canvas'
/// `workbook-2.zip`, Moodle's `workbook (2).zip`; 0 for none.
fn resubmission_number(file_name: &str) -> u32 {
    let stem = archive_stem(file_name);
    let number = match stem.strip_suffix(')').and_then(|rest| rest.rsplit_once(" (")) {
        Some((_, number)) => number,
        None => stem.rsplit_once('-').map_or("", |(_, number)| number),
    };
    let short_number =
        (1..=3).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit());
    if short_number { number.parse().unwrap_or(0) } else { 0 }
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

/// What to grade in a folder such as Gradescope's `submission/`: of the archives it holds,
/// the one with the workbook (the newest of several), else the folder itself.
pub fn content_of(entry: &Path) -> Option<(PathBuf, Kind)> {
    let nobody = Identity::default();
    let files = contents_of(entry)
        .into_iter()
        .map(|(source, kind)| HandedIn::new(entry, &nobody, source, kind))
        .collect();
    choose(files).map(|submission| (submission.source, submission.kind))
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

/// A file name without its archive extension.
fn archive_stem(name: &str) -> &str {
    [".tar.gz", ".tgz", ".zip"].iter().find_map(|ext| name.strip_suffix(ext)).unwrap_or(name)
}

fn is_junk(path: &Path) -> bool {
    extract::is_junk(Path::new(&file_name(path)))
}

fn modified_of(path: &Path) -> SystemTime {
    std::fs::metadata(path).and_then(|meta| meta.modified()).unwrap_or(SystemTime::UNIX_EPOCH)
}

/// The student an entry belongs to, from its name:
/// - Canvas: `{sortablename}_{LATE_}{user_id}_{attachment_id}_{filename}`;
/// - Moodle: `{Full Name}_{id}_assignsubmission_file_{filename}`, or a folder
///   `{Full Name}_{id}_assignsubmission_file_` (`…_onlinetext_` for the online text);
/// - Gradescope: a folder `submission_{id}`;
/// - anything else: the name without its extension.
pub fn identity(entry_name: &str) -> Identity {
    let stem = archive_stem(entry_name);
    let numeric = |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit());
    let named = |name: &str| Identity { name: clean(name), ..Identity::default() };
    if let Some(at) = stem.find("_assignsubmission_") {
        let (before, plugin) = stem.split_at(at);
        let online_text = plugin.starts_with("_assignsubmission_onlinetext_");
        return match before.rsplit_once('_') {
            Some((name, id)) if numeric(id) => Identity {
                lms_id: Some(id.to_owned()),
                lms: Some(Lms::Moodle),
                online_text,
                ..named(name)
            },
            _ => Identity { online_text, ..named(before) },
        };
    }
    if let Some(id) = stem.strip_prefix("submission_").filter(|id| numeric(id)) {
        return Identity { lms_id: Some(id.to_owned()), lms: Some(Lms::Gradescope), ..named(stem) };
    }
    let parts: Vec<&str> = stem.split('_').collect();
    let late = parts.get(1) == Some(&"LATE");
    let ids_at = if late { 2 } else { 1 };
    if parts.len() > ids_at + 1 && numeric(parts[ids_at]) && numeric(parts[ids_at + 1]) {
        return Identity {
            lms_id: Some(parts[ids_at].to_owned()),
            lms: Some(Lms::Canvas),
            late,
            attachment_id: parts[ids_at + 1].parse().ok(),
            ..named(parts[0])
        };
    }
    named(stem)
}

/// A display name in composed form (NFC: macOS writes `ë` as `e` and a combining diaeresis),
/// without control characters or surrounding spaces.
fn clean(name: &str) -> String {
    name.nfc().filter(|c| !c.is_control()).collect::<String>().trim().to_owned()
}

/// The student's id for `name`: a file name (letters and digits of any script, `.`, `_`, `-`).
#[cfg(test)]
pub fn student_id(entry_name: &str) -> String {
    sanitise(&identity(entry_name).name)
}

fn sanitise(name: &str) -> String {
    let mut id = String::new();
    for c in name.trim().nfc() {
        // A combining mark without a composed form (`q̃`) belongs to the letter before it.
        if c.is_alphanumeric() || is_combining_mark(c) || c == '.' || c == '_' {
            id.push(c);
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    let id = id.trim_matches(|c| c == '-' || c == '.').to_owned();
    if id.is_empty() { "unnamed".to_owned() } else { id }
}

/// How deep below the top of a submission the exercises may be.
const DEPTH: usize = 3;

/// The folder holding the exercises in an unpacked submission: a folder named `exercises`
/// with exercise folders in it (preferred, so `solutions/` beside it is never graded), or else
/// any folder, up to [`DEPTH`] levels down, that has exercise folders.
pub fn find_exercises(root: &Path, exercises: &[Exercise]) -> Option<PathBuf> {
    let holds_exercises =
        |dir: &Path| exercises.iter().any(|exercise| dir.join(exercise.dir_name()).is_dir());
    let mut level = vec![root.to_owned()];
    let mut fallback = None;
    for _ in 0..=DEPTH {
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

/// Whether a file of an archive lies in `exercise`'s folder where [`find_exercises`] would
/// find it.
fn in_the_exercise_folder(file: &Path, exercise: &Exercise) -> bool {
    let Some(folder) = file.parent() else { return false };
    let name = exercise.dir_name();
    folder.components().take(DEPTH + 1).any(|component| component.as_os_str() == name.as_str())
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
        assert_eq!((canvas.lms, canvas.attachment_id), (Some(Lms::Canvas), Some(67890)));
        let moodle = identity("José García_12_assignsubmission_file_");
        assert_eq!((moodle.name.as_str(), moodle.lms_id.as_deref()), ("José García", Some("12")));
        assert_eq!((moodle.lms, moodle.online_text), (Some(Lms::Moodle), false));
        let online_text = identity("José García_12_assignsubmission_onlinetext_");
        assert_eq!((online_text.lms_id.as_deref(), online_text.online_text), (Some("12"), true));
        let gradescope = identity("submission_987");
        assert_eq!(
            (gradescope.lms_id.as_deref(), gradescope.lms),
            (Some("987"), Some(Lms::Gradescope))
        );
    }

    #[test]
    fn a_decomposed_name_is_the_same_student_as_its_composed_form() {
        let composed = "Zo\u{eb} \u{c5}ngstr\u{f6}m_5_assignsubmission_file_";
        let decomposed = "Zoe\u{308} A\u{30a}ngstro\u{308}m_5_assignsubmission_file_";
        assert_eq!(student_id(decomposed), "Zoë-Ångström");
        assert_eq!(student_id(decomposed), student_id(composed));
        assert_eq!(identity(decomposed).name, identity(composed).name);
        // A mark with no composed form stays with its letter.
        assert_eq!(student_id("q\u{303}uo"), "q\u{303}uo");
    }

    fn touch(path: &Path, seconds: u64) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let file = std::fs::File::create(path).unwrap();
        set_modified(&file, seconds);
    }

    fn set_modified(file: &std::fs::File, seconds: u64) {
        file.set_modified(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(seconds))
            .unwrap();
    }

    /// A zip at `path` holding empty files of these names, modified at `seconds`.
    fn zip_at(path: &Path, names: &[&str], seconds: u64) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for name in names {
            zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        }
        set_modified(&zip.finish().unwrap(), seconds);
    }

    /// Each student's chosen file, superseded and attachments, by file name.
    fn summary(found: &[Submission]) -> Vec<(String, String, Vec<String>, Vec<String>)> {
        found
            .iter()
            .map(|s| {
                let chosen = file_name(&s.source);
                (s.student.clone(), chosen, s.superseded.clone(), s.attachments.clone())
            })
            .collect()
    }

    #[test]
    fn discovery_keeps_one_entry_per_student_the_newest_by_the_lms() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("alice")).unwrap();
        // Canvas' attachment ids say which came later, whatever the files' times.
        touch(&dir.path().join("bob_1_20_workbook-2.zip"), 100);
        touch(&dir.path().join("bob_1_10_workbook.zip"), 200);
        touch(&dir.path().join("bob_2_30_workbook.zip"), 100);
        std::fs::write(dir.path().join("notes.txt"), b"").unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::create_dir(dir.path().join("__MACOSX")).unwrap();
        let found = discover(dir.path()).unwrap();
        let kinds: Vec<Kind> = found.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [Kind::Folder, Kind::Zip, Kind::Zip]);
        let none = Vec::<String>::new;
        assert_eq!(
            summary(&found),
            [
                ("alice".to_owned(), "alice".to_owned(), none(), none()),
                (
                    "bob".to_owned(),
                    "bob_1_20_workbook-2.zip".to_owned(),
                    vec!["bob_1_10_workbook.zip".to_owned()],
                    none()
                ),
                ("bob-2".to_owned(), "bob_2_30_workbook.zip".to_owned(), none(), none()),
            ]
        );
    }

    #[test]
    fn the_file_holding_the_workbook_is_graded_whatever_its_date() {
        let dir = tempfile::tempdir().unwrap();
        let class = dir.path();
        let workbook = ["work/exercises/01-redis-setup/src/lib.rs"];
        // Canvas: the workbook, then a newer zip of screenshots.
        zip_at(&class.join("carl_3_50_workbook.zip"), &workbook, 100);
        zip_at(&class.join("carl_3_60_screenshots.zip"), &["shot.png"], 200);
        // Moodle in folders: the workbook (made by PowerShell 5.1), and the online text.
        let moodle = class.join("Dee Vu_8_assignsubmission_file_");
        zip_at(&moodle.join("workbook.zip"), &["exercises\\02-view-cache\\src\\lib.rs"], 100);
        zip_at(&moodle.join("diagram.zip"), &["diagram.svg"], 300);
        touch(&class.join("Dee Vu_8_assignsubmission_onlinetext_/onlinetext.html"), 400);
        // Canvas: a workbook handed in twice; the later upload wins, though older on disk.
        zip_at(&class.join("eve_4_70_workbook.zip"), &workbook, 200);
        zip_at(&class.join("eve_4_80_workbook-1.zip"), &workbook, 100);
        // Moodle in folders: an empty zip and the online text; the zip is graded (and refused).
        zip_at(&class.join("Fay_9_assignsubmission_file_/workbook.zip"), &[], 100);
        touch(&class.join("Fay_9_assignsubmission_onlinetext_/onlinetext.html"), 200);
        let found = discover(class).unwrap();
        let owned = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect();
        let student = |id: &str, chosen: &str, superseded: &[&str], attachments: &[&str]| {
            (id.to_owned(), chosen.to_owned(), owned(superseded), owned(attachments))
        };
        assert_eq!(
            summary(&found),
            [
                student(
                    "Dee-Vu",
                    "workbook.zip",
                    &[],
                    &["diagram.zip", "Dee Vu_8_assignsubmission_onlinetext_"]
                ),
                student("Fay", "workbook.zip", &[], &["Fay_9_assignsubmission_onlinetext_"]),
                student("carl", "carl_3_50_workbook.zip", &[], &["carl_3_60_screenshots.zip"]),
                student("eve", "eve_4_80_workbook-1.zip", &["eve_4_70_workbook.zip"], &[]),
            ]
        );
        assert!(found.iter().all(|s| s.lms.is_some()), "{found:?}");
    }

    #[test]
    fn resubmissions_are_numbered_as_lmss_name_them() {
        assert_eq!(resubmission_number("workbook.zip"), 0);
        assert_eq!(resubmission_number("workbook-2.zip"), 2);
        assert_eq!(resubmission_number("workbook (3).tar.gz"), 3);
        assert_eq!(resubmission_number("workbook-2024.zip"), 0, "a year, not a resubmission");
        assert_eq!(resubmission_number("cache-invalidation.zip"), 0);
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
            "submission_7:\n  :submitters:\n  - :name: Bo Chen\n    :sid: '2026-17'\n    \
             :email: bo@example.edu\n",
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
        // Gradescope's export carries the school's id and the email: kept for the gradebook.
        assert_eq!(found[1].sis_id.as_deref(), Some("2026-17"));
        assert_eq!(found[1].email.as_deref(), Some("bo@example.edu"));
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
