//! What a batch writes for each student, and the class-wide gradebook.
//!
//! Every file is written atomically (to a temporary name, then renamed), so an interrupted
//! batch never leaves a half-written result behind: what is there is complete.

use std::fmt::Write as _;
use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result};
use serde_json::json;

use super::meta::{Meta, Outcome, display_name, outcome_name, student_dir};
use super::submissions::Lms;
use crate::course::Exercise;
use crate::fs::write_atomically;
use crate::report::{Report, Stage, Status, sanitise};

/// Writes a student's result, feedback and Gradescope file, then their meta (last, so that a
/// meta file always has its result beside it).
pub fn write_student(out: &Path, meta: &Meta, report: Option<&Report>) -> Result<()> {
    let dir = student_dir(out, &meta.student);
    if let Some(report) = report {
        write_atomically(&dir.join("result.json"), &serde_json::to_vec_pretty(report)?)?;
        let markdown = feedback(meta, report);
        let title = format!("Feedback for {}", display_name(meta));
        let page = super::feedback_html::render(&title, &markdown);
        write_atomically(&dir.join("feedback.md"), markdown.as_bytes())?;
        write_atomically(&dir.join("feedback.html"), page.as_bytes())?;
        write_atomically(
            &dir.join("results.json"),
            &serde_json::to_vec_pretty(&gradescope(meta, report))?,
        )?;
    }
    write_atomically(&dir.join("meta.json"), &serde_json::to_vec_pretty(meta)?)?;
    forget_attempt(out, &meta.student)
}

/// Clears the note of [`start_attempt`]: the attempt ended without killing the grader.
pub fn forget_attempt(out: &Path, student: &str) -> Result<()> {
    let note = student_dir(out, student).join("attempts.json");
    match std::fs::remove_file(&note) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(err).with_context(|| format!("cannot remove {}", note.display()))
        }
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

/// Moves the results of students who are no longer in the class folder (a withdrawn student, a
/// renamed file) to `OUT/gone/`, so the gradebook has no rows for files that are gone. Returns
/// their ids.
pub fn set_aside_gone(out: &Path, class: &[String]) -> Result<Vec<String>> {
    let Ok(entries) = std::fs::read_dir(out.join("students")) else { return Ok(Vec::new()) };
    let mut gone = Vec::new();
    for entry in entries.filter_map(|entry| entry.ok()) {
        let student = entry.file_name().to_string_lossy().into_owned();
        if class.contains(&student) {
            continue;
        }
        let aside = out.join("gone").join(&student);
        if aside.exists() {
            std::fs::remove_dir_all(&aside)
                .with_context(|| format!("cannot replace {}", aside.display()))?;
        }
        std::fs::create_dir_all(out.join("gone"))?;
        std::fs::rename(entry.path(), &aside)
            .with_context(|| format!("cannot move {} aside", entry.path().display()))?;
        gone.push(student);
    }
    gone.sort();
    Ok(gone)
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
    students.sort_by_cached_key(|(meta, _)| (meta.student.to_lowercase(), meta.student.clone()));
    students
}

