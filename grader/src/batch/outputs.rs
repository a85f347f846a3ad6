//! What a batch writes for each student, and the class-wide gradebook.
//!
//! Every file is written atomically (to a temporary name, then renamed), so an interrupted
//! batch never leaves a half-written result behind: what is there is complete.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::fs::write_atomically;
use crate::report::{Report, Status, sanitise};

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
    /// The file or folder name the submission came from.
    pub source: String,
    /// The submission's content and the grader's criteria, hashed: unchanged means skip.
    pub fingerprint: String,
    pub outcome: Outcome,
    pub seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A student's folder in the output: `OUT/students/<id>/`.
pub fn student_dir(out: &Path, student: &str) -> PathBuf {
    out.join("students").join(student)
}

/// Writes a student's result, feedback and Gradescope file, then their meta (last, so that a
/// meta file always has its result beside it).
pub fn write_student(out: &Path, meta: &Meta, report: Option<&Report>) -> Result<()> {
    let dir = student_dir(out, &meta.student);
    if let Some(report) = report {
        write_atomically(&dir.join("result.json"), &serde_json::to_vec_pretty(report)?)?;
        write_atomically(&dir.join("feedback.md"), feedback(meta, report).as_bytes())?;
        write_atomically(
            &dir.join("results.json"),
            &serde_json::to_vec_pretty(&gradescope(meta, report))?,
        )?;
    }
    write_atomically(&dir.join("meta.json"), &serde_json::to_vec_pretty(meta)?)?;
    match std::fs::remove_file(dir.join("attempts.json")) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err)
            .with_context(|| format!("cannot remove {}", dir.join("attempts.json").display())),
        _ => Ok(()),
    }
}

/// Runs that started grading `student`'s submission (this `fingerprint`) and never finished:
/// the grader was killed meanwhile, perhaps by the submission itself.
pub fn unfinished_attempts(out: &Path, student: &str, fingerprint: &str) -> u32 {
    let file = student_dir(out, student).join("attempts.json");
    std::fs::read(file)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .filter(|attempts| attempts["fingerprint"] == fingerprint)
        .and_then(|attempts| attempts["unfinished"].as_u64())
        .map_or(0, |count| count as u32)
}

/// Notes that a run starts grading the submission; [`write_student`] clears the note.
pub fn start_attempt(out: &Path, student: &str, fingerprint: &str) -> Result<()> {
    let unfinished = unfinished_attempts(out, student, fingerprint) + 1;
    let note = json!({ "fingerprint": fingerprint, "unfinished": unfinished });
    write_atomically(&student_dir(out, student).join("attempts.json"), note.to_string().as_bytes())
}

/// Every student already in `out`, with their result when there is one.
pub fn load_students(out: &Path) -> Vec<(Meta, Option<Report>)> {
    let Ok(entries) = std::fs::read_dir(out.join("students")) else { return Vec::new() };
    let mut students: Vec<(Meta, Option<Report>)> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let meta: Meta =
                serde_json::from_slice(&std::fs::read(entry.path().join("meta.json")).ok()?)
                    .ok()?;
            let report = std::fs::read(entry.path().join("result.json"))
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok());
            Some((meta, report))
        })
        .collect();
    students.sort_by(|a, b| a.0.student.cmp(&b.0.student));
    students
}

