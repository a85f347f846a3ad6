//! Facts about one student's grading, kept beside their result (`students/<id>/meta.json`):
//! who they are as the LMS named them, what was graded, and how it ended. The gradebook, the
//! report and the LMS imports are all written from these.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::submissions::{self, Lms};

/// How grading one submission ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Graded (some exercises may have failed to build or start: see the result).
    Graded,
    /// The time limit ran out; exercises graded before that keep their scores.
    TimedOut,
    /// The submission could not be read (broken archive, no exercises folder).
    Invalid,
    /// The grader itself failed; no grade was given and the next run tries again.
    Error,
}

/// Facts about one student's grading, beside their result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    pub student: String,
    /// The student's name as the LMS wrote it.
    #[serde(default)]
    pub name: String,
    /// The LMS's id of the student, for importing grades.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lms_id: Option<String>,
    /// The LMS whose export named the student (see [`Meta::lms`] for older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lms: Option<Lms>,
    /// The school's student id and the email, where the LMS's export carries them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sis_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub late: bool,
    /// Older workbooks of this student, left out: the newest wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub superseded: Vec<String>,
    /// The student's other files, which hold no workbook (screenshots, Moodle's online text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    /// The file or folder name the submission came from.
    pub source: String,
    /// The submission's content and the grader's criteria, hashed: unchanged means skip.
    pub fingerprint: String,
    /// What of the containment was missing when it was graded (`--allow-unsandboxed`); empty
    /// when its code was contained.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncontained: Vec<String>,
    pub outcome: Outcome,
    pub seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Meta {
    /// A student `student` (also their name and file) graded with `outcome`, and nothing else
    /// known: what a test changes the fields it is about from.
    #[cfg(test)]
    pub fn example(student: &str, outcome: Outcome) -> Self {
        Self {
            student: student.to_owned(),
            name: student.to_owned(),
            lms_id: None,
            lms: None,
            sis_id: None,
            email: None,
            late: false,
            superseded: Vec::new(),
            attachments: Vec::new(),
            source: student.to_owned(),
            fingerprint: String::new(),
            uncontained: Vec::new(),
            outcome,
            seconds: 0.0,
            message: None,
        }
    }

    /// The LMS whose export named the student. A `meta.json` written before the grader
    /// recorded it has the LMS read again from the name of the file graded.
    pub fn lms(&self) -> Option<Lms> {
        self.lms.or_else(|| {
            let entry = Path::new(&self.source).components().next()?;
            submissions::identity(&entry.as_os_str().to_string_lossy()).lms
        })
    }
}

/// The outcome as the gradebook and the report spell it (`timed_out`).
pub fn outcome_name(outcome: Outcome) -> String {
    serde_json::to_value(outcome)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The LMS's name for the student, else their id.
pub fn display_name(meta: &Meta) -> &str {
    if meta.name.is_empty() { &meta.student } else { &meta.name }
}

/// A student's folder in the output: `OUT/students/<id>/`.
pub fn student_dir(out: &Path, student: &str) -> PathBuf {
    out.join("students").join(student)
}
