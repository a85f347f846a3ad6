//! `grader batch` over a small class: exact gradebook figures, per-student files, resuming,
//! and merging shards.

mod common;

use std::io::Write;
use std::path::Path;

use assert_cmd::Command;
use common::{Fixture, copy_dir, root, serial};

const EXERCISE: &str = "01-redis-setup";

/// A class of six: complete, partial, broken, hanging, zipped and unreadable.
fn build_class(dir: &Path) {
    let solution = root().join("solutions").join(EXERCISE);
    // alice: a checkout of the whole workbook with the exercise solved (and solutions beside).
    copy_dir(&solution, &dir.join("alice/exercises").join(EXERCISE));
    copy_dir(&solution, &dir.join("alice/solutions").join(EXERCISE));
    // bob: sessions without a TTL, the two points of `session-expiry` lost.
    let bob =
        Fixture::all(EXERCISE).into_iter().find(|f| f.name == "sessions-without-ttl").unwrap();
    bob.materialise(&dir.join("bob"));
    // carol: does not compile.
    copy_dir(&solution, &dir.join("carol").join(EXERCISE));
    std::fs::write(dir.join("carol").join(EXERCISE).join("src/cache.rs"), "fn broken(").unwrap();
    // dave: every exercise route hangs.
    copy_dir(&solution, &dir.join("dave").join(EXERCISE));
    let routes = dir.join("dave").join(EXERCISE).join("src/routes.rs");
    let hanging = std::fs::read_to_string(&routes).unwrap().replace(
        "pub fn router(state: AppState) -> Router {",
        "pub fn router(state: AppState) -> Router {\n    let state = state.clone();\n    \
         let hang = || async { std::future::pending::<()>().await };\n    \
         return Router::new().fallback(hang).with_state(state);\n    #[allow(unreachable_code)]",
    );
    std::fs::write(&routes, hanging).unwrap();
    // erin: the solution as a Canvas zip download.
    zip_folder(
        &solution,
        &dir.join("erin_LATE_1234_5678_workbook.zip"),
        &format!("workbook/exercises/{EXERCISE}"),
    );
    // frank: not an archive at all.
    std::fs::write(dir.join("frank.zip"), b"this is not a zip file").unwrap();
}

fn zip_folder(folder: &Path, archive: &Path, prefix: &str) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(archive).unwrap());
    let mut stack = vec![folder.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = format!("{prefix}/{}", path.strip_prefix(folder).unwrap().display());
                zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
                zip.write_all(&std::fs::read(&path).unwrap()).unwrap();
            }
        }
    }
    zip.finish().unwrap();
}

