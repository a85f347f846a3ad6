//! A user of its own for each run's untrusted processes.
//!
//! A grader running as root gives every run a fresh user id, which no account and no other run
//! uses, and makes it the owner of the run's folder. The student's service is started in a
//! folder of that run and runs as its user: it cannot signal the grader or another run's
//! processes, enter another run's folder, or write what the grader writes (the batch's
//! gradebook and feedback). The run's Redis runs as a second id of its own, in a folder of its
//! own, so that the service cannot read the server's memory either. The run's build runs as
//! the run's user too: the shared build folder is lent to it for the build ([`hand_over`]),
//! and bubblewrap shows the compiler only the toolchain, the registry and the stage.
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

/// A run's Redis runs as its run user's id plus this: a user of its own, so that the run's
/// service cannot read the server's memory (`/proc/<pid>/mem`, where the grader's password
/// is) or signal it. Run ids stay below 2^31, so Redis ids stay below 2^32 - 1.
const REDIS_UID_OFFSET: u32 = 1 << 30;

/// The user that probes whether bubblewrap can run as a run user would (see
/// [`crate::run::bwrap::available`]): below the run ids, so it owns no run's folder.
pub const PROBE_UID: u32 = FIRST_RUN_UID - 1;

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

    /// A fresh run user, for tests of what runs as one.
    #[cfg(test)]
    pub fn for_tests() -> RunUser {
        RunUser::fresh()
    }

    /// The user and group id.
    pub fn id(self) -> u32 {
        self.0
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

/// Gives `folder` (a fresh folder outside the run folder) to the Redis user of the run whose
/// folder is `run_folder`, when the grader is root; only that user may enter it.
pub fn claim_redis_folder(folder: &Path, run_folder: &Path) -> Result<()> {
    if let Some(run_user) = RunUser::owning(run_folder) {
        give(folder, RunUser(run_user.0 + REDIS_UID_OFFSET))?;
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Gives `file` to the user owning `folder`, where the grader may (as root): e.g. Redis'
/// configuration, which only the server may read.
pub fn give_file_to_folder_owner(file: &Path, folder: &Path) -> Result<()> {
    match RunUser::owning(folder) {
        Some(user) => std::os::unix::fs::chown(file, Some(user.0), Some(user.0))
            .with_context(|| format!("cannot give {} to user {}", file.display(), user.0)),
        None => Ok(()),
    }
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

/// How much of a folder changes hands in [`hand_over`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The folder alone, not what is in it.
    Folder,
    /// The folder and everything in it (links themselves, never what they point to).
    Tree,
}

/// Gives `path` to `user` for a build that runs as that run's user (the stage and the target
/// folder it must read and write), or, with `None`, back to the grader for a build it runs
/// itself (the reference solution's): inside bubblewrap's user namespace even root cannot
/// enter a folder whose owner has no id there. A grader that is not root changes nothing.
pub fn hand_over(path: &Path, reach: Reach, user: Option<RunUser>) -> Result<()> {
    let id = match user {
        Some(user) => user.0,
        // SAFETY: geteuid has no preconditions.
        None if available() => unsafe { libc::geteuid() },
        None => return Ok(()),
    };
    match reach {
        Reach::Folder => give_one(path, id),
        Reach::Tree => give_tree(path, id),
    }
}

fn give_one(path: &Path, id: u32) -> Result<()> {
    std::os::unix::fs::lchown(path, Some(id), Some(id))
        .with_context(|| format!("cannot give {} to user {id}", path.display()))
}

fn give_tree(tree: &Path, id: u32) -> Result<()> {
    give_one(tree, id)?;
    let entries =
        std::fs::read_dir(tree).with_context(|| format!("cannot read {}", tree.display()))?;
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            give_tree(&entry.path(), id)?;
        } else {
            give_one(&entry.path(), id)?;
        }
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
    fn a_runs_redis_has_a_user_of_its_own() {
        let run = tempfile::tempdir().unwrap();
        let redis = tempfile::tempdir().unwrap();
        claim_run_folder(run.path()).unwrap();
        claim_redis_folder(redis.path(), run.path()).unwrap();
        if is_root() {
            let (service, server) = (RunUser::owning(run.path()), RunUser::owning(redis.path()));
            assert!(service.is_some() && server.is_some());
            assert_ne!(service, server, "the service could read Redis' memory");
        }
    }

    #[test]
    fn a_lent_tree_belongs_to_the_user_all_the_way_down() {
        if !is_root() {
            return;
        }
        let tree = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tree.path().join("debug/deps")).unwrap();
        std::fs::write(tree.path().join("debug/deps/libx.rlib"), b"").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", tree.path().join("debug/link")).unwrap();
        let user = RunUser::fresh();
        hand_over(tree.path(), Reach::Tree, Some(user)).unwrap();
        for path in ["", "debug", "debug/deps", "debug/deps/libx.rlib", "debug/link"] {
            let owner = std::fs::symlink_metadata(tree.path().join(path)).unwrap().uid();
            assert_eq!(owner, user.0, "{path} was not lent");
        }
        let passwd = std::fs::metadata("/etc/passwd").unwrap().uid();
        assert_eq!(passwd, 0, "the link was followed");
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
