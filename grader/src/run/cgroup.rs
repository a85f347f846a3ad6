//! Control groups (v1) of a child's own: a cap on its processes and one on its memory, binding
//! it and everything it starts, which rlimits cannot do (they count one process at a time, and
//! `RLIMIT_NPROC` does not bind root).
//!
//! The grader creates them where it may (root, on a machine with cgroup v1 controllers
//! mounted, as on CI) and goes on without them elsewhere: the isolation line says which.

use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The cgroups of one child: one per controller the machine offers.
pub struct Cgroups {
    pids: Option<Cgroup>,
    memory: Option<Cgroup>,
}

/// One cgroup and its `cgroup.procs`, open so that the child can join it after `fork`.
struct Cgroup {
    dir: PathBuf,
    procs: File,
}

const PIDS_ROOT: &str = "/sys/fs/cgroup/pids";
const MEMORY_ROOT: &str = "/sys/fs/cgroup/memory";

impl Cgroups {
    /// Cgroups capping processes at `processes` and memory at `memory_bytes`, each where the
    /// machine allows it.
    pub fn create(processes: u64, memory_bytes: u64) -> Self {
        let pids = Cgroup::create(PIDS_ROOT, &[("pids.max", processes)]);
        // `memsw` (memory and swap) where the kernel accounts swap, so that swapping out does
        // not get around the cap. Written after the plain limit: it may never be below it.
        let memory = Cgroup::create(
            MEMORY_ROOT,
            &[
                ("memory.limit_in_bytes", memory_bytes),
                ("memory.memsw.limit_in_bytes", memory_bytes),
            ],
        );
        Self { pids, memory }
    }

    pub fn caps_processes(&self) -> bool {
        self.pids.is_some()
    }

    pub fn caps_memory(&self) -> bool {
        self.memory.is_some()
    }

    /// The `cgroup.procs` files to write the child's pid into, with [`join`], after `fork`.
    pub fn procs_fds(&self) -> [Option<RawFd>; 2] {
        [&self.pids, &self.memory].map(|group| group.as_ref().map(|g| g.procs.as_raw_fd()))
    }

    /// Kills everything in the cgroups until they are empty (a fork bomb keeps forking
    /// meanwhile).
    pub fn kill_all(&self) {
        for group in [&self.pids, &self.memory].into_iter().flatten() {
            group.kill_all();
        }
    }
}

impl Cgroup {
    /// A new cgroup under `root` with `limits` written into it; `None` where it cannot be
    /// made. A limit file the kernel lacks (`memsw` without swap accounting) is left out.
    fn create(root: &str, limits: &[(&str, u64)]) -> Option<Self> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let root = Path::new(root);
        if cfg!(not(target_os = "linux")) || !root.join("cgroup.procs").is_file() {
            return None;
        }
        remove_stale(root);
        let name = format!(
            "workbook-grader-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = root.join(name);
        std::fs::create_dir(&dir).ok()?;
        let limited = limits.iter().all(|(file, value)| {
            let path = dir.join(file);
            !path.exists() || std::fs::write(&path, value.to_string()).is_ok()
        });
        let procs = std::fs::OpenOptions::new().write(true).open(dir.join("cgroup.procs"));
        match procs {
            Ok(procs) if limited => Some(Self { dir, procs }),
            _ => {
                let _ = std::fs::remove_dir(&dir);
                None
            }
        }
    }

    fn kill_all(&self) {
        for _ in 0..100 {
            let members =
                std::fs::read_to_string(self.dir.join("cgroup.procs")).unwrap_or_default();
            let pids: Vec<i32> =
                members.lines().filter_map(|line| line.trim().parse().ok()).collect();
            if pids.is_empty() {
                return;
            }
            for pid in pids {
                // SAFETY: kill(2) touches no memory of ours.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        self.kill_all();
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Removes, once per grader and controller, the empty cgroups of graders that were killed
/// before they could clean up.
fn remove_stale(root: &Path) {
    static SWEPT: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let mut swept = SWEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if swept.iter().any(|done| done == root) {
        return;
    }
    swept.push(root.to_owned());
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let owner = name.strip_prefix("workbook-grader-").and_then(|rest| rest.split('-').next());
        if owner.is_some_and(|pid| !Path::new("/proc").join(pid).exists()) {
            // Fails, harmlessly, while processes are left in it.
            let _ = std::fs::remove_dir(entry.path());
        }
    }
}

/// In the child, between fork and exec: moves this process into the cgroup whose
/// `cgroup.procs` is open as `fd`. Formats the pid by hand: no allocation after fork.
pub fn join(fd: RawFd) -> std::io::Result<()> {
    // SAFETY: getpid has no preconditions.
    let mut pid = unsafe { libc::getpid() } as u32;
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (pid % 10) as u8;
        pid /= 10;
        if pid == 0 {
            break;
        }
    }
    let text = &digits[start..];
    // SAFETY: writes `text.len()` bytes from a live stack buffer.
    if unsafe { libc::write(fd, text.as_ptr().cast(), text.len()) } == text.len() as isize {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process tree that outgrows its memory cgroup is killed; without one (not root, no
    /// cgroup v1) the test says it skipped.
    #[test]
    fn a_process_tree_over_its_memory_cap_is_killed() {
        let groups = Cgroups::create(64, 64 << 20);
        if !groups.caps_memory() {
            eprintln!("SKIPPED: no memory cgroup here (it needs root and cgroup v1)");
            return;
        }
        let [_, memory] = groups.procs_fds();
        let fd = memory.expect("a memory cgroup has its procs file");
        let mut command = std::process::Command::new("sh");
        // `tail -n 1` keeps the whole of a line without newlines in memory: 512 MiB of it.
        command.args(["-c", "head -c 536870912 /dev/zero | tail -n 1 >/dev/null"]);
        use std::os::unix::process::CommandExt;
        // SAFETY: `join` only calls getpid and write on a live stack buffer.
        unsafe {
            command.pre_exec(move || join(fd));
        }
        let status = command.status().unwrap();
        assert!(!status.success(), "512 MiB fitted under a 64 MiB cap: {status}");
    }
}