/// `grader batch`, also where the Linux containment is missing (macOS): these tests are about
/// the batch, not the containment (`hostile.rs` is).
fn batch(class: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("grader")
        .unwrap()
        .env_remove("REDIS_URL")
        .args(["batch", class.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .args(["--exercise", "1", "--jobs", "2", "--timeout", "60", "--allow-unsandboxed"])
        .args(extra)
        .output()
        .unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn a_class_is_graded_into_a_gradebook_feedback_and_a_report() {
    let _one_at_a_time = serial();
    // The per-submission time limit below is short on purpose (dave hangs): build first.
    common::warm_build();
    let class = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    build_class(class.path());

    let first = batch(class.path(), out.path(), &["--seed", "9"]);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(0), "{stderr}");

    assert_eq!(
        read(&out.path().join("gradebook.csv")),
        "student,source,01-redis-setup,total,max,outcome\n\
         alice,alice,20,20,20,graded\n\
         bob,bob,18,18,20,graded\n\
         carol,carol,0,0,20,graded\n\
         dave,dave,0,0,20,timed_out\n\
         erin,erin_LATE_1234_5678_workbook.zip,20,20,20,graded\n\
         frank,frank.zip,0,0,20,invalid\n",
        "{stderr}"
    );

    let students = out.path().join("students");
    // Per student: the same JSON as --format json, Markdown feedback and Gradescope's file.
    let bob: serde_json::Value =
        serde_json::from_str(&read(&students.join("bob/result.json"))).unwrap();
    assert_eq!(bob["score"], 18);
    let feedback = read(&students.join("bob/feedback.md"));
    assert!(feedback.contains("session-expiry") && feedback.contains("*Hint:*"), "{feedback}");
    let gradescope: serde_json::Value =
        serde_json::from_str(&read(&students.join("bob/results.json"))).unwrap();
    assert_eq!(gradescope["score"], 18);
    assert_eq!(gradescope["tests"].as_array().unwrap().len(), 8);
    assert!(
        gradescope["tests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["status"] == "failed" && t["max_score"] == 2)
    );
    assert!(
        read(&students.join("carol/feedback.md")).contains("error"),
        "the compiler's message reaches carol"
    );
    assert!(read(&students.join("frank/meta.json")).contains("not a readable zip file"));

    let html = read(&out.path().join("report.html"));
    for expected in [
        "Score distribution",
        "Pass rate per criterion",
        "students/dave/feedback.md",
        "ran out of time",
        "does not build",
    ] {
        assert!(html.contains(expected), "report.html lacks {expected:?}");
    }

    // A second run finds nothing changed and grades nothing ...
    let gradebook = read(&out.path().join("gradebook.csv"));
    let second = batch(class.path(), out.path(), &["--seed", "9"]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("0 to grade, 6 unchanged"), "{stderr}");
    assert_eq!(read(&out.path().join("gradebook.csv")), gradebook);

    // ... and merging two halves of the output gives the same gradebook.
    let (half_a, half_b, merged) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for (index, entry) in std::fs::read_dir(&students).unwrap().enumerate() {
        let entry = entry.unwrap();
        let half = if index % 2 == 0 { half_a.path() } else { half_b.path() };
        copy_dir(&entry.path(), &half.join("students").join(entry.file_name()));
    }
    Command::cargo_bin("grader")
        .unwrap()
        .args(["merge", half_a.path().to_str().unwrap(), half_b.path().to_str().unwrap()])
        .args(["--out", merged.path().to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(read(&merged.path().join("gradebook.csv")), gradebook);
}

#[test]
fn shards_partition_the_class() {
    let class = tempfile::tempdir().unwrap();
    for student in ["ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal"] {
        std::fs::create_dir_all(class.path().join(student)).unwrap();
    }
    let mut seen = Vec::new();
    for shard in ["1/2", "2/2"] {
        let out = tempfile::tempdir().unwrap();
        // No exercises folder: each is graded as invalid at once, which is enough to see who.
        let run = batch(class.path(), out.path(), &["--shard", shard]);
        assert_eq!(run.status.code(), Some(0));
        let gradebook = read(&out.path().join("gradebook.csv"));
        seen.extend(
            gradebook.lines().skip(1).map(|line| line.split(',').next().unwrap().to_owned()),
        );
    }
    seen.sort();
    assert_eq!(seen, ["ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal"]);
}

#[test]
fn an_interrupted_batch_resumes_without_losing_a_grade() {
    let _one_at_a_time = serial();
    common::warm_build();
    let class = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let solution = root().join("solutions").join(EXERCISE);
    for student in ["amy", "ben", "cy"] {
        copy_dir(&solution, &class.path().join(student).join(EXERCISE));
    }

    // Kill the batch as soon as the first student's result is on disk.
    let mut running = std::process::Command::new(assert_cmd::cargo::cargo_bin("grader"))
        .args(["batch", class.path().to_str().unwrap(), "--out", out.path().to_str().unwrap()])
        .args(["--exercise", "1", "--jobs", "1", "--allow-unsandboxed"])
        .env_remove("REDIS_URL")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let first_meta = || {
        std::fs::read_dir(out.path().join("students"))
            .map(|entries| {
                entries.flatten().filter(|e| e.path().join("meta.json").exists()).count()
            })
            .unwrap_or(0)
    };
    while first_meta() == 0 {
        assert!(
            running.try_wait().unwrap().is_none(),
            "the batch ended before it could be interrupted"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    running.kill().unwrap();
    running.wait().unwrap();
    let finished = first_meta();
    assert!(finished < 3, "the batch was interrupted after {finished} of 3");

    // The second run (no --seed: the batch's own is reused) grades only what the first did not
    // finish, and every grade is whole.
    let resumed = batch(class.path(), out.path(), &[]);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(
        stderr.contains(&format!("{} to grade, {finished} unchanged", 3 - finished)),
        "{stderr}"
    );
    assert_eq!(
        read(&out.path().join("gradebook.csv")),
        "student,source,01-redis-setup,total,max,outcome\n\
         amy,amy,20,20,20,graded\nben,ben,20,20,20,graded\ncy,cy,20,20,20,graded\n"
    );
}
