//! Hostile code the sandbox must contain (more hostile variants, those that end with a score,
//! are fixtures in `fixtures/01-redis-setup/hostile-*.toml`).

mod common;

const MARKER: &str = "workbook-fork-bomb";

/// Processes whose command line carries the fork bomb's marker (other than this test's).
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

#[test]
fn a_fork_bomb_is_capped_reported_and_cleaned_up() {
    // SAFETY: getuid has no preconditions.
    let root = unsafe { libc::getuid() } == 0;
    let cgroups = std::path::Path::new("/sys/fs/cgroup/pids/cgroup.procs").is_file();
    if root && !cgroups {
        eprintln!("skipped: running as root without a pids cgroup, nothing could stop a fork bomb");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exercise = dir.path().join("01-redis-setup");
    common::copy_dir(&common::root().join("solutions/01-redis-setup"), &exercise);
    let main = exercise.join("src/main.rs");
    let bomb = format!(
        "let _bomb = std::process::Command::new(\"sh\").args([\"-c\", \"b(){{ b|b& }}; b # {MARKER}\"]).spawn();\n    \
         std::thread::sleep(std::time::Duration::from_secs(2));\n    \
         std::process::exit(3);\n    #[allow(unreachable_code)]\n    let config = Config::from_env()?;"
    );
    let code = std::fs::read_to_string(&main).unwrap().replacen(
        "let config = Config::from_env()?;",
        &bomb,
        1,
    );
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
