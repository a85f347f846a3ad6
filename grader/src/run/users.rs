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
use std::path::{Path, PathBuf};
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

    /// From now on, this thread (only) opens files with this user's rights: its file-system
    /// user and group, no supplementary groups, and so none of root's file capabilities.
    /// Raw system calls: the C library's wrappers would change every thread of the grader.
    #[cfg(target_os = "linux")]
    fn reach_files_as_in_this_thread(self) -> std::io::Result<()> {
        let id = libc::c_long::from(self.0);
        // SAFETY: plain system calls on integers; setgroups with a count of 0 reads no memory.
        let now = unsafe {
            if libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::syscall(libc::SYS_setfsgid, id);
            libc::syscall(libc::SYS_setfsuid, id);
            // setfsuid answers with the previous id and never fails: an invalid id (-1) reads
            // the current one back.
            (libc::syscall(libc::SYS_setfsuid, -1), libc::syscall(libc::SYS_setfsgid, -1))
        };
        if now == (id, id) {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("cannot reach files as user {}", self.0)))
        }
    }

    /// Never called: [`available`] hands out run users only on Linux.
    #[cfg(not(target_os = "linux"))]
    fn reach_files_as_in_this_thread(self) -> std::io::Result<()> {
        Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
    }

    /// Never called: [`available`] hands out run users only on Linux.
    #[cfg(not(target_os = "linux"))]
    pub fn become_in_child(self) -> std::io::Result<()> {
        Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
    }
}

/// Makes a new run folder the grader's own and picks the run's user, when the grader is root
/// (`None` otherwise: processes then run as the grader's user).
///
/// The folder stays root's: nothing of a submission may create, swap or link a name in it, so
/// whatever the grader keeps there (the service's logs, the built binary) is safe to open by
/// path. Run users may pass through it to reach their own folders ([`create_home`]) but not
/// list it.
pub fn claim_run_folder(folder: &Path) -> Result<Option<RunUser>> {
    if !available() {
        return Ok(None);
    }
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o711))
        .with_context(|| format!("cannot set the permissions of {}", folder.display()))?;
    Ok(Some(RunUser::fresh()))
}

/// A fresh folder in `run_folder` for one service (its working folder, its SQLite file), given
/// to `user`. The name is random, never derived from anything the service is told, and the
/// folder is made new (`mkdir` fails on any name already there) inside a folder only the
/// grader writes: no link planted beforehand can stand in for it. Only `user` may enter it.
pub fn create_home(run_folder: &Path, prefix: &str, user: Option<RunUser>) -> Result<PathBuf> {
    let home = tempfile::Builder::new()
        .prefix(prefix)
        .rand_bytes(16)
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(run_folder)
        .with_context(|| format!("cannot create a folder in {}", run_folder.display()))?
        .keep();
    if let Some(user) = user {
        give_handle(&home, user.0)?;
    }
    Ok(home)
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
/// user is `run_user`; only that user may enter it.
pub fn claim_redis_folder(folder: &Path, run_user: Option<RunUser>) -> Result<()> {
    if let Some(run_user) = run_user {
        give_handle(folder, run_user.0 + REDIS_UID_OFFSET)?;
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

/// Runs `work` on a thread of its own that reaches files as the owner of `folder` does, when
/// that owner is a run user: for the grader's own connection to a service's SQLite file,
/// which lies in a folder the service writes. A link the service planted there then leads
/// nowhere the service could not go itself. The thread's own runtime drives `work`, so that
/// every thread it starts (SQLite's worker) inherits the same identity; no other thread of
/// the grader changes.
pub async fn as_owner_of<T, F, Fut>(folder: &Path, work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T>,
{
    let owner = RunUser::owning(folder);
    let (answer, answered) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("as-run-user".to_owned())
        .spawn(move || {
            let outcome = (|| -> Result<T> {
                if let Some(owner) = owner {
                    owner.reach_files_as_in_this_thread()?;
                }
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                Ok(runtime.block_on(work()))
            })();
            let _ = answer.send(outcome);
        })
        .context("cannot start a thread")?;
    answered.await.context("the thread working as the run user died")?
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

/// Gives the folder at `path` to `id` through a handle opened without following a link: the
/// folder itself changes hands, never what a link would lead to.
fn give_handle(path: &Path, id: u32) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let folder = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| format!("cannot open the folder {}", path.display()))?;
    std::os::unix::fs::fchown(&folder, Some(id), Some(id))
        .with_context(|| format!("cannot give {} to user {id}", path.display()))
}

/// Whether runs get users of their own: on Linux, when the grader is root.
pub fn available() -> bool {
    cfg!(target_os = "linux") && is_root() && !super::containment_turned_off()
}

/// Whether the grader runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_folder_stays_the_graders_and_each_home_is_the_run_users_under_a_new_name() {
        let run = tempfile::tempdir().unwrap();
        let user = claim_run_folder(run.path()).unwrap();
        let first = create_home(run.path(), "service-", user).unwrap();
        let second = create_home(run.path(), "service-", user).unwrap();
        assert_ne!(first, second, "two services would share a folder");
        assert!(first.file_name().unwrap().len() > "service-".len() + 12, "a guessable name");
        let run_meta = std::fs::metadata(run.path()).unwrap();
        if available() {
            assert!(user.is_some_and(|user| user.0 >= FIRST_RUN_UID));
            assert_eq!(run_meta.uid(), 0, "a service could plant names in the run's folder");
            assert_eq!(run_meta.mode() & 0o777, 0o711, "run users could list the run's folder");
            assert_eq!(RunUser::owning(&first), user);
            let mode = std::fs::metadata(&first).unwrap().mode();
            assert_eq!(mode & 0o777, 0o700, "another run's user could enter it");
        } else {
            // Nothing changes hands: the processes run as the grader's user.
            assert_eq!(user, None);
            assert_eq!(RunUser::owning(&first), None);
        }
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_grader_reaches_a_services_files_with_the_services_rights_only() {
        if !available() {
            return;
        }
        let run = tempfile::tempdir().unwrap();
        let user = claim_run_folder(run.path()).unwrap();
        let home = create_home(run.path(), "service-", user).unwrap();
        let secret = tempfile::tempdir().unwrap();
        let secret_file = secret.path().join("gradebook.csv");
        std::fs::write(&secret_file, "alice,20").unwrap();
        std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(home.join("db.sqlite3"), "the service's own").unwrap();
        std::os::unix::fs::symlink(&secret_file, home.join("planted")).unwrap();

        let (own, planted) = (home.join("db.sqlite3"), home.join("planted"));
        let read = as_owner_of(&home, move || async move {
            (std::fs::read_to_string(own), std::fs::read_to_string(planted))
        })
        .await
        .unwrap();
        assert_eq!(read.0.unwrap(), "the service's own");
        assert!(read.1.is_err(), "the link led the grader to a file only root may read");
        // The grader's other threads are still root.
        assert_eq!(std::fs::read_to_string(&secret_file).unwrap(), "alice,20");
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
        let user = claim_run_folder(run.path()).unwrap();
        claim_redis_folder(redis.path(), user).unwrap();
        if is_root() {
            let server = RunUser::owning(redis.path());
            assert!(user.is_some() && server.is_some());
            assert_ne!(user, server, "the service could read Redis' memory");
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
