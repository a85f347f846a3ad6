//! Whether the containment that grading a class relies on is in force on this machine.
//!
//! A student grading their own code needs no protection from it. A batch grades a whole class
//! with one grader, so a hostile submission could otherwise read the others' code or reach the
//! network. The parts that keep submissions apart are bubblewrap (`run/bwrap.rs`) and Linux's
//! own: a user of its own per run (`run/users.rs`, as root) and a network namespace per run
//! (`run/network.rs`). Without them,
//! `grader batch` refuses unless the instructor says `--allow-unsandboxed`.

use anyhow::{Result, bail};

use super::{bwrap, cgroup, disk, network, users};

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
    if users::available()
        && let Err(why) = disk::available()
    {
        missing.push(format!("a disk of its own per run ({why})"));
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
         it, one student's code could read the other submissions or reach the network. {} Or \
         pass --allow-unsandboxed if you trust every submission. Students checking their own \
         work need none of this: `cargo run -p grader` grades it anywhere.",
        remedy(Machine::here())
    )
}

/// `Ok` when one submission may be graded alone in a container of its own (Gradescope): no
/// other student's work and no gradebook is there to protect, so what a batch needs beyond a
/// user of its own may be missing (it is reported with the result). The user of its own is
/// what keeps the student's code from the autograder's files and from its own results.
pub fn check_single_submission(allow_unsandboxed: bool) -> Result<()> {
    if users::available() || allow_unsandboxed {
        return Ok(());
    }
    bail!(
        "refusing to grade: the grader is not root, so the submission's code would run as the \
         grader's own user and could write its own results. Gradescope runs the autograder as \
         root; elsewhere run it with sudo, or pass --allow-unsandboxed if you trust the code."
    )
}

/// Where the grader runs, as far as the remedy for missing containment depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Machine {
    /// Not Linux: users and network namespaces do not exist.
    NotLinux,
    /// Linux, as an ordinary user (a CI runner's user, a lab account).
    LinuxUser,
    /// Linux as root, yet refused namespaces: a container without the capabilities.
    LinuxRoot,
}

impl Machine {
    fn here() -> Self {
        if !cfg!(target_os = "linux") {
            Machine::NotLinux
        } else if users::is_root() {
            Machine::LinuxRoot
        } else {
            Machine::LinuxUser
        }
    }
}

/// What to do about missing containment, on this kind of machine (the book's recipes, in
/// `grading.md`, do exactly this).
fn remedy(machine: Machine) -> &'static str {
    match machine {
        Machine::NotLinux => {
            "Grade classes on Linux as root: a CI runner, a VM, or a privileged container."
        }
        Machine::LinuxUser => {
            "Run it as root, keeping your toolchain, e.g. `sudo env \"PATH=$PATH\" \
             \"CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}\" \"RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}\" \
             ./target/release/grader batch ...` (as the book's GitHub Actions recipe does; \
             `sudo` passes no other variable, so give `--shard` on the command line)."
        }
        Machine::LinuxRoot => {
            "This looks like a container without the capabilities namespaces and cgroups \
             need: run it privileged (Kubernetes: `securityContext: { privileged: true }`; \
             Docker: `--privileged`), as the book's Kubernetes recipe does."
        }
    }
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
    fn the_remedy_fits_the_machine() {
        let as_user = remedy(Machine::LinuxUser);
        for needed in ["sudo env", "PATH=$PATH", "CARGO_HOME", "RUSTUP_HOME", "--shard"] {
            assert!(as_user.contains(needed), "{needed}: {as_user}");
        }
        let in_container = remedy(Machine::LinuxRoot);
        assert!(in_container.contains("privileged: true"), "{in_container}");
        assert!(in_container.contains("--privileged"), "{in_container}");
        assert!(remedy(Machine::NotLinux).contains("Linux"));
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
