//! Hostile code the sandbox must contain (more hostile variants, those that end with a score,
//! are fixtures in `fixtures/01-redis-setup/hostile-*.toml`).

// `unsafe` only to call the OS: this test asks libc who it runs as.
#![allow(unsafe_code)]

mod common;

#[cfg(target_os = "linux")]
const MARKER: &str = "workbook-fork-bomb";

/// Processes whose command line carries the fork bomb's marker (other than this test's).
#[cfg(target_os = "linux")]
fn bomb_processes() -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy() != me)
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .filter(|cmdline| String::from_utf8_lossy(cmdline).contains(MARKER))
        .count()
}

// Linux-only: the bomb's processes are counted through /proc.
#[cfg(target_os = "linux")]
#[test]
fn a_fork_bomb_is_capped_reported_and_cleaned_up() {
    // SAFETY: getuid has no preconditions.
    let root = unsafe { libc::getuid() } == 0;
    let v2_pids = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
        .is_ok_and(|controllers| controllers.split_whitespace().any(|c| c == "pids"));
    let cgroups = std::path::Path::new("/sys/fs/cgroup/pids/cgroup.procs").is_file() || v2_pids;
    if root && !cgroups {
        eprintln!("skipped: running as root without a pids cgroup, nothing could stop a fork bomb");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exercise = dir.path().join("01-redis-setup");
    common::copy_dir(&common::root().join("solutions/01-redis-setup"), &exercise);
    let main = exercise.join("src/lib.rs");
    let bomb = format!(
        "let _bomb = std::process::Command::new(\"sh\").args([\"-c\", \"b(){{ b|b& }}; b # {MARKER}\"]).spawn();\n    \
         std::thread::sleep(std::time::Duration::from_secs(2));\n    \
         std::process::exit(3);\n    #[allow(unreachable_code)]\n    let config = context.config;"
    );
    let code =
        std::fs::read_to_string(&main).unwrap().replacen("let config = context.config;", &bomb, 1);
    std::fs::write(&main, code).unwrap();

    let run = {
        let _one_at_a_time = common::serial();
        common::grade(3, &["--path", dir.path().to_str().unwrap(), "1"])
    };
    let report = run.exercise("01-redis-setup");
    assert_eq!(report["stage"], "did_not_start", "{}", run.explain("01-redis-setup"));
    assert!(report["details"].as_str().unwrap().contains("exit status: 3"));
    assert!(run.json["isolation"].as_str().unwrap().contains("process count capped by"));
    assert_eq!(bomb_processes(), 0, "the fork bomb outlived its grade");
}

/// A class folder of `students`, each handing in the solution of exercise 1 (as `NAME/01-redis-
/// setup`), kept to the grader (`0700`) as the batch advises an instructor running it as root.
fn class_of_solutions(students: &[&str]) -> tempfile::TempDir {
    let class = tempfile::tempdir().unwrap();
    let solution = common::root().join("solutions/01-redis-setup");
    for student in students {
        common::copy_dir(&solution, &class.path().join(student).join("01-redis-setup"));
    }
    std::fs::set_permissions(class.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .unwrap();
    class
}

/// `grader batch`, also where the Linux containment is missing: the tests that need it say so.
fn batch(class: &std::path::Path, out: &std::path::Path) -> std::process::Output {
    batch_beside(class, out, 1)
}

/// Like [`batch`], grading `jobs` submissions side by side: an attacker beside its victim.
fn batch_beside(class: &std::path::Path, out: &std::path::Path, jobs: u32) -> std::process::Output {
    assert_cmd::Command::cargo_bin("grader")
        .unwrap()
        .env_remove("REDIS_URL")
        .args(["batch", class.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .arg("--allow-unsandboxed")
        .args(["--exercise", "1", "--jobs", &jobs.to_string(), "--seed", "5"])
        .output()
        .unwrap()
}

#[test]
fn a_build_that_reads_another_submission_is_refused_and_the_other_grade_stands() {
    let class = class_of_solutions(&["alice", "mallory"]);
    let out = tempfile::tempdir().unwrap();
    // Mallory's code embeds Alice's at compile time, by absolute path.
    let alice = class.path().join("alice/01-redis-setup/src/cache.rs");
    let main = class.path().join("mallory/01-redis-setup/src/lib.rs");
    let code = std::fs::read_to_string(&main).unwrap().replacen(
        "let config = context.config;",
        &format!(
            "let _alice = include_str!({:?});\n    let config = context.config;",
            alice.display().to_string()
        ),
        1,
    );
    std::fs::write(&main, code).unwrap();

    let run = {
        let _one_at_a_time = common::serial();
        batch(class.path(), out.path())
    };
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    let gradebook = std::fs::read_to_string(out.path().join("gradebook.csv")).unwrap();
    assert_eq!(
        gradebook,
        common::gradebook(
            "student,name,lms_id,sis_id,email,late,source,01-redis-setup,total,max,outcome\n\
         alice,alice,,,,,alice,20,20,20,graded\n\
         mallory,mallory,,,,,mallory,0,0,20,graded\n",
        ),
        "{stderr}"
    );
    let feedback =
        std::fs::read_to_string(out.path().join("students/mallory/feedback.md")).unwrap();
    // Refused either way: the build in bubblewrap cannot see Alice's folder at all, and a build
    // outside it is caught by the dep-info check.
    let refused = feedback.contains("couldn't read")
        || feedback.contains("the build read files outside your exercise");
    assert!(refused, "{feedback}");
    assert!(feedback.contains(&alice.display().to_string()), "{feedback}");
}

// Linux-only: the small disk is a tmpfs mounted in a mount namespace.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_stops_the_batch_with_one_clear_message() {
    // A 4 KiB disk of its own: root can mount one in a mount namespace of its own.
    let class = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    // No exercises folder: graded as invalid at once, without a build.
    std::fs::create_dir(class.path().join("ann")).unwrap();
    let grader = assert_cmd::cargo::cargo_bin("grader");
    let script = format!(
        "mount -t tmpfs -o size=4k tmpfs {out} || exit 99; exec {grader} batch {class} --out {out} --exercise 1 --allow-unsandboxed",
        out = out.path().display(),
        grader = grader.display(),
        class = class.path().display(),
    );
    let run = std::process::Command::new("unshare").args(["--mount", "sh", "-c", &script]).output();
    let Ok(run) = run.map_err(|err| eprintln!("skipped: no unshare: {err}")) else { return };
    let refused = String::from_utf8_lossy(&run.stderr).starts_with("unshare:");
    if refused || run.status.code() == Some(99) || run.status.code().is_none() {
        eprintln!("skipped: cannot mount a small disk here");
        return;
    }
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is the disk full?"), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_submission_that_adds_a_crate_is_told_the_manifest_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let exercise = dir.path().join("01-redis-setup");
    common::copy_dir(&common::root().join("solutions/01-redis-setup"), &exercise);
    let manifest = exercise.join("Cargo.toml");
    let added = std::fs::read_to_string(&manifest).unwrap() + "rand = \"0.9\"\n";
    std::fs::write(&manifest, added).unwrap();
    let main = exercise.join("src/lib.rs");
    let code = std::fs::read_to_string(&main).unwrap().replacen(
        "mod settings;",
        "mod settings;\nuse rand::Rng as _;",
        1,
    );
    std::fs::write(&main, code).unwrap();

    let run = {
        let _one_at_a_time = common::serial();
        common::grade(3, &["--path", dir.path().to_str().unwrap(), "1"])
    };
    let report = run.exercise("01-redis-setup");
    assert_eq!(report["stage"], "build_failed", "{}", run.explain("01-redis-setup"));
    let details = report["details"].as_str().unwrap();
    assert!(details.contains("unresolved import `rand`"), "{details}");
    assert!(details.contains("note from the grader"), "{details}");
    let warning = report["warnings"][0].as_str().unwrap_or_default();
    assert!(warning.contains("Cargo.toml differs from the workbook's"), "{}", report);
}

/// True when the grader gives each run a user of its own (it does as root); says why not.
#[cfg(target_os = "linux")]
fn runs_as_their_own_user(what: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!("skipped: {what} needs a grader running as root (services run as the grader)");
    }
    root
}

/// Replaces the first line of the solution's `main` that reads the configuration with `code`
/// followed by that line.
#[cfg(target_os = "linux")]
fn run_first_in_main(exercise: &std::path::Path, code: &str) {
    let main = exercise.join("src/lib.rs");
    let line = "let config = context.config;";
    let patched =
        std::fs::read_to_string(&main).unwrap().replacen(line, &format!("{code}\n    {line}"), 1);
    std::fs::write(&main, patched).unwrap();
}

// Linux-only: run users are.
#[cfg(target_os = "linux")]
#[test]
fn a_service_cannot_kill_the_grader_read_other_submissions_or_write_the_results() {
    if !runs_as_their_own_user("this test") {
        return;
    }
    let class = class_of_solutions(&["alice", "mallory"]);
    let out = tempfile::tempdir().unwrap();
    // Each attempt that succeeds makes Mallory's service exit with its own status.
    let alice = class.path().join("alice/01-redis-setup/src/cache.rs");
    let gradebook = out.path().join("gradebook.csv");
    run_first_in_main(
        &class.path().join("mallory/01-redis-setup"),
        &format!(
            "if std::fs::read({alice:?}).is_ok() {{ std::process::exit(3); }}\n    \
             if std::fs::write({gradebook:?}, \"mallory,100\").is_ok() {{ std::process::exit(4); }}\n    \
             for process in std::fs::read_dir(\"/proc\").into_iter().flatten().flatten() {{\n    \
                 let name = std::fs::read_to_string(process.path().join(\"comm\")).unwrap_or_default();\n    \
                 if name.trim() != \"grader\" {{ continue; }}\n    \
                 let pid = process.file_name().to_string_lossy().into_owned();\n    \
                 let killed = std::process::Command::new(\"kill\").args([\"-9\", &pid]).status();\n    \
                 if killed.is_ok_and(|status| status.success()) {{ std::process::exit(5); }}\n    \
             }}"
        ),
    );

    let run = {
        let _one_at_a_time = common::serial();
        batch(class.path(), out.path())
    };
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&gradebook).unwrap(),
        common::gradebook(
            "student,name,lms_id,sis_id,email,late,source,01-redis-setup,total,max,outcome\n\
         alice,alice,,,,,alice,20,20,20,graded\n\
         mallory,mallory,,,,,mallory,20,20,20,graded\n",
        ),
        "{stderr}\n{}",
        std::fs::read_to_string(out.path().join("students/mallory/feedback.md"))
            .unwrap_or_default()
    );
}

