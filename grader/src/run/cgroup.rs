//! Control groups of a child's own: a cap on its processes, one on its memory and an equal
//! share of the CPU, binding it and everything it starts, which rlimits cannot do (they count
//! one process at a time, `RLIMIT_NPROC` does not bind root, and nothing in them shares the
//! CPU fairly between two runs).
//!
//! Machines have one of two layouts ([`Layout::detect`]): cgroup v1, a tree per controller
//! (`/sys/fs/cgroup/pids`, `memory`, `cpu`), as on this project's CI; or cgroup v2, one tree
//! whose `cgroup.controllers` lists what it offers, as on current distributions and GitHub's
//! runners. The grader creates its groups where it may (root) and goes on without them
//! elsewhere: the isolation line says which caps were in force, and a batch refuses to run
//! without them (see `run/containment.rs`).

use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the kernel shows its cgroups.
const SYS_FS_CGROUP: &str = "/sys/fs/cgroup";

/// The CPU weight every child gets, the default of each layout: all the same, so a run with
/// three hundred busy threads gets the share of a run with one.
const CPU_SHARES_V1: u64 = 1024;
const CPU_WEIGHT_V2: u64 = 100;

/// The cgroups of one child, and what they cap.
pub struct Cgroups {
    groups: Vec<Cgroup>,
    caps: Caps,
}

/// What a child's cgroups hold it to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caps {
    pub processes: bool,
    pub memory: bool,
    pub cpu_share: bool,
}

/// One cgroup and its `cgroup.procs`, open so that the child can join it after `fork`.
struct Cgroup {
    dir: PathBuf,
    procs: File,
}

/// How this machine lays out its cgroups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// cgroup v2: one tree at `root`, offering `controllers`.
    Unified { root: PathBuf, controllers: Vec<String> },
    /// cgroup v1: a tree per controller below `root`.
    PerController { root: PathBuf },
    /// No cgroups the grader can use (macOS, or no cgroup file system).
    Absent,
}

impl Layout {
    /// Reads the layout below `sys` (`/sys/fs/cgroup` on a real machine).
    pub fn detect(sys: &Path) -> Layout {
        if cfg!(not(target_os = "linux")) {
            return Layout::Absent;
        }
        if let Ok(list) = std::fs::read_to_string(sys.join("cgroup.controllers")) {
            let controllers = list.split_whitespace().map(str::to_owned).collect();
            return Layout::Unified { root: sys.to_owned(), controllers };
        }
        let v1 = ["pids", "memory", "cpu"];
        if v1.iter().any(|controller| sys.join(controller).join("cgroup.procs").is_file()) {
            return Layout::PerController { root: sys.to_owned() };
        }
        Layout::Absent
    }

    /// The layout of this machine, read once.
    fn of_this_machine() -> &'static Layout {
        static LAYOUT: std::sync::OnceLock<Layout> = std::sync::OnceLock::new();
        LAYOUT.get_or_init(|| match super::containment_turned_off() {
            true => Layout::Absent,
            false => Layout::detect(Path::new(SYS_FS_CGROUP)),
        })
    }

    /// Its name, for the isolation line.
    pub fn name(&self) -> &'static str {
        match self {
            Layout::Unified { .. } => "cgroup v2",
            Layout::PerController { .. } => "cgroup v1",
            Layout::Absent => "no cgroups",
        }
    }
}

impl Cgroups {
    /// Cgroups capping processes at `processes` and memory at `memory_bytes`, with an equal
    /// share of the CPU, each where the machine allows it.
    pub fn create(processes: u64, memory_bytes: u64) -> Self {
        match Layout::of_this_machine() {
            Layout::PerController { root } => Self::per_controller(root, processes, memory_bytes),
            Layout::Unified { root, controllers } => {
                Self::unified(root, controllers, processes, memory_bytes)
            }
            Layout::Absent => Self { groups: Vec::new(), caps: Caps::default() },
        }
    }

    /// cgroup v1: a group in each controller's tree.
    fn per_controller(root: &Path, processes: u64, memory_bytes: u64) -> Self {
        let pids = Cgroup::create(&root.join("pids"), &[("pids.max", processes)]);
        // `memsw` (memory and swap) where the kernel accounts swap, so that swapping out does
        // not get around the cap. Written after the plain limit: it may never be below it.
        let memory = Cgroup::create(
            &root.join("memory"),
            &[
                ("memory.limit_in_bytes", memory_bytes),
                ("memory.memsw.limit_in_bytes", memory_bytes),
            ],
        );
        let cpu = Cgroup::create(&root.join("cpu"), &[("cpu.shares", CPU_SHARES_V1)]);
        let caps =
            Caps { processes: pids.is_some(), memory: memory.is_some(), cpu_share: cpu.is_some() };
        Self { groups: [pids, memory, cpu].into_iter().flatten().collect(), caps }
    }

