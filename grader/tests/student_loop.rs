//! The student's loop through the real binary: `grader list`, progress kept between runs,
//! `grader reset` in a git checkout, and `grader --watch` re-grading on a save.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

/// The grader with its state (progress, backups) in `state`, never the workbook's own.
fn grader(state: &Path) -> Command {
    let mut command = Command::cargo_bin("grader").unwrap();
    command.env_remove("REDIS_URL").env("GRADER_STATE", state);
    command
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The ids of the exercises the grader has criteria for, with their criteria ids and points.
fn registry() -> serde_json::Value {
    let output =
        Command::cargo_bin("grader").unwrap().args(["criteria", "--format", "json"]).output();
    serde_json::from_slice(&output.unwrap().stdout).unwrap()
}

#[test]
fn list_shows_every_checklist_item_with_its_book_pages() {
    let state = tempfile::tempdir().unwrap();
    let output = grader(state.path()).arg("list").output().unwrap();
    assert!(output.status.success());
    let listed = stdout(&output);
    let graded: Vec<String> = registry()["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .map(|exercise| exercise["id"].as_str().unwrap().to_owned())
        .collect();
    for id in ["01-redis-setup", "02-view-cache", "03-low-level-cache", "04-invalidation"]
        .into_iter()
        .chain(["05-fragment-cache", "06-query-optimisation"])
    {
        let heading = listed
            .lines()
            .find(|line| line.contains(&format!(" {id} · ")))
            .unwrap_or_else(|| panic!("no line for {id}:\n{listed}"));
        let standing =
            if graded.iter().any(|g| g == id) { "not graded yet" } else { "not available yet" };
        assert!(heading.ends_with(standing), "{heading}");
        // The page a student opens: the built file, or where `mdbook serve` serves it.
        for page in [format!("chapters/{id}.html"), format!("exercises/{id}.html")] {
            let built = format!("book/book/{page}");
            let served = format!("http://localhost:3000/{page} (mdbook serve book)");
            assert!(
                listed.contains(&built) || listed.contains(&served),
                "{page} missing:\n{listed}"
            );
        }
    }
    assert!(listed.ends_with("next: exercise 1, not graded yet: cargo run -p grader -- 1\n"));
}

#[test]
fn a_graded_run_is_remembered_as_progress() {
    let state = tempfile::tempdir().unwrap();
    // The workbook's own exercise 1 is the starter: every criterion fails.
    let output = {
        let _one_at_a_time = common::serial();
        grader(state.path()).arg("1").output().unwrap()
    };
    let scorecard = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{scorecard}");
    let registry = registry();
    let exercise = &registry["exercises"][0];
    let criteria = exercise["criteria"].as_array().unwrap();
    let first = criteria[0]["id"].as_str().unwrap();
    assert!(scorecard.contains("Submission checklist"), "{scorecard}");
    assert!(scorecard.contains("  [ ] 1 Redis configured and running"), "{scorecard}");
    let next = format!("next: exercise 1, criterion {first}: ");
    assert!(scorecard.contains(&next), "{scorecard}");

    // A later run, which grades nothing, knows the result.
    let output = grader(state.path()).args(["list", "1"]).output().unwrap();
    let listed = stdout(&output);
    let standing = format!("0/{}, 0 of {} criteria pass", exercise["max_score"], criteria.len());
    assert!(listed.lines().next().unwrap().ends_with(&standing), "{listed}");
    for criterion in criteria {
        let line = format!("✗ {}", criterion["id"].as_str().unwrap());
        assert!(listed.contains(&line), "{line} missing:\n{listed}");
    }
    assert!(listed.contains(&next), "{listed}");
}

/// A git command in `dir`, as a fixed author, that must succeed.
fn git(dir: &Path, args: &[&str]) {
    let status = Process::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .envs([
            ("GIT_AUTHOR_NAME", "Course"),
            ("GIT_AUTHOR_EMAIL", "course@example.org"),
            ("GIT_COMMITTER_NAME", "Course"),
            ("GIT_COMMITTER_EMAIL", "course@example.org"),
        ])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The student's own code (`main.rs` is the workbook's).
const MAIN: &str = "exercises/01-redis-setup/src/lib.rs";

/// A course repository whose starter of exercise 1 was fixed after it was first published.
fn course_repository(dir: &Path) {
    git(dir, &["init", "--quiet", "--initial-branch=main"]);
    write(&dir.join("exercises/01-redis-setup/Cargo.toml"), "[package]\n");
    write(&dir.join(MAIN), "// starter, first version\n");
    git(dir, &["add", "."]);
    git(dir, &["commit", "--quiet", "-m", "Exercise 1"]);
    write(&dir.join(MAIN), "// starter, fixed\n");
    git(dir, &["commit", "--quiet", "-am", "Fix the starter of exercise 1"]);
}

/// Work of a student's in exercise 1: a commit, and a module added since.
fn student_work(dir: &Path) {
    write(&dir.join(MAIN), "// my solution\n");
    git(dir, &["commit", "--quiet", "-am", "My work"]);
    write(&dir.join("exercises/01-redis-setup/src/extra.rs"), "// my module\n");
}

#[test]
fn reset_restores_the_starter_the_students_branch_started_from() {
    let course = tempfile::tempdir().unwrap();
    course_repository(course.path());
    let clone = tempfile::tempdir().unwrap();
    let student = clone.path().join("workbook");
    git(clone.path(), &["clone", "--quiet", course.path().to_str().unwrap(), "workbook"]);
    student_work(&student);
    let state = tempfile::tempdir().unwrap();
    let reset = |answer: &str| {
        let mut command = grader(state.path());
        command.args(["reset", "1", "--path"]).arg(student.join("exercises"));
        command.write_stdin(answer).output().unwrap()
    };

    let declined = reset("n\n");
    assert_eq!(declined.status.code(), Some(1));
    assert!(stdout(&declined).contains("Reset exercise 1? [y/N]"), "{}", stdout(&declined));
    assert_eq!(read(&student.join(MAIN)), "// my solution\n");

    let accepted = reset("y\n");
    let said = stdout(&accepted);
    assert_eq!(accepted.status.code(), Some(0), "{said}");
    // The starter in plain words, not a developer's commit message.
    assert!(said.contains("back to its starter: the exercise as you got it"), "{said}");
    assert!(!said.contains("Fix the starter of exercise 1"), "{said}");
    assert!(said.contains("where your branch left origin/HEAD: commit "), "{said}");
    assert_eq!(read(&student.join(MAIN)), "// starter, fixed\n");
    assert!(!student.join("exercises/01-redis-setup/src/extra.rs").exists());

    // The student's files were copied aside, all of them.
    let backups: Vec<_> = std::fs::read_dir(state.path().join("backups")).unwrap().collect();
    assert_eq!(backups.len(), 1);
    let backup = backups.into_iter().next().unwrap().unwrap().path();
    assert!(said.contains(&backup.display().to_string()), "{said}");
    // Named by a readable date: 01-redis-setup-2026-12-06-13h45m12s.
    let name = backup.file_name().unwrap().to_string_lossy().into_owned();
    let when = name.strip_prefix("01-redis-setup-").unwrap_or_else(|| panic!("{name}"));
    let shape: String = when.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect();
    assert_eq!(shape, "9999-99-99-99h99m99s", "{name}");
    assert_eq!(read(&backup.join("src/lib.rs")), "// my solution\n");
    assert_eq!(read(&backup.join("src/extra.rs")), "// my module\n");
}

#[test]
fn without_a_remote_reset_takes_the_commit_that_added_the_exercise_or_the_one_named() {
    let repository = tempfile::tempdir().unwrap();
    course_repository(repository.path());
    student_work(repository.path());
    let state = tempfile::tempdir().unwrap();
    let exercises = repository.path().join("exercises");

    grader(state.path())
        .args(["reset", "redis-setup", "--yes", "--path"])
        .arg(&exercises)
        .assert()
        .success()
        .stdout(predicate::str::contains("the commit that added the exercise"));
    assert_eq!(read(&repository.path().join(MAIN)), "// starter, first version\n");

    grader(state.path())
        .args(["reset", "1", "--yes", "--from", "HEAD~1", "--path"])
        .arg(&exercises)
        .assert()
        .success();
    assert_eq!(read(&repository.path().join(MAIN)), "// starter, fixed\n");
}

#[test]
fn reset_outside_a_git_checkout_is_refused_with_advice() {
    let folder = tempfile::tempdir().unwrap();
    write(&folder.path().join(MAIN), "// my solution\n");
    let state = tempfile::tempdir().unwrap();
    grader(state.path())
        .args(["reset", "1", "--yes", "--path"])
        .arg(folder.path().join("exercises"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not in a git checkout"))
        .stderr(predicate::str::contains("fresh download"));
    assert_eq!(read(&folder.path().join(MAIN)), "// my solution\n");
}

/// A `grader --watch` whose output is read a line at a time.
struct Watch {
    child: Child,
    lines: Receiver<String>,
}

impl Watch {
    fn start(args: &[&str], state: &Path) -> Self {
        let mut child = Process::new(assert_cmd::cargo::cargo_bin("grader"))
            .env_remove("REDIS_URL")
            .env("GRADER_STATE", state)
            .arg("--watch")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (send, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if send.send(line.unwrap()).is_err() {
                    return;
                }
            }
        });
        Self { child, lines }
    }

    /// The lines up to and including the watch prompt that follows a scorecard.
    fn next_scorecard(&mut self, limit: Duration) -> Vec<String> {
        let deadline = Instant::now() + limit;
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|_| {
                panic!("no scorecard within {limit:?}; so far:\n{}", lines.join("\n"))
            });
            let prompt = line.starts_with("Watching ");
            lines.push(line);
            if prompt && lines.iter().any(|line| line.starts_with("Total ")) {
                return lines;
            }
        }
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The lines of a watch's grade from the scorecard's heading on, after the verdicts it
/// streamed while checking.
fn scorecard_part(grade: &[String]) -> &[String] {
    let heading = grade.iter().position(|line| line.starts_with("Exercise ")).unwrap_or(0);
    &grade[heading..]
}

/// The ids of the verdicts a watch streamed before its scorecard, in the order checked.
fn streamed(grade: &[String]) -> Vec<String> {
    let heading = grade.iter().position(|line| line.starts_with("Exercise ")).unwrap_or(0);
    grade[..heading].iter().filter_map(|line| criterion_id(line)).collect()
}

/// `session-expiry` in `  ✗ 0/3   Sessions expire  [session-expiry · sessions]`.
fn criterion_id(line: &str) -> Option<String> {
    let line = line.trim_start();
    if !line.starts_with('✓') && !line.starts_with('✗') && !line.starts_with('!') {
        return None;
    }
    line.rsplit_once('[')?.1.split_once(" · ").map(|(id, _)| id.to_owned())
}

/// The criteria a scorecard marks as failed, sorted.
fn failed(grade: &[String]) -> Vec<String> {
    let mut failed: Vec<String> = scorecard_part(grade)
        .iter()
        .filter(|line| line.trim_start().starts_with('✗'))
        .filter_map(|line| criterion_id(line))
        .collect();
    failed.sort();
    failed
}

/// Saves the files `fixture` changes over the solution in `submission`, one write each, as an
/// editor would.
fn save_variant(fixture: &common::Fixture, submission: &Path) {
    let patched = tempfile::tempdir().unwrap();
    fixture.materialise(patched.path());
    let src = Path::new(&fixture.exercise).join("src");
    let mut saved = 0;
    for entry in std::fs::read_dir(patched.path().join(&src)).unwrap() {
        let name = entry.unwrap().file_name();
        let text = read(&patched.path().join(&src).join(&name));
        if read(&submission.join(&src).join(&name)) != text {
            std::fs::write(submission.join(&src).join(&name), text).unwrap();
            saved += 1;
        }
    }
    assert!(saved > 0, "fixture {} changes no file of src/", fixture.name);
}

#[test]
fn watch_grades_again_on_a_save_and_on_enter_until_q() {
    let submission = tempfile::tempdir().unwrap();
    let exercise = "01-redis-setup";
    common::copy_dir(
        &common::root().join("solutions").join(exercise),
        &submission.path().join(exercise),
    );
    let state = tempfile::tempdir().unwrap();
    let _one_at_a_time = common::serial();
    let mut watch = Watch::start(
        &["--seed", "12", "--path", submission.path().to_str().unwrap(), "1"],
        state.path(),
    );

    // The first grade may have to build the grader's copy of the dependencies.
    let first = watch.next_scorecard(Duration::from_secs(1800));
    assert!(failed(&first).is_empty(), "the solution lost points:\n{}", first.join("\n"));

    // A save that breaks session expiry.
    let fixture = common::Fixture::all(exercise)
        .into_iter()
        .find(|fixture| fixture.name == "sessions-without-ttl")
        .unwrap();
    save_variant(&fixture, submission.path());
    let second = watch.next_scorecard(Duration::from_secs(600));
    assert!(second[0].contains("changed"), "{}", second.join("\n"));
    assert_eq!(failed(&second), fixture.fails, "{}", second.join("\n"));

    // Enter grades again by hand, where file events do not arrive.
    watch.type_line("");
    let third = watch.next_scorecard(Duration::from_secs(600));
    assert!(third[0].contains("graded again"), "{}", third.join("\n"));
    assert_eq!(failed(&third), fixture.fails);
    // Each verdict streamed as it was judged, before the scorecard: what failed last time
    // first, then every other criterion once.
    let order = streamed(&third);
    assert_eq!(order[..fixture.fails.len()], fixture.fails, "{}", third.join("\n"));
    let mut all = order.clone();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), order.len(), "a verdict streamed twice: {order:?}");

    watch.type_line("q");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = watch.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "q did not end the watch");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
    // Another folder than the workbook's own exercises is not the student's progress.
    assert!(!state.path().join("progress.json").exists());
}

#[test]
fn watch_prints_scorecards_only() {
    let state = tempfile::tempdir().unwrap();
    grader(state.path())
        .args(["--watch", "--format", "json", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--format"));
}