// Linux-only: run users are.
#[cfg(target_os = "linux")]
#[test]
fn a_grader_killed_twice_on_one_submission_gives_it_up_and_the_batch_finishes() {
    // The grader can be killed from outside (out of memory, a machine's watchdog, an impatient
    // instructor); students' services cannot do it when they run as users of their own.
    if !runs_as_their_own_user("telling the killer's service from the others") {
        return;
    }
    let class = class_of_solutions(&["alice", "killer"]);
    let out = tempfile::tempdir().unwrap();
    // The killer's service says it started by leaving a file in its own folder (the only one
    // it may write in), which lies below the grader's TMPDIR, chosen here.
    let runs = tempfile::tempdir().unwrap();
    run_first_in_main(
        &class.path().join("killer/01-redis-setup"),
        "let _ = std::fs::write(\"killer-started\", \"\");",
    );

    let _one_at_a_time = common::serial();
    // Each run is killed while it grades the killer (alice is graded by the first and kept) ...
    for _ in 0..2 {
        let mut grader = std::process::Command::new(env!("CARGO_BIN_EXE_grader"))
            .env_remove("REDIS_URL")
            .env("TMPDIR", runs.path())
            .args(["batch", class.path().to_str().unwrap(), "--out", out.path().to_str().unwrap()])
            .args(["--exercise", "1", "--jobs", "1", "--seed", "5", "--allow-unsandboxed"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
        let started = loop {
            if let Some(started) = find_file(runs.path(), "killer-started") {
                break started;
            }
            assert!(
                grader.try_wait().unwrap().is_none(),
                "the batch ended before the killer started"
            );
            assert!(std::time::Instant::now() < deadline, "the killer's service never started");
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        grader.kill().unwrap();
        grader.wait().unwrap();
        std::fs::remove_file(&started).unwrap();
    }
    // ... and the third gives up on it and finishes.
    let run = batch(class.path(), out.path());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out.path().join("gradebook.csv")).unwrap(),
        common::gradebook(
            "student,name,lms_id,sis_id,email,late,source,01-redis-setup,total,max,outcome\n\
         alice,alice,,,,,alice,20,20,20,graded\n\
         killer,killer,,,,,killer,0,0,20,invalid\n",
        ),
        "{stderr}"
    );
    assert!(stderr.contains("the grader was killed 2 times"), "{stderr}");
}

/// The first file called `name` below `dir`, if any.
#[cfg(target_os = "linux")]
fn find_file(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|file| file == name) {
                return Some(path);
            }
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                pending.push(path);
            }
        }
    }
    None
}