    /// cgroup v2: one group for every controller, directly below the root, whose
    /// `cgroup.subtree_control` must hand the controllers down (root may switch them on).
    fn unified(root: &Path, offered: &[String], processes: u64, memory_bytes: u64) -> Self {
        let wanted = ["pids", "memory", "cpu"];
        for controller in wanted.iter().filter(|wanted| offered.iter().any(|c| c == *wanted)) {
            // Fails where the controller is on already or the root may not: then read back.
            let _ = std::fs::write(root.join("cgroup.subtree_control"), format!("+{controller}"));
        }
        let delegated = std::fs::read_to_string(root.join("cgroup.subtree_control"))
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        let on = |controller: &str| delegated.iter().any(|c| c == controller);
        let mut limits = Vec::new();
        if on("pids") {
            limits.push(("pids.max", processes));
        }
        if on("memory") {
            // No swap at all: swapping out must not get around the cap.
            limits.extend([("memory.max", memory_bytes), ("memory.swap.max", 0)]);
        }
        if on("cpu") {
            limits.push(("cpu.weight", CPU_WEIGHT_V2));
        }
        match Cgroup::create(root, &limits) {
            Some(group) => Self {
                groups: vec![group],
                caps: Caps { processes: on("pids"), memory: on("memory"), cpu_share: on("cpu") },
            },
            None => Self { groups: Vec::new(), caps: Caps::default() },
        }
    }

    /// What these cgroups hold the child to.
    pub fn caps(&self) -> Caps {
        self.caps
    }

    pub fn caps_processes(&self) -> bool {
        self.caps.processes
    }

    pub fn caps_memory(&self) -> bool {
        self.caps.memory
    }

    /// The `cgroup.procs` files to write the child's pid into, with [`join`], after `fork`.
    pub fn procs_fds(&self) -> Vec<RawFd> {
        self.groups.iter().map(|group| group.procs.as_raw_fd()).collect()
    }

    /// Kills everything in the cgroups until they are empty (a fork bomb keeps forking
    /// meanwhile).
    pub fn kill_all(&self) {
        for group in &self.groups {
            group.kill_all();
        }
    }
}

/// What cgroups give a child on this machine, in words for the isolation line: probed by
/// creating (and dropping) one set.
pub fn describe() -> String {
    let caps = Cgroups::create(1, 1 << 30).caps();
    let layout = Layout::of_this_machine().name();
    let mut held = Vec::new();
    if caps.processes {
        held.push("process count");
    }
    if caps.memory {
        held.push("memory of each process tree (builds included)");
    }
    if caps.cpu_share {
        held.push("an equal CPU share");
    }
    if super::containment_turned_off() {
        return "no cgroup caps (turned off with --without-containment)".to_owned();
    }
    if held.is_empty() {
        return format!("no cgroup caps ({layout}: they need root)");
    }
    format!("{layout} caps: {}", held.join(", "))
}

impl Cgroup {
    /// A new cgroup under `root` with `limits` written into it; `None` where it cannot be
    /// made. A limit file the kernel lacks (`memsw` without swap accounting) is left out.
    fn create(root: &Path, limits: &[(&str, u64)]) -> Option<Self> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
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

/// Removes, once per grader and tree, the empty cgroups of graders that were killed before
/// they could clean up.
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

    #[test]
    fn the_layout_is_read_from_what_the_kernel_shows() {
        let sys = tempfile::tempdir().unwrap();
        if cfg!(not(target_os = "linux")) {
            assert_eq!(Layout::detect(sys.path()), Layout::Absent);
            return;
        }
        assert_eq!(Layout::detect(sys.path()), Layout::Absent);
        std::fs::create_dir(sys.path().join("pids")).unwrap();
        std::fs::write(sys.path().join("pids/cgroup.procs"), "").unwrap();
        assert_eq!(Layout::detect(sys.path()), Layout::PerController { root: sys.path().into() });
        std::fs::write(sys.path().join("cgroup.controllers"), "cpuset cpu io memory pids\n")
            .unwrap();
        let Layout::Unified { controllers, .. } = Layout::detect(sys.path()) else {
            panic!("a cgroup.controllers file is cgroup v2");
        };
        assert_eq!(controllers, ["cpuset", "cpu", "io", "memory", "pids"]);
    }

    /// A process tree that outgrows its memory cgroup is killed, on either layout; without one
    /// (not root, no cgroups) the test says loudly that it skipped.
    #[test]
    fn a_process_tree_over_its_memory_cap_is_killed() {
        let groups = Cgroups::create(64, 64 << 20);
        if !groups.caps_memory() {
            eprintln!(
                "SKIPPED: no memory cgroup here ({}; it needs root)",
                Layout::of_this_machine().name()
            );
            return;
        }
        let fds = groups.procs_fds();
        let mut command = std::process::Command::new("sh");
        // `tail -n 1` keeps the whole of a line without newlines in memory: 512 MiB of it.
        command.args(["-c", "head -c 536870912 /dev/zero | tail -n 1 >/dev/null"]);
        use std::os::unix::process::CommandExt;
        // SAFETY: `join` only calls getpid and write on a live stack buffer.
        unsafe {
            command.pre_exec(move || fds.iter().try_for_each(|fd| join(*fd)));
        }
        let status = command.status().unwrap();
        assert!(!status.success(), "512 MiB fitted under a 64 MiB cap: {status}");
    }

    /// On a cgroup v2 machine (GitHub's runners), as root, every cap is in force.
    #[test]
    fn a_cgroup_v2_machine_gives_every_cap() {
        let Layout::Unified { .. } = Layout::of_this_machine() else {
            eprintln!(
                "SKIPPED: this machine has {}, not cgroup v2",
                Layout::of_this_machine().name()
            );
            return;
        };
        if !crate::run::users::available() {
            eprintln!("SKIPPED: cgroup v2 caps need a grader running as root");
            return;
        }
        let caps = Cgroups::create(64, 64 << 20).caps();
        assert_eq!(caps, Caps { processes: true, memory: true, cpu_share: true });
    }
}
