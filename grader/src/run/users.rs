//! A user of its own for each run's untrusted processes.
//!
//! A grader running as root gives every run a fresh user id, which no account and no other run
//! uses, and makes it the owner of the run's folder. Redis and the student's service are started
//! in folders of that run and run as its user: they cannot signal the grader or another run's
//! processes, enter another run's folder, or write what the grader writes (the batch's
//! gradebook and feedback); they read only what the machine lets any user read. Builds stay with the grader's user: the
//! student's code does not run while it compiles (see `compile::reads_outside`).
//!
//! A grader that is not root cannot change user; students' processes then run as the grader's
//! own user, which is what a student grading their own work on a laptop wants anyway. Run users
//! are Linux-only (see [`available`]): elsewhere processes always run as the grader's user.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result};

/// The user (and group) that a run's processes run as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunUser(u32);

/// Run users are numbered from here: above the ids of accounts and of the ranges handed out
/// to user namespaces (`/etc/subuid` starts at 100000 and grows by 65536 per account).
const FIRST_RUN_UID: u32 = 1_000_000_000;

/// Runs one grader process may start before it reuses its own (long finished) runs' ids.
const RUNS_PER_GRADER: u32 = 256;

impl RunUser {
    /// The run user owning `folder`, if it is a run's folder and the grader may act as it.
    pub fn owning(folder: &Path) -> Option<RunUser> {
        let owner = std::fs::metadata(folder).ok()?.uid();
        (available() && owner >= FIRST_RUN_UID).then_some(RunUser(owner))
    }

    /// A user id that no other grader process can be using now: derived from our pid, which is
    /// unique among running processes (pids stay below 2^22, so ids stay below 2^31).
    fn fresh() -> RunUser {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let run = NEXT.fetch_add(1, Ordering::Relaxed) % RUNS_PER_GRADER;
        RunUser(FIRST_RUN_UID + std::process::id() * RUNS_PER_GRADER + run)
    }

    /// In the child, between fork and exec: becomes this user, with no supplementary groups.
    /// Raw system calls, because they change this (only) thread, with no allocation or locks.
    #[cfg(target_os = "linux")]
    pub fn become_in_child(self) -> std::io::Result<()> {
        let id = libc::c_long::from(self.0);
        // SAFETY: plain system calls on integers; setgroups with a count of 0 reads no memory.
        let failed = unsafe {
            libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()) != 0
                || libc::syscall(libc::SYS_setgid, id) != 0
                || libc::syscall(libc::SYS_setuid, id) != 0
        };
        if failed { Err(std::io::Error::last_os_error()) } else { Ok(()) }
    }

    /// Never called: [`available`] hands out run users only on Linux.
    #[cfg(not(target_os = "linux"))]
    pub fn become_in_child(self) -> std::io::Result<()> {
        Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
    }
}

/// Gives a new run folder to a user of its own, when the grader is root; otherwise leaves it.
/// Only that user may enter it: another run's processes cannot read its database or logs.
pub fn claim_run_folder(folder: &Path) -> Result<()> {
    if available() {
        give(folder, RunUser::fresh())?;
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// A warning when students' services could read `submissions`, the folder of a whole class:
/// run users are nobody in particular, so they get what the folder grants to *other* users.
pub fn readable_by_services(submissions: &Path) -> Option<String> {
    let mode = std::fs::metadata(submissions).ok()?.mode();
    (available() && mode & 0o005 != 0).then(|| {
        format!(
            "{} can be read by other users, and so by the students' services, which could read \
             each other's code: `chmod 700` it to keep the submissions apart",
            submissions.display()
        )
    })
}

/// Creates `folder` (one level) inside a run folder, owned by that run's user.
pub fn create_run_folder(folder: &Path) -> Result<()> {
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    if let Some(user) = folder.parent().and_then(RunUser::owning) {
        give(folder, user)?;
    }
    Ok(())
}

fn give(folder: &Path, user: RunUser) -> Result<()> {
    std::os::unix::fs::chown(folder, Some(user.0), Some(user.0))
        .with_context(|| format!("cannot give {} to user {}", folder.display(), user.0))
}

/// Whether runs get users of their own: on Linux, when the grader is root.
pub fn available() -> bool {
    cfg!(target_os = "linux") && is_root()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_folder_and_its_subfolders_belong_to_one_run_user() {
        let run = tempfile::tempdir().unwrap();
        claim_run_folder(run.path()).unwrap();
        let service = run.path().join("01-redis-setup");
        create_run_folder(&service).unwrap();
        let user = RunUser::owning(run.path());
        if available() {
            assert!(user.is_some_and(|user| user.0 >= FIRST_RUN_UID));
            assert_eq!(RunUser::owning(&service), user);
            let mode = std::fs::metadata(run.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "another run's user could enter it");
        } else {
            // Nothing changes hands: the processes run as the grader's user.
            assert_eq!(user, None);
            assert_eq!(RunUser::owning(&service), None);
        }
    }

    #[test]
    fn a_class_folder_open_to_others_is_warned_about_as_root() {
        let class = tempfile::tempdir().unwrap();
        std::fs::set_permissions(class.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(readable_by_services(class.path()).is_some(), available());
        std::fs::set_permissions(class.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(readable_by_services(class.path()), None);
    }

    #[test]
    fn two_runs_get_two_users() {
        assert_ne!(RunUser::fresh(), RunUser::fresh());
    }

    #[test]
    fn a_folder_of_the_graders_own_is_no_run_users() {
        assert_eq!(RunUser::owning(Path::new("/")), None);
    }
}