/// A folder submission whose exercise is a link to another folder (another student's) is that
/// student's `invalid`, with the reason, and none of the linked code is built.
#[test]
fn a_linked_exercise_folder_is_invalid_with_the_reason() {
    let elsewhere = tempfile::tempdir().unwrap();
    let others = elsewhere.path().join("01-redis-setup");
    common::copy_dir(&common::root().join("solutions/01-redis-setup"), &others);
    let submission = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&others, submission.path().join("01-redis-setup")).unwrap();

    let run = {
        let _one_at_a_time = common::serial();
        common::grade(3, &["--path", submission.path().to_str().unwrap(), "1"])
    };
    let report = run.exercise("01-redis-setup");
    assert_eq!(report["stage"], "invalid", "{}", run.explain("01-redis-setup"));
    assert_eq!(report["score"], 0);
    let details = report["details"].as_str().unwrap();
    assert!(details.contains("is a symbolic link"), "{details}");
    assert!(details.contains("submit the exercise's own folder"), "{details}");
}

/// A file name with a backslash makes cargo's dep-info ambiguous (rustc does not escape it), so
/// the check of what the build read fails closed: a refusal that says why, never a pass.
#[test]
fn a_build_whose_reads_cannot_be_told_is_refused_saying_why() {
    let submission = tempfile::tempdir().unwrap();
    let exercise = submission.path().join("01-redis-setup");
    common::copy_dir(&common::root().join("solutions/01-redis-setup"), &exercise);
    let odd = exercise.join("src").join("back\\slash");
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::write(odd.join("note.txt"), "a note").unwrap();
    let lib = exercise.join("src/lib.rs");
    let code = std::fs::read_to_string(&lib).unwrap()
        + "\nconst _NOTE: &str = include_str!(\"back\\\\slash/note.txt\");\n";
    std::fs::write(&lib, code).unwrap();

    let run = {
        let _one_at_a_time = common::serial();
        common::grade(3, &["--path", submission.path().to_str().unwrap(), "1"])
    };
    let report = run.exercise("01-redis-setup");
    assert_eq!(report["stage"], "build_failed", "{}", run.explain("01-redis-setup"));
    let details = report["details"].as_str().unwrap();
    assert!(details.contains("the grader cannot tell which files the build read"), "{details}");
    assert!(details.contains("no backslashes"), "{details}");
}

