//! Whether the containment that grading a class relies on is in force on this machine.
//!
//! A student grading their own code needs no protection from it. A batch grades a whole class
//! with one grader, so a hostile submission could otherwise read the others' code or reach the
//! network. The parts that keep submissions apart are bubblewrap (`run/bwrap.rs`) and Linux's
//! own: a user of its own per run (`run/users.rs`, as root) and a network namespace per run
//! (`run/network.rs`). Without them,
//! `grader batch` refuses unless the instructor says `--allow-unsandboxed`.

use anyhow::{Result, bail};

use super::{bwrap, cgroup, network, users};

/// What of the containment is missing here, in words; empty when all of it is in force.
pub fn missing() -> Vec<String> {
    let mut missing = Vec::new();
    if let Err(why) = bwrap::available() {
        missing.push(format!(
            "bubblewrap, which keeps it from the machine's files and sockets ({why})"
        ));
    }
    if !users::available() {
        missing.push(if cfg!(target_os = "linux") {
            "a user of its own per run (the grader is not root)".to_owned()
        } else {
            "a user of its own per run (Linux-only)".to_owned()
        });
    }
    if let Err(why) = network::private_available() {
        missing.push(format!("a network of its own per run ({why})"));
    }
    if users::available() {
        let caps = cgroup::Cgroups::create(1, 1 << 30).caps();
        if !(caps.processes && caps.memory) {
            missing.push(format!(
                "cgroups capping each run's processes and memory ({}: the grader could not \
                 create them; on cgroup v2 it needs the pids and memory controllers enabled in \
                 the root's cgroup.subtree_control)",
                cgroup::Layout::detect(std::path::Path::new("/sys/fs/cgroup")).name()
            ));
        }
    }
    missing
}

/// `Ok` when a batch may go ahead: the containment is complete, or the instructor allowed a
/// batch without it (then with a warning on stderr).
pub fn check_batch(missing: &[String], allow_unsandboxed: bool) -> Result<()> {
    if missing.is_empty() {
        return Ok(());
    }
    let missing = missing.join("; ");
    if allow_unsandboxed {
        eprintln!("warning: grading without containment, as --allow-unsandboxed asks: {missing}");
        return Ok(());
    }
    bail!(
        "refusing to grade a class without containment: this machine lacks {missing}. Without \
         it, one student's code could read the other submissions or reach the network. Grade \
         classes on Linux as root (a CI runner, a VM, or a container with CAP_SYS_ADMIN), or \
         pass --allow-unsandboxed if you trust every submission. Students checking their own \
         work need none of this: `cargo run -p grader` grades it anywhere."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_without_containment_is_refused_and_says_why_and_what_to_do() {
        let missing = ["a user of its own per run (Linux-only)".to_owned()];
        let refusal = check_batch(&missing, false).unwrap_err().to_string();
        assert!(refusal.contains("a user of its own per run (Linux-only)"), "{refusal}");
        assert!(refusal.contains("--allow-unsandboxed"), "{refusal}");
    }

    #[test]
    fn a_batch_goes_ahead_when_contained_or_allowed() {
        assert!(check_batch(&[], false).is_ok());
        assert!(check_batch(&["a network of its own per run".to_owned()], true).is_ok());
    }

    #[test]
    fn macos_always_lacks_the_linux_containment() {
        if cfg!(not(target_os = "linux")) {
            assert_eq!(missing().len(), 2, "{:?}", missing());
        }
    }
}