/// The Markdown feedback a student reads: every failed criterion with its evidence and hint.
pub fn feedback(meta: &Meta, report: &Report) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Feedback for {}\n", meta.student);
    let _ =
        writeln!(md, "**Total: {}/{}** (seed {}).\n", report.score, report.max_score, report.seed);
    if let Some(message) = &meta.message {
        let _ = writeln!(md, "> {}\n", message.replace('\n', "\n> "));
    }
    for exercise in &report.exercises {
        let _ = writeln!(
            md,
            "## {} · {} — {}/{}\n",
            exercise.id, exercise.title, exercise.score, exercise.max_score
        );
        for warning in &exercise.warnings {
            let _ = writeln!(md, "> **Warning:** {warning}\n");
        }
        if let Some(details) = &exercise.details {
            let _ = writeln!(md, "{}\n", sanitise::code_block(details));
        }
        if !exercise.compiler_warnings.is_empty() {
            let rendered: Vec<&str> =
                exercise.compiler_warnings.iter().map(|w| w.rendered.as_str()).collect();
            let _ = writeln!(md, "The compiler warned:\n");
            let _ = writeln!(md, "{}\n", sanitise::code_block(&rendered.join("\n\n")));
        }
        let _ = writeln!(md, "| | criterion | points |\n| --- | --- | --- |");
        for criterion in &exercise.criteria {
            let mark = if criterion.status == Status::Passed { "✓" } else { "✗" };
            let _ = writeln!(
                md,
                "| {mark} | {} (`{}`) | {}/{} |",
                criterion.title, criterion.id, criterion.score, criterion.max_score
            );
        }
        md.push('\n');
        let graded = exercise.stage == crate::report::Stage::Graded;
        for criterion in exercise.criteria.iter().filter(|c| c.status != Status::Passed && graded) {
            let _ = writeln!(md, "### ✗ {} — {}\n", criterion.id, criterion.title);
            // The evidence quotes the service: shown verbatim, never as Markdown.
            let _ = writeln!(md, "{}\n", sanitise::code_block(&criterion.message));
            if let Some(said) = &criterion.service_output {
                let _ = writeln!(md, "The service said:\n\n{}\n", sanitise::code_block(said));
            }
            for note in &criterion.notes {
                let _ = writeln!(md, "*Note:* {}\n", sanitise::for_terminal(note));
            }
            let _ = writeln!(md, "*Hint:* {}\n", criterion.hint);
        }
    }
    md
}

/// Gradescope's `results.json`: one test per criterion.
pub fn gradescope(meta: &Meta, report: &Report) -> serde_json::Value {
    let tests: Vec<serde_json::Value> = report
        .exercises
        .iter()
        .flat_map(|exercise| {
            exercise.criteria.iter().map(move |criterion| {
                let passed = criterion.status == Status::Passed;
                let output = if passed {
                    String::new()
                } else {
                    format!("{}\nHint: {}", criterion.message, criterion.hint)
                };
                json!({
                    "name": format!("{} · {}", exercise.id, criterion.title),
                    "score": criterion.score,
                    "max_score": criterion.max_score,
                    "status": if passed { "passed" } else { "failed" },
                    "output": output,
                    "visibility": "visible",
                })
            })
        })
        .collect();
    json!({
        "score": report.score,
        "execution_time": meta.seconds.round() as u64,
        "output": format!("Total {}/{} (seed {})", report.score, report.max_score, report.seed),
        "output_format": "text",
        "visibility": "visible",
        "tests": tests,
    })
}

/// `gradebook.csv`: a row per student, a column per exercise, the total and the outcome.
pub fn gradebook(students: &[(Meta, Option<Report>)], exercise_ids: &[String]) -> Result<Vec<u8>> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["student".to_owned(), "source".to_owned()];
    header.extend(exercise_ids.iter().cloned());
    header.extend(["total".to_owned(), "max".to_owned(), "outcome".to_owned()]);
    csv.write_record(&header)?;
    for (meta, report) in students {
        // Names and sources come from the class folder, which students name.
        let mut row = vec![sanitise::csv_cell(&meta.student), sanitise::csv_cell(&meta.source)];
        for id in exercise_ids {
            let score = report
                .as_ref()
                .and_then(|report| report.exercises.iter().find(|e| &e.id == id))
                .map(|exercise| exercise.score.to_string())
                .unwrap_or_default();
            row.push(score);
        }
        row.push(report.as_ref().map(|r| r.score.to_string()).unwrap_or_default());
        row.push(report.as_ref().map(|r| r.max_score.to_string()).unwrap_or_default());
        row.push(serde_json::to_value(meta.outcome)?.as_str().unwrap_or_default().to_owned());
        csv.write_record(&row)?;
    }
    Ok(csv.into_inner()?)
}