/// A crate whose compilation keeps rustc busy for about `seconds` (constant evaluation that
/// loops), so that its build holds its build slot that long.
fn slow_to_compile(exercise: &std::path::Path, seconds: u64) {
    let lib = exercise.join("src/lib.rs");
    let spin = format!(
        "#[allow(long_running_const_eval)]\n\
         const _SLOW_TO_COMPILE: u64 = {{\n    \
             let mut step = 0u64;\n    \
             while step < {} {{ step += 1; }}\n    \
             step\n\
         }};\n",
        seconds * CONST_EVAL_STEPS_PER_SECOND
    );
    let code = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{code}\n{spin}")).unwrap();
}

/// Loop steps rustc's constant evaluator runs in about a second, on a slow machine.
const CONST_EVAL_STEPS_PER_SECOND: u64 = 2_000_000;

#[test]
fn a_slow_neighbour_under_two_jobs_costs_a_correct_submission_nothing() {
    let class = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let solution = common::root().join("solutions/01-redis-setup");
    // Sorted first, so it most likely starts building first. Each job builds in a slot of its
    // own, so the student's build does not wait for the neighbour's; its checks run while the
    // neighbour's rustc takes a core.
    common::copy_dir(&solution, &class.path().join("a-neighbour/01-redis-setup"));
    common::copy_dir(&solution, &class.path().join("b-student/01-redis-setup"));
    slow_to_compile(&class.path().join("a-neighbour/01-redis-setup"), 120);

    let run = {
        let _one_at_a_time = common::serial();
        assert_cmd::Command::cargo_bin("grader")
            .unwrap()
            .env_remove("REDIS_URL")
            .args(["batch", class.path().to_str().unwrap(), "--out", out.path().to_str().unwrap()])
            .arg("--allow-unsandboxed")
            // The student's own grade fits well in the limit; with the neighbour's build
            // counted against it, it would not.
            .args(["--exercise", "1", "--jobs", "2", "--seed", "5", "--timeout", "40"])
            .output()
            .unwrap()
    };
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    let gradebook = std::fs::read_to_string(out.path().join("gradebook.csv")).unwrap();
    assert!(
        gradebook.contains("b-student,b-student,,,,,b-student,20,20,20,graded"),
        "{gradebook}\n{stderr}"
    );
    // The neighbour's own slowness is its own: out of time even when graded alone.
    assert!(
        gradebook.contains("a-neighbour,a-neighbour,,,,,a-neighbour,0,0,20,timed_out"),
        "{gradebook}\n{stderr}"
    );
    assert!(
        stderr
            .contains("a-neighbour: ran out of time while 2 submissions were graded side by side"),
        "{stderr}"
    );
}