/// The Markdown feedback a student reads: every failed criterion with its evidence and hint,
/// or the one reason nothing could be graded, and the command that grades the same way.
pub fn feedback(meta: &Meta, report: &Report) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Feedback for {}\n", sanitise::markdown_text(display_name(meta)));
    let _ =
        writeln!(md, "**Total: {}/{}** (seed {}).\n", report.score, report.max_score, report.seed);
    if let Some(warning) = uncontained_warning(meta) {
        let _ = writeln!(md, "> **{}**\n", sanitise::markdown_text(&warning));
    }
    if !meta.superseded.is_empty() {
        let _ = writeln!(
            md,
            "You handed in {} workbooks; the newest, {}, was graded.\n",
            meta.superseded.len() + 1,
            sanitise::code_span(&meta.source)
        );
    }
    if !meta.attachments.is_empty() {
        let _ = writeln!(
            md,
            "Also handed in, and not graded since no workbook is in them: {}.\n",
            meta.attachments
                .iter()
                .map(|name| sanitise::code_span(name))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if meta.outcome == Outcome::Invalid {
        let reason = meta.message.as_deref().unwrap_or("the submission could not be read");
        let _ = writeln!(md, "**Your submission could not be graded.**\n");
        let _ = writeln!(md, "{}\n", sanitise::code_block(reason));
        let _ = writeln!(md, "No exercise was graded. Fix this and submit again.\n");
        replay(&mut md, report);
        return md;
    }
    if let Some(message) = &meta.message {
        let _ = writeln!(md, "{}\n", sanitise::code_block(message));
    }
    for exercise in &report.exercises {
        let _ = writeln!(
            md,
            "## {} · {} — {}/{}\n",
            exercise.id, exercise.title, exercise.score, exercise.max_score
        );
        for warning in &exercise.warnings {
            let _ = writeln!(md, "> **Warning:** {}\n", sanitise::markdown_with_code(warning));
        }
        let why = match exercise.stage {
            Stage::Graded => None,
            Stage::Missing => Some("This exercise is not in your submission."),
            Stage::BuildFailed => Some("This exercise does not compile:"),
            Stage::DidNotStart => Some("The service did not start:"),
            Stage::TimedOut => Some("Grading ran out of time before this exercise:"),
            Stage::Invalid => Some("Your submission could not be read:"),
        };
        if let Some(why) = why {
            // One reason for the whole exercise, not a row per criterion repeating it.
            let _ = writeln!(md, "{why}\n");
            if let Some(details) = &exercise.details {
                let _ = writeln!(md, "{}\n", sanitise::code_block(details));
            }
            continue;
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
        for criterion in exercise.criteria.iter().filter(|c| c.status != Status::Passed) {
            let _ = writeln!(md, "### ✗ {} — {}\n", criterion.id, criterion.title);
            // The evidence quotes the service: shown verbatim, never as Markdown.
            let _ = writeln!(md, "{}\n", sanitise::code_block(&criterion.message));
            if let Some(said) = &criterion.service_output {
                let _ = writeln!(md, "The service said:\n\n{}\n", sanitise::code_block(said));
            }
            for note in &criterion.notes {
                // Notes name the student's files: in code spans or escaped, never Markdown.
                let _ = writeln!(md, "*Note:* {}\n", sanitise::markdown_with_code(note));
            }
            let _ = writeln!(md, "*Hint:* {}\n", criterion.hint);
        }
    }
    replay(&mut md, report);
    md
}

/// How to grade the same way on one's own machine: the seed replays the settings and data.
fn replay(md: &mut String, report: &Report) {
    let _ = writeln!(md, "## Grade it yourself with the same settings\n");
    let _ = writeln!(md, "From the workbook's folder:\n\n```sh");
    for command in replay_commands(report) {
        let _ = writeln!(md, "{command}");
    }
    let _ = writeln!(md, "```");
}

/// The single-submission commands that replay `report`: one per exercise, or one for all.
pub fn replay_commands(report: &Report) -> Vec<String> {
    let numbers: Vec<u32> = report
        .exercises
        .iter()
        .filter_map(|exercise| Exercise::from_dir_name(&exercise.id))
        .map(|exercise| exercise.number)
        .collect();
    if numbers.len() == crate::course::EXERCISES.len() {
        return vec![format!("cargo run -p grader -- --seed {}", report.seed)];
    }
    numbers
        .iter()
        .map(|number| format!("cargo run -p grader -- --seed {} {number}", report.seed))
        .collect()
}

/// For a submission graded without the whole containment (`--allow-unsandboxed`, or alone in
/// a Gradescope container without privileges), the words that say so wherever its result is
/// shown.
pub fn uncontained_warning(meta: &Meta) -> Option<String> {
    (!meta.uncontained.is_empty()).then(|| {
        format!("Graded without containment: this machine lacked {}.", meta.uncontained.join("; "))
    })
}

/// Gradescope's `results.json`: a test per criterion of each graded exercise (its category as
/// a tag), one test for an exercise that could not be graded (with the compiler's errors or the
/// service's output), and for a submission that could not be read its reason alone.
pub fn gradescope(meta: &Meta, report: &Report) -> serde_json::Value {
    let total = format!("Total {}/{} (seed {})", report.score, report.max_score, report.seed);
    if meta.outcome == Outcome::Invalid {
        let reason = meta.message.as_deref().unwrap_or("the submission could not be read");
        return json!({
            "score": 0,
            "execution_time": meta.seconds.round() as u64,
            "output": format!("Your submission could not be graded: {reason}\n\n{total}"),
            "output_format": "text",
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [],
        });
    }
    let mut tests = Vec::new();
    for exercise in &report.exercises {
        if exercise.stage != Stage::Graded {
            let reason = exercise
                .criteria
                .first()
                .map(|criterion| criterion.message.clone())
                .unwrap_or_default();
            let output = match &exercise.details {
                Some(details) => format!("{reason}\n\n{details}"),
                None => reason,
            };
            tests.push(json!({
                "name": format!("{} · {}", exercise.id, exercise.title),
                "score": 0,
                "max_score": exercise.max_score,
                "status": "failed",
                "output": output,
                "tags": [stage_tag(exercise.stage)],
                "visibility": "visible",
            }));
            continue;
        }
        for criterion in &exercise.criteria {
            let passed = criterion.status == Status::Passed;
            let output = if passed {
                String::new()
            } else {
                format!("{}\nHint: {}", criterion.message, criterion.hint)
            };
            tests.push(json!({
                "name": format!("{} · {}", exercise.id, criterion.title),
                "score": criterion.score,
                "max_score": criterion.max_score,
                "status": if passed { "passed" } else { "failed" },
                "output": output,
                "tags": [criterion.category.to_string()],
                "visibility": "visible",
            }));
        }
    }
    // What stopped an exercise (the compiler's errors, say) goes on top, where students look.
    let mut output = match uncontained_warning(meta) {
        Some(warning) => format!("{warning}\n\n{total}"),
        None => total,
    };
    for exercise in report.exercises.iter().filter(|e| e.stage != Stage::Graded) {
        output.push_str(&format!("\n\n{} {}", exercise.id, stage_tag(exercise.stage)));
        if let Some(details) = &exercise.details {
            output.push_str(&format!(":\n{details}"));
        }
    }
    json!({
        "score": report.score,
        "execution_time": meta.seconds.round() as u64,
        // For the instructor: what kept the code in check here, and what this machine lacked.
        "extra_data": {
            "contained": meta.uncontained.is_empty(),
            "uncontained": meta.uncontained,
            "isolation": report.isolation,
        },
        "output": output,
        "output_format": "text",
        // The results are for the student; the autograder's own log is the instructor's.
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    })
}

fn stage_tag(stage: Stage) -> &'static str {
    match stage {
        Stage::Graded => "graded",
        Stage::Missing => "missing",
        Stage::BuildFailed => "does not build",
        Stage::DidNotStart => "did not start",
        Stage::TimedOut => "timed out",
        Stage::Invalid => "invalid",
    }
}

/// `gradebook.csv`: a row per student (their id, name as the LMS wrote it, LMS id, school id
/// and email where the export has them, whether late), a column per exercise, the total and
/// the outcome.
pub fn gradebook(students: &[(Meta, Option<Report>)], exercise_ids: &[String]) -> Result<Vec<u8>> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> =
        ["student", "name", "lms_id", "sis_id", "email", "late", "source"]
            .map(str::to_owned)
            .to_vec();
    header.extend(exercise_ids.iter().cloned());
    header.extend(["total", "max", "outcome", "contained"].map(str::to_owned));
    csv.write_record(&header)?;
    for (meta, report) in students {
        // Names and sources come from the class folder, which students name.
        let mut row = vec![
            sanitise::csv_cell(&meta.student),
            sanitise::csv_cell(&meta.name),
            sanitise::csv_cell(meta.lms_id.as_deref().unwrap_or_default()),
            sanitise::csv_cell(meta.sis_id.as_deref().unwrap_or_default()),
            sanitise::csv_cell(meta.email.as_deref().unwrap_or_default()),
            if meta.late { "late" } else { "" }.to_owned(),
            sanitise::csv_cell(&meta.source),
        ];
        for id in exercise_ids {
            row.push(
                exercise_score(report.as_ref(), id).map(|s| s.to_string()).unwrap_or_default(),
            );
        }
        row.push(report.as_ref().map(|r| r.score.to_string()).unwrap_or_default());
        row.push(report.as_ref().map(|r| r.max_score.to_string()).unwrap_or_default());
        row.push(outcome_name(meta.outcome));
        // Graded without the containment (`--allow-unsandboxed`): said on every row.
        row.push(if meta.uncontained.is_empty() { "yes" } else { "no" }.to_owned());
        csv.write_record(&row)?;
    }
    Ok(csv.into_inner()?)
}

