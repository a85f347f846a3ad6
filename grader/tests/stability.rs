//! Scores are a function of the submission, not of the machine's mood: the criteria that look
//! at a clock or at a Redis outage, judged twenty times each with a busy core beside them, give
//! the solution and a known bug one verdict each. And the grader cleans up after itself when
//! interrupted.

// `unsafe` only to call the OS: this test signals processes through libc.
#![allow(unsafe_code)]

mod common;

#[cfg(target_os = "linux")]
use std::time::Duration;

use common::{BusyCore, Fixture, grade, root, serial};

/// How many times each timing-sensitive criterion is judged, solution and bug alike.
const RUNS: u64 = 20;

/// The criteria that look at a clock or at a Redis outage, each with the known-bad fixture
/// whose bug they catch.
const TIMING_SENSITIVE: &[(&str, &str, &str)] = &[
    ("01-redis-setup", "survives-outage", "no-timeouts"),
    ("02-view-cache", "hit-cheaper", "handler-runs-on-hit"),
];

/// The status of `criterion` in `RUNS` gradings of `path` with `--only`, one seed each.
fn verdicts(path: &std::path::Path, exercise: &str, criterion: &str) -> Vec<String> {
    (0..RUNS)
        .map(|seed| {
            let path = path.to_str().unwrap();
            let run = grade(100 + seed, &["--path", path, "--only", criterion, exercise]);
            let criteria = run.exercise(exercise)["criteria"].as_array().unwrap().clone();
            assert_eq!(criteria.len(), 1, "--only {criterion} checked {criteria:?}");
            criteria[0]["status"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn timing_sensitive_criteria_give_one_verdict_in_twenty_runs_under_load() {
    let _one_at_a_time = serial();
    let _busy = BusyCore::start();
    for (exercise, criterion, bug) in TIMING_SENSITIVE {
        let solution = verdicts(&root().join("solutions"), exercise, criterion);
        assert!(solution.iter().all(|status| status == "passed"), "{criterion}: {solution:?}");

        let fixture = Fixture::all(exercise).into_iter().find(|f| f.name == *bug).unwrap();
        assert!(fixture.fails.iter().any(|id| id == criterion), "{bug} must fail {criterion}");
        let dir = tempfile::tempdir().unwrap();
        fixture.materialise(dir.path());
        let variant = verdicts(dir.path(), exercise, criterion);
        assert!(variant.iter().all(|status| status == "failed"), "{criterion}, {bug}: {variant:?}");
    }
}

// Linux-only, like the other tests that find the grader's processes through /proc.
#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_stops_every_process_the_grader_started() {
    let _one_at_a_time = serial();
    let solutions = root().join("solutions");
    let mut grader = std::process::Command::new(assert_cmd::cargo::cargo_bin("grader"))
        .args(["--path", solutions.to_str().unwrap(), "--seed", "3", "1"])
        .env_remove("REDIS_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();

    // Wait until the grader has started its Redis and the service.
    let mut children = Vec::new();
    for _ in 0..600 {
        children = descendants(grader.id());
        // Each group's watchdog is a `sh`: count the programs it watches.
        let programs = children.iter().filter(|pid| command_of(**pid) != "sh").count();
        if programs >= 2 && children.iter().all(|pid| command_of(*pid) != "cargo") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(children.len() >= 2, "the grader never started Redis and the service: {children:?}");

    // SAFETY: sending a signal to a child we own.
    unsafe { libc::kill(grader.id() as i32, libc::SIGINT) };
    let status = grader.wait().unwrap();
    assert_eq!(status.code(), Some(130), "an interrupted grader exits with 130");
    std::thread::sleep(Duration::from_millis(300));
    let survivors: Vec<u32> = children.into_iter().filter(|pid| is_alive(*pid)).collect();
    assert!(survivors.is_empty(), "left running after Ctrl-C: {survivors:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_redis_that_dies_mid_grade_is_restarted_and_costs_no_points() {
    let _one_at_a_time = serial();
    common::warm_build();
    let solutions = root().join("solutions");
    let grader = std::process::Command::new(assert_cmd::cargo::cargo_bin("grader"))
        .args(["--path", solutions.to_str().unwrap(), "--seed", "8", "--format", "json", "1"])
        .env_remove("REDIS_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    // As soon as the service is up, kill the grader's Redis as an out-of-memory killer would.
    let mut redis = None;
    for _ in 0..600 {
        let children = descendants(grader.id());
        let service = children.iter().any(|pid| command_of(*pid).starts_with("exercise-01"));
        redis = children.into_iter().find(|pid| command_of(*pid) == "redis-server");
        if service && redis.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let redis = redis.expect("the grader started no redis-server");
    // SAFETY: killing a process of our own test run.
    unsafe { libc::kill(redis as i32, libc::SIGKILL) };

    let output = grader.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(report["score"], 20, "{stderr}\n{report}");
    assert!(stderr.contains("restarting it and checking again"), "{stderr}");
}

/// Every process below `pid`, from /proc.
#[cfg(target_os = "linux")]
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        let Ok(entries) = std::fs::read_dir("/proc") else { break };
        for entry in entries.flatten() {
            let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
            if parent_of(child) == Some(parent) {
                found.push(child);
                frontier.push(child);
            }
        }
    }
    found
}

#[cfg(target_os = "linux")]
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: read after the last ')'.
    stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(target_os = "linux")]
fn command_of(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_owned()
}

#[cfg(target_os = "linux")]
fn is_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

/// Exercise 3's concurrency and round-trip checks with a busy core beside them:
/// the solution keeps full marks and the racy variants keep failing exactly their criterion.
#[test]
fn concurrency_checks_of_the_low_level_cache_are_stable_under_load() {
    const EXERCISE: &str = "03-low-level-cache";
    let _one_at_a_time = serial();
    let _busy = BusyCore::start();
    let failures = |path: &std::path::Path| -> Vec<Vec<String>> {
        (0..3)
            .map(|seed| {
                grade(200 + seed, &["--path", path.to_str().unwrap(), EXERCISE]).failed(EXERCISE)
            })
            .collect()
    };

    let solution = failures(&root().join("solutions"));
    assert!(solution.iter().all(Vec::is_empty), "{solution:?}");
    for name in ["no-stampede-protection", "read-modify-write-incr", "set-many-loop"] {
        let fixture = Fixture::all(EXERCISE).into_iter().find(|f| f.name == name).unwrap();
        let dir = tempfile::tempdir().unwrap();
        fixture.materialise(dir.path());
        let variant = failures(dir.path());
        assert!(variant.iter().all(|failed| *failed == fixture.fails), "{name}: {variant:?}");
    }
}