// Linux-only: run users are.
#[cfg(target_os = "linux")]
#[test]
fn links_a_service_plants_in_its_folder_lead_the_grader_nowhere() {
    if !runs_as_their_own_user("this test") {
        return;
    }
    let class = class_of_solutions(&["alice", "mallory"]);
    let out = tempfile::tempdir().unwrap();
    // What the planted links point at: a folder the grader must not write into or give away.
    let canary = tempfile::tempdir().unwrap();
    let canary_dir = canary.path();
    // Every file already in its folder becomes a link to /etc/shadow; links stand under the
    // names of the logs of later starts and of extra instances' folders; then, on its first
    // start only, it dies during the checks, so that the grader reads its output and starts it
    // again.
    run_first_in_main(
        &class.path().join("mallory/01-redis-setup"),
        &format!(
            "let here = std::env::current_dir().unwrap();\n    \
             for entry in std::fs::read_dir(&here).into_iter().flatten().flatten() {{\n    \
                 let _ = std::fs::remove_file(entry.path());\n    \
                 let _ = std::os::unix::fs::symlink(\"/etc/shadow\", entry.path());\n    \
             }}\n    \
             for start in 1..=6 {{\n    \
                 for stream in [\"stdout\", \"stderr\"] {{\n    \
                     let planted = {canary_dir:?}.to_owned() + &format!(\"/planted-{{start}}.{{stream}}\");\n    \
                     let _ = std::os::unix::fs::symlink(&planted, here.join(format!(\"service-{{start}}.{{stream}}\")));\n    \
                 }}\n    \
                 let _ = std::os::unix::fs::symlink({canary_dir:?}, here.join(format!(\"instance-{{start}}\")));\n    \
             }}\n    \
             if std::fs::symlink_metadata(here.join(\"started-once\")).is_err() {{\n    \
                 let _ = std::os::unix::fs::symlink(\"/etc/shadow\", here.join(\"started-once\"));\n    \
                 std::thread::spawn(|| {{\n    \
                     std::thread::sleep(std::time::Duration::from_secs(3));\n    \
                     panic!(\"dying on purpose\");\n    \
                 }});\n    \
             }}"
        ),
    );

    let run = {
        let _one_at_a_time = common::serial();
        batch_beside(class.path(), out.path(), 2)
    };
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    let gradebook = std::fs::read_to_string(out.path().join("gradebook.csv")).unwrap();
    assert!(gradebook.contains("alice,alice,,,,,alice,20,20,20,graded,"), "{gradebook}\n{stderr}");
    let planted: Vec<_> = std::fs::read_dir(canary_dir).unwrap().flatten().collect();
    assert!(planted.is_empty(), "the grader wrote through a link: {planted:?}");
    let owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(canary_dir).unwrap());
    assert_eq!(owner, 0, "the grader gave a folder outside the run to the run's user");
    let shadow = std::fs::read_to_string("/etc/shadow").unwrap();
    let secret = shadow.lines().next().unwrap();
    for written in ["students/mallory/feedback.md", "students/mallory/result.json"] {
        let text = std::fs::read_to_string(out.path().join(written)).unwrap();
        assert!(!text.contains(secret), "{written} quotes /etc/shadow:\n{text}");
    }
}

