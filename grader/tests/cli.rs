//! The command line: arguments, exit codes and the errors a student meets first.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;

fn grader() -> Command {
    let mut command = Command::cargo_bin("grader").unwrap();
    command.env_remove("REDIS_URL");
    command
}

#[test]
fn an_unknown_exercise_is_a_usage_error_listing_the_exercises() {
    grader()
        .arg("no-such-exercise")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("01-redis-setup"));
}

#[test]
fn an_unknown_option_exits_with_2() {
    grader().arg("--no-such-option").assert().code(2);
}

#[test]
fn a_class_is_never_graded_without_containment() {
    let class = tempfile::tempdir().unwrap();
    grader()
        .args(["--without-containment", "batch", class.path().to_str().unwrap()])
        .args(["--out", class.path().join("out").to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("cannot be used with")
                .and(predicate::str::contains("--without-containment")),
        );
}

#[test]
fn a_missing_submission_folder_exits_with_2() {
    grader()
        .args(["--path", "/nonexistent/submission"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a folder of exercises"));
}

#[test]
fn without_redis_the_grader_names_the_install_command() {
    let install = if cfg!(target_os = "macos") {
        // The grader finds Homebrew's Redis off PATH too: only a Mac without it can test this.
        let homebrew = ["/opt/homebrew/bin/redis-server", "/usr/local/bin/redis-server"];
        if homebrew.iter().any(|binary| std::path::Path::new(binary).exists()) {
            eprintln!("skipped: Homebrew's redis-server is installed");
            return;
        }
        "brew install redis"
    } else {
        "apt-get install -y redis-server"
    };
    // A PATH that holds cargo but no redis-server.
    let cargo_dir = std::path::Path::new(env!("CARGO")).parent().unwrap().to_owned();
    grader()
        .env("PATH", cargo_dir)
        .arg("1")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(install));
}

// Where the Linux containment cannot exist; on Linux the decision is unit-tested
// (`containment.rs`), since a test run as root cannot take it away.
#[cfg(not(target_os = "linux"))]
#[test]
fn batch_refuses_an_uncontained_class_unless_allowed() {
    let class = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    grader()
        .args(["batch", class.path().to_str().unwrap(), "--out", out.path().to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("refusing to grade a class without containment"))
        .stderr(predicate::str::contains("--allow-unsandboxed"));
}

#[test]
fn help_describes_the_grader() {
    grader().arg("--help").assert().success().stdout(predicate::str::contains("--seed"));
}

#[test]
fn the_class_commands_help_lists_only_what_they_use() {
    let batch = grader().args(["batch", "--help"]).output().unwrap();
    let batch = String::from_utf8(batch.stdout).unwrap();
    assert!(batch.contains("--seed") && !batch.contains("--state"), "{batch}");
    let merge = grader().args(["merge", "--help"]).output().unwrap();
    let merge = String::from_utf8(merge.stdout).unwrap();
    let out = merge.lines().find(|line| line.trim_start().starts_with("--out")).unwrap();
    assert!(out.contains("Where to write"), "--out has no help: {merge}");
    let list = grader().args(["list", "--help"]).output().unwrap();
    assert!(String::from_utf8(list.stdout).unwrap().contains("--state"));
}

#[test]
fn a_missing_exercise_folder_is_graded_as_not_submitted() {
    let empty = tempfile::tempdir().unwrap();
    let _one_at_a_time = common::serial();
    let run = common::grade(5, &["--path", empty.path().to_str().unwrap(), "1"]);
    let exercise = run.exercise("01-redis-setup");
    assert_eq!(exercise["stage"], "missing", "missing is not \"does not build\"");
    assert_eq!(exercise["score"], 0);
    assert!(
        exercise["details"]
            .as_str()
            .unwrap()
            .contains("your submission has no folder 01-redis-setup")
    );
    assert_eq!(run.code, 1);
}

/// A copy of the solution of exercise 1 with one file rewritten by `change`.
fn patched_solution(file: &str, change: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let exercise = dir.path().join("01-redis-setup");
    common::copy_dir(&common::root().join("solutions/01-redis-setup"), &exercise);
    let path = exercise.join(file);
    std::fs::write(&path, change(std::fs::read_to_string(&path).unwrap())).unwrap();
    dir
}

#[test]
fn a_compile_error_is_a_graded_failure_with_the_compilers_message() {
    let dir = patched_solution("src/settings.rs", |_| "this is not rust".to_owned());
    let _one_at_a_time = common::serial();
    let run = common::grade(5, &["--path", dir.path().to_str().unwrap(), "1"]);
    let report = run.exercise("01-redis-setup");
    assert_eq!(report["stage"], "build_failed");
    assert!(report["details"].as_str().unwrap().contains("error"), "{}", report["details"]);
    assert!(report["criteria"].as_array().unwrap().iter().all(|c| c["status"] == "failed"));
    assert_eq!(run.code, 1);
}

#[test]
fn a_service_that_panics_at_start_up_is_reported_with_its_output() {
    let dir = patched_solution("src/lib.rs", |main| {
        main.replace(
            "let config = context.config;",
            "let config = context.config;\n    panic!(\"deliberate start-up crash\");",
        )
    });
    let _one_at_a_time = common::serial();
    let run = common::grade(5, &["--path", dir.path().to_str().unwrap(), "1"]);
    let report = run.exercise("01-redis-setup");
    assert_eq!(report["stage"], "did_not_start");
    assert!(
        report["details"].as_str().unwrap().contains("deliberate start-up crash"),
        "{}",
        report["details"]
    );
    assert_eq!(report["score"], 0);
}

#[test]
fn the_json_report_has_the_documented_shape() {
    let _one_at_a_time = common::serial();
    let run =
        common::grade(21, &["--path", common::root().join("solutions").to_str().unwrap(), "1"]);
    assert_eq!(run.json["seed"], 21);
    for field in ["score", "max_score"] {
        assert!(run.json[field].is_u64(), "{field}");
    }
    let exercise = run.exercise("01-redis-setup");
    for criterion in exercise["criteria"].as_array().unwrap() {
        for field in ["id", "title", "category", "status", "message", "hint"] {
            assert!(criterion[field].is_string(), "{field} in {criterion}");
        }
        assert!(criterion["score"].is_u64() && criterion["max_score"].is_u64());
    }
}

#[test]
fn only_names_criteria_of_the_exercise_or_is_refused_with_the_list() {
    let output = Command::cargo_bin("grader")
        .unwrap()
        .args(["--only", "no-such-criterion", "1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("no criterion `no-such-criterion`"), "{said}");
    assert!(said.contains("survives-outage"), "{said}");
}