/// A student's score in one exercise, when it was in their result.
pub fn exercise_score(report: Option<&Report>, exercise_id: &str) -> Option<u32> {
    report?.exercises.iter().find(|e| e.id == exercise_id).map(|exercise| exercise.score)
}

/// The column the LMS imports get the total in. Canvas matches a column without an `(id)` by
/// its exact title, so the assignment must be named so (or the column renamed).
const ASSIGNMENT: &str = "Caching & Performance workbook";

/// The students an LMS can match: named by its export, with their id and a result.
fn students_of(
    lms: Lms,
    students: &[(Meta, Option<Report>)],
) -> impl Iterator<Item = (&Meta, &str, &Report)> {
    students
        .iter()
        .filter(move |(meta, _)| meta.lms() == Some(lms))
        .filter_map(|(meta, report)| Some((meta, meta.lms_id.as_deref()?, report.as_ref()?)))
}

/// `canvas-import.csv`: Canvas' gradebook import (Grades → Import), matched on the user id
/// Canvas put in the file names, with the "Points Possible" row Canvas expects. Only
/// students of a Canvas export are in it. Canvas imports no comments: an invalid submission's
/// cell is left empty, which leaves its grade alone (the reason is in the feedback).
pub fn canvas_import(students: &[(Meta, Option<Report>)]) -> Result<Vec<u8>> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT])?;
    let max = students_of(Lms::Canvas, students).map(|(_, _, report)| report.max_score).max();
    let possible = max.map(|m| m.to_string()).unwrap_or_default();
    csv.write_record(["Points Possible", "", "", "", "", &possible])?;
    for (meta, id, report) in students_of(Lms::Canvas, students) {
        let name = sanitise::csv_cell(display_name(meta));
        let score = match meta.outcome {
            Outcome::Invalid => String::new(),
            _ => report.score.to_string(),
        };
        csv.write_record([&name, &sanitise::csv_cell(id), "", "", "", &score])?;
    }
    Ok(csv.into_inner()?)
}

