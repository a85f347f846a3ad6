//! The book's platform recipes (`grading.md`), run as written as far as this machine allows:
//! GitHub Actions' grading step (`sudo env ...` with `--shard`), what an ordinary user and a
//! container without privileges are told, and Gradescope's autograder in such a container.
//!
//! They need root, as CI has: to become an ordinary user, to drop capabilities, and to be
//! the root that `sudo` makes. Elsewhere they say so and pass. util-linux's `setpriv` changes
//! the user and the capabilities, as a runner's account and a container runtime would.

#![cfg(target_os = "linux")]
// `unsafe` only to call the OS: this test asks libc who it runs as.
#![allow(unsafe_code)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{Fixture, copy_dir, root, serial};

const EXERCISE: &str = "01-redis-setup";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Whether the test can play the platform; if not, says why on stderr.
fn can_play(platform: &str) -> bool {
    if !is_root() {
        eprintln!("skipped: playing {platform} needs root (CI has it)");
        return false;
    }
    true
}

fn grader_binary() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("grader")
}

fn grader() -> Command {
    Command::new(grader_binary())
}

/// A folder anyone may read, for a grader that runs as another user.
fn shared_folder() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// `program` run as a container without privileges runs it: root, without the capabilities
/// to make namespaces or configure a network (`CAP_SYS_ADMIN`, `CAP_NET_ADMIN`), as Docker
/// and Kubernetes start a container by default.
fn without_privileges(program: &Path) -> Command {
    setpriv(&["--bounding-set", "-sys_admin,-net_admin"], program)
}

/// `program` run as `nobody`, as a CI runner's or a lab's account would be.
fn as_an_ordinary_user(program: &Path) -> Command {
    setpriv(&["--reuid", "65534", "--regid", "65534", "--clear-groups"], program)
}

/// `program` started by util-linux's `setpriv` with `flags`.
fn setpriv(flags: &[&str], program: &Path) -> Command {
    let mut command = Command::new("setpriv");
    command.args(flags).arg("--").arg(program);
    command
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn an_ordinary_user_is_refused_a_class_and_shown_the_sudo_recipe() {
    let class = shared_folder();
    let mut command = if is_root() { as_an_ordinary_user(&grader_binary()) } else { grader() };
    let output = command
        .args(["batch", class.path().to_str().unwrap()])
        .args(["--out", class.path().join("out").to_str().unwrap()])
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for told in ["a user of its own per run", "sudo env", "RUSTUP_HOME", "--shard"] {
        assert!(stderr.contains(told), "{told}: {stderr}");
    }
}

#[test]
fn a_container_without_privileges_is_refused_a_class_and_told_to_run_privileged() {
    if !can_play("a container") {
        return;
    }
    let class = tempfile::tempdir().unwrap();
    let output = without_privileges(&grader_binary())
        .args(["batch", class.path().to_str().unwrap()])
        .args(["--out", class.path().join("out").to_str().unwrap()])
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for told in ["a network of its own per run", "privileged: true", "--privileged"] {
        assert!(stderr.contains(told), "{told}: {stderr}");
    }
}

/// The recipe's grading step: `sudo env "PATH=$PATH" "CARGO_HOME=..." "RUSTUP_HOME=..."
/// ./target/release/grader batch submissions/ --shard I/N --out grades-I`. `sudo` leaves
/// root's `HOME` and no other variable: the toolchain is found through the three it keeps.
#[test]
fn the_github_actions_grading_step_runs_as_written() {
    if !can_play("sudo") {
        return;
    }
    let _one_at_a_time = serial();
    common::warm_build();
    let class = tempfile::tempdir().unwrap();
    let solution = root().join("solutions").join(EXERCISE);
    copy_dir(&solution, &class.path().join("ann/exercises").join(EXERCISE));
    let out = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let kept = |name: &str| std::env::var_os(name).unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .unwrap_or_else(|| Path::new(&kept("HOME")).join(".cargo").into_os_string());
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .unwrap_or_else(|| Path::new(&kept("HOME")).join(".rustup").into_os_string());
    let output = grader()
        .env_clear()
        .env("PATH", kept("PATH"))
        .env("CARGO_HOME", cargo_home)
        .env("RUSTUP_HOME", rustup_home)
        // Root's home under sudo: nothing of the runner's toolchain is in it.
        .env("HOME", home.path())
        .args(["batch", class.path().to_str().unwrap(), "--shard", "1/1"])
        .args(["--exercise", EXERCISE, "--seed", "5"])
        .args(["--out", out.path().to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let gradebook = std::fs::read_to_string(out.path().join("gradebook.csv")).unwrap();
    let ann = gradebook.lines().nth(1).unwrap_or_default();
    assert!(ann.starts_with("ann,") && ann.contains(",20,20,20,graded,"), "{gradebook}\n{stderr}");
}

/// Gradescope starts the autograder as root in a container without privileges: bubblewrap
/// cannot make its namespaces and no network namespace is allowed. The bundle's
/// `run_autograder`, as written (no `--allow-unsandboxed`), still grades the one submission,
/// and `results.json` tells the instructor what kept the code in check and what was missing.
#[test]
fn the_gradescope_autograder_grades_in_a_container_without_privileges() {
    if !can_play("a Gradescope container") {
        return;
    }
    let _one_at_a_time = serial();
    common::warm_build();
    let bundle = tempfile::tempdir().unwrap();
    let bundled = grader()
        .args(["gradescope-bundle", bundle.path().to_str().unwrap(), "--exercise", "1"])
        .output()
        .unwrap();
    assert!(bundled.status.success(), "{}", stderr_of(&bundled));
    let setup = std::fs::read_to_string(bundle.path().join("setup.sh")).unwrap();
    assert!(setup.contains("chmod -R go-rwx solutions"), "{setup}");

    // bubblewrap as it answers in such a container.
    let tools = tempfile::tempdir().unwrap();
    let refusing_bwrap = tools.path().join("bwrap");
    std::fs::write(
        &refusing_bwrap,
        "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&refusing_bwrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", tools.path().display(), std::env::var("PATH").unwrap());

    let gradescope = tempfile::tempdir().unwrap();
    let bob =
        Fixture::all(EXERCISE).into_iter().find(|f| f.name == "sessions-without-ttl").unwrap();
    bob.materialise(&gradescope.path().join("submission"));
    let run = without_privileges(&bundle.path().join("run_autograder"))
        .env("GRADESCOPE_ROOT", gradescope.path())
        .env("GRADER", grader_binary())
        .env("PATH", path)
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    let stderr = stderr_of(&run);
    assert!(run.status.success(), "{stderr}");
    let results: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(gradescope.path().join("results/results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(results["score"], 18, "{results:#}\n{stderr}");
    let extra = &results["extra_data"];
    assert_eq!(extra["contained"], false, "{results:#}");
    let missing = extra["uncontained"].to_string();
    assert!(missing.contains("bubblewrap") && missing.contains("network"), "{missing}");
    let in_force = extra["isolation"].as_str().unwrap_or_default();
    assert!(in_force.contains("not in bubblewrap"), "{in_force}");
    assert!(results["output"].as_str().unwrap().contains("Graded without containment"));
}