#[test]
fn a_failing_build_shows_no_other_submissions_code() {
    let class = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    // Alice's exercise 2 is staged before Mallory's exercise 1 is built (it need not build).
    let alice = class.path().join("alice/02-view-cache");
    common::copy_dir(&common::root().join("solutions/02-view-cache"), &alice);
    let secret = "alice's own words, nobody else's";
    std::fs::write(alice.join("src/lib.rs"), format!("// {secret}\nfn broken(")).unwrap();
    // Mallory's build fails on purpose, printing its staged neighbour into its own feedback.
    let mallory = class.path().join("mallory/01-redis-setup");
    common::copy_dir(&common::root().join("solutions/01-redis-setup"), &mallory);
    let main = mallory.join("src/lib.rs");
    let code = std::fs::read_to_string(&main).unwrap()
        + "\nconst _: () = panic!(\"{}\", include_str!(\"../../02-view-cache/src/lib.rs\"));\n";
    std::fs::write(&main, code).unwrap();

    let run = {
        let _one_at_a_time = common::serial();
        assert_cmd::Command::cargo_bin("grader")
            .unwrap()
            .env_remove("REDIS_URL")
            .args(["batch", class.path().to_str().unwrap(), "--out", out.path().to_str().unwrap()])
            // Every exercise: Alice's 2 is built before Mallory's 1; the others are missing.
            .args(["--allow-unsandboxed", "--jobs", "1"])
            .output()
            .unwrap()
    };
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    let feedback =
        std::fs::read_to_string(out.path().join("students/mallory/feedback.md")).unwrap();
    assert!(feedback.contains("does not compile"), "{feedback}");
    // The attack works: the build printed the stage's exercise 2, which is the starter's.
    let starter = "Cache whole pages in Redis";
    assert!(feedback.contains(starter), "the neighbour was not printed at all:\n{feedback}");
    assert!(!feedback.contains(secret), "Mallory's feedback shows Alice's code:\n{feedback}");
}

// Linux-only: cgroups are.
#[cfg(target_os = "linux")]
#[test]
fn a_neighbour_running_hundreds_of_busy_threads_costs_a_correct_submission_nothing() {
    if !runs_as_their_own_user("an equal CPU share per run") {
        return;
    }
    let class = class_of_solutions(&["alice", "hog"]);
    let out = tempfile::tempdir().unwrap();
    run_first_in_main(
        &class.path().join("hog/01-redis-setup"),
        "for _ in 0..200 {\n    \
             std::thread::spawn(|| loop { std::hint::black_box(0u64.wrapping_add(1)); });\n    \
         }",
    );
    let run = {
        let _one_at_a_time = common::serial();
        batch_beside(class.path(), out.path(), 2)
    };
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    let gradebook = std::fs::read_to_string(out.path().join("gradebook.csv")).unwrap();
    assert!(gradebook.contains("alice,alice,,,,,alice,20,20,20,graded,"), "{gradebook}\n{stderr}");
}

// Linux-only: run disks are.
#[cfg(target_os = "linux")]
#[test]
fn a_service_that_fills_its_disk_fills_only_its_own_and_its_neighbour_is_untouched() {
    if !runs_as_their_own_user("a disk of its own per run") {
        return;
    }
    let class = class_of_solutions(&["alice", "filler"]);
    let out = tempfile::tempdir().unwrap();
    // Writes 64 MiB files, then empty ones, until the disk says no; a disk that took more than
    // the run's cap (1 GiB, 20,000 files) makes it exit at once, with a status that says which.
    run_first_in_main(
        &class.path().join("filler/01-redis-setup"),
        "let here = std::env::current_dir().unwrap();\n    \
         let chunk = vec![7u8; 64 << 20];\n    \
         let mut bytes = 0u64;\n    \
         while std::fs::write(here.join(format!(\"big-{bytes}\")), &chunk).is_ok() {\n    \
             bytes += chunk.len() as u64;\n    \
             if bytes > 3 << 29 { std::process::exit(7); }\n    \
         }\n    \
         let mut files = 0u64;\n    \
         while std::fs::write(here.join(format!(\"small-{files}\")), b\"\").is_ok() {\n    \
             files += 1;\n    \
             if files > 30_000 { std::process::exit(8); }\n    \
         }\n    \
         for entry in std::fs::read_dir(&here).unwrap().flatten() {\n    \
             let name = entry.file_name().to_string_lossy().into_owned();\n    \
             if name.starts_with(\"big-\") || name.starts_with(\"small-\") {\n    \
                 let _ = std::fs::remove_file(entry.path());\n    \
             }\n    \
         }",
    );
    let run = {
        let _one_at_a_time = common::serial();
        batch_beside(class.path(), out.path(), 2)
    };
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    let gradebook = std::fs::read_to_string(out.path().join("gradebook.csv")).unwrap();
    assert!(gradebook.contains("alice,alice,,,,,alice,20,20,20,graded,"), "{gradebook}\n{stderr}");
    // The filler ran into its disk's cap, cleaned up and served like the solution it is.
    let feedback = std::fs::read_to_string(out.path().join("students/filler/feedback.md")).unwrap();
    assert!(
        gradebook.contains("filler,filler,,,,,filler,20,20,20,graded,"),
        "{gradebook}\n{feedback}"
    );
}