/// `moodle-grades.csv`: Moodle's offline grading worksheet (Assignment → Upload grading
/// worksheet), matched on the participant id Moodle put in the file names; only students of a
/// Moodle export are in it. Moodle requires the columns `Identifier`, `Grade` and
/// `Last modified (grade)` (in English: it looks them up in the site's language) and skips
/// any grade above the assignment's maximum, 100 by default: so the grade is a percentage,
/// and the comment says the points. An invalid submission gets no grade, only the reason.
pub fn moodle_import(students: &[(Meta, Option<Report>)], written: SystemTime) -> Result<Vec<u8>> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(MOODLE_COLUMNS)?;
    // Moodle leaves alone a grade changed in Moodle after this time.
    let modified = httpdate::fmt_http_date(written);
    for (meta, id, report) in students_of(Lms::Moodle, students) {
        let (grade, comment) = match meta.outcome {
            Outcome::Invalid => {
                let reason = meta.message.as_deref().unwrap_or("the submission could not be read");
                (String::new(), format!("Not graded: {reason}"))
            }
            _ => {
                let percent = percent(report.score, report.max_score);
                let points = format!("{}/{} points", report.score, report.max_score);
                (percent.clone(), format!("{points}, entered as {percent}% (seed {})", report.seed))
            }
        };
        csv.write_record([
            format!("Participant {}", sanitise::csv_cell(id)),
            sanitise::csv_cell(display_name(meta)),
            grade,
            "100".to_owned(),
            modified.clone(),
            sanitise::csv_cell(&comment),
        ])?;
    }
    Ok(csv.into_inner()?)
}

/// The worksheet's columns, as Moodle names them on an English site.
const MOODLE_COLUMNS: [&str; 6] = [
    "Identifier",
    "Full name",
    "Grade",
    "Maximum Grade",
    "Last modified (grade)",
    "Feedback comments",
];

/// `score` out of `max` in percent, to two decimals at most (`85`, `95.28`).
fn percent(score: u32, max: u32) -> String {
    if max == 0 {
        return "0".to_owned();
    }
    let percent = format!("{:.2}", f64::from(score) * 100.0 / f64::from(max));
    percent.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn student(name: &str, lms_id: Option<&str>, score: u32) -> (Meta, Option<Report>) {
        let meta = Meta {
            student: name.replace(' ', "-"),
            name: name.to_owned(),
            lms_id: lms_id.map(str::to_owned),
            source: format!("{name}.zip"),
            seconds: 1.0,
            ..Meta::example(name, Outcome::Graded)
        };
        let mut report = Report::new(7, String::new(), Vec::new());
        (report.score, report.max_score) = (score, 20);
        (meta, Some(report))
    }

    /// A student of `lms` with `score` of `max` points.
    fn of(lms: Lms, name: &str, id: &str, (score, max): (u32, u32)) -> (Meta, Option<Report>) {
        let (mut meta, mut report) = student(name, Some(id), score);
        meta.lms = Some(lms);
        if let Some(report) = &mut report {
            report.max_score = max;
        }
        (meta, report)
    }

    fn invalid(student: (Meta, Option<Report>), reason: &str) -> (Meta, Option<Report>) {
        let (mut meta, mut report) = student;
        meta.outcome = Outcome::Invalid;
        meta.message = Some(reason.to_owned());
        if let Some(report) = &mut report {
            report.score = 0;
        }
        (meta, report)
    }

    /// Every kind of student the imports meet: Canvas and Moodle, graded and invalid, above
    /// 100 points, Gradescope, a plain folder, and a `meta.json` from before the LMS was
    /// recorded (a Moodle folder in its source).
    fn mixed_class() -> Vec<(Meta, Option<Report>)> {
        let (mut old, report) = student("Old Timer", Some("16"), 13);
        old.source = "Old Timer_16_assignsubmission_file_/workbook.zip".to_owned();
        vec![
            of(Lms::Canvas, "ann", "1001", (106, 106)),
            invalid(of(Lms::Canvas, "bo", "1002", (0, 106)), "the archive is empty"),
            of(Lms::Moodle, "Cy Ng", "12", (101, 106)),
            invalid(of(Lms::Moodle, "Di Ho", "14", (0, 106)), "the archive is empty"),
            (old, report),
            of(Lms::Gradescope, "submission_77", "77", (50, 106)),
            student("plain", None, 20),
        ]
    }

    fn records(csv: Vec<u8>) -> Vec<csv::StringRecord> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(csv.as_slice());
        reader.records().map(|record| record.unwrap()).collect()
    }

    /// The grade cell's number, checked to lie within 0..=`max`; `None` when empty.
    fn grade_within(cell: &str, max: f64) -> Option<f64> {
        if cell.is_empty() {
            return None;
        }
        let grade: f64 = cell.parse().unwrap_or_else(|_| panic!("{cell:?} is not a number"));
        assert!((0.0..=max).contains(&grade), "{grade} is outside 0..={max}");
        Some(grade)
    }

    #[test]
    fn the_moodle_worksheet_keeps_moodles_import_rules() {
        let class = mixed_class();
        let rows = records(moodle_import(&class, SystemTime::UNIX_EPOCH).unwrap());
        let header: Vec<&str> = rows[0].iter().collect();
        let column = |name: &str| {
            header.iter().position(|c| *c == name).unwrap_or_else(|| panic!("no {name} column"))
        };
        let (id, grade, max) = (column("Identifier"), column("Grade"), column("Maximum Grade"));
        let (modified, comment) = (column("Last modified (grade)"), column("Feedback comments"));
        let mut ids = Vec::new();
        for row in &rows[1..] {
            let participant = row[id].strip_prefix("Participant ").expect("Moodle's identifier");
            assert!(participant.bytes().all(|b| b.is_ascii_digit()), "{row:?}");
            ids.push(participant.to_owned());
            // Moodle skips a grade above the assignment's maximum (100 unless changed).
            let max: f64 = row[max].parse().unwrap();
            assert_eq!(max, 100.0);
            let invalid = row[comment].starts_with("Not graded: the archive is empty");
            assert_eq!(grade_within(&row[grade], max).is_none(), invalid, "{row:?}");
            assert!(httpdate::parse_http_date(&row[modified]).is_ok(), "{row:?}");
        }
        assert_eq!(ids, ["12", "14", "16"], "only Moodle's participants");
        let cy = &rows[1];
        assert_eq!(
            (&cy[grade], &cy[comment]),
            ("95.28", "101/106 points, entered as 95.28% (seed 7)")
        );
    }

    #[test]
    fn the_canvas_import_keeps_canvas_import_rules() {
        let rows = records(canvas_import(&mixed_class()).unwrap());
        let header: Vec<&str> = rows[0].iter().collect();
        assert_eq!(header[..5], ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]);
        assert_eq!(header[5], ASSIGNMENT, "matched by its exact title");
        assert_eq!(&rows[1][0], "Points Possible");
        let possible: f64 = rows[1][5].parse().unwrap();
        assert_eq!(possible, 106.0);
        let students: Vec<(&str, Option<f64>)> =
            rows[2..].iter().map(|row| (&row[1], grade_within(&row[5], possible))).collect();
        assert_eq!(students, [("1001", Some(106.0)), ("1002", None)], "only Canvas users");
    }

    #[test]
    fn students_whose_files_are_gone_leave_the_gradebook() {
        let out = tempfile::tempdir().unwrap();
        for (meta, report) in [student("Ann Lee", None, 20), student("Bo Chen", None, 10)] {
            write_student(out.path(), &meta, report.as_ref()).unwrap();
        }
        let gone = set_aside_gone(out.path(), &["Ann-Lee".to_owned()]).unwrap();
        assert_eq!(gone, ["Bo-Chen"]);
        let left: Vec<String> =
            load_students(out.path()).into_iter().map(|(meta, _)| meta.student).collect();
        assert_eq!(left, ["Ann-Lee"]);
        assert!(out.path().join("gone/Bo-Chen/meta.json").is_file(), "kept aside, not deleted");
    }

    #[test]
    fn lms_imports_hold_the_students_the_lms_can_match() {
        let mut class = [
            student("José García", Some("12"), 17),
            student("=cmd|x", Some("13"), 20),
            student("no id", None, 5),
        ];
        class[0].0.lms = Some(Lms::Canvas);
        class[1].0.lms = Some(Lms::Canvas);
        let canvas = String::from_utf8(canvas_import(&class).unwrap()).unwrap();
        assert_eq!(
            canvas,
            "Student,ID,SIS User ID,SIS Login ID,Section,Caching & Performance workbook\n\
             Points Possible,,,,,20\nJosé García,12,,,,17\n'=cmd|x,13,,,,20\n"
        );
        class[0].0.lms = Some(Lms::Moodle);
        class[1].0.lms = Some(Lms::Moodle);
        let written = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let moodle = String::from_utf8(moodle_import(&class, written).unwrap()).unwrap();
        assert_eq!(
            moodle,
            "Identifier,Full name,Grade,Maximum Grade,Last modified (grade),Feedback comments\n\
             Participant 12,José García,85,100,\"Tue, 14 Nov 2023 22:13:20 GMT\",\
             \"17/20 points, entered as 85% (seed 7)\"\n\
             Participant 13,'=cmd|x,100,100,\"Tue, 14 Nov 2023 22:13:20 GMT\",\
             \"20/20 points, entered as 100% (seed 7)\"\n"
        );
    }

    #[test]
    fn a_submission_graded_without_containment_says_so_in_every_result() {
        let (mut meta, report) = student("Ann Lee", None, 20);
        let report = report.unwrap();
        let contained = gradescope(&meta, &report);
        assert_eq!(contained["extra_data"]["contained"], true);
        meta.uncontained = vec!["bubblewrap (bwrap not found)".to_owned()];
        let results = gradescope(&meta, &report);
        assert_eq!(results["extra_data"]["contained"], false);
        let output = results["output"].as_str().unwrap();
        assert!(output.starts_with("Graded without containment"), "{output}");
        assert!(feedback(&meta, &report).contains("Graded without containment"));
        let page = super::super::html::render(
            &[(meta, Some(report))],
            &super::super::html::Provenance {
                seed: None,
                workbook: None,
                generated: String::new(),
            },
            None,
        );
        assert!(page.contains("id=uncontained data-count=1"), "{page}");
    }
}
