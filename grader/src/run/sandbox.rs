//! Running code we do not trust: the student's builds and services.
//!
//! Every process starts in a process group of its own with resource limits, writes its output
//! to files (a pipe that nobody drains would block it), and is killed with its whole group when
//! its [`Sandboxed`] handle is dropped, whatever the exit path. The group is led by a
//! [`Watchdog`], which kills it if the grader dies without dropping the handle.
//!
//! The number of processes is capped by a pids cgroup of its own where the machine offers one
//! (cgroup v1, as root), else by `RLIMIT_NPROC` (which does not bind root). A cgroup also
//! catches processes that leave the process group: on drop, everything in it is killed.
//!
//! Pids cgroups, run users and the parent-death signal are Linux's; on macOS, process groups,
//! rlimits and the watchdog do the job, and [`isolation`] says what was in force.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::process::{Child, Command};

use crate::run::cgroup::{self, Cgroups};
use crate::run::users::RunUser;
use crate::run::watchdog::Watchdog;

/// Resource limits applied to a child process with `setrlimit` before it runs.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// CPU seconds.
    pub cpu_seconds: u64,
    /// Address space in bytes (0: unlimited; compilers and linkers need a lot).
    pub memory_bytes: u64,
    /// Largest file the process may write, including its captured output.
    pub file_bytes: u64,
    /// Open file descriptors.
    pub open_files: u64,
    /// Processes and threads.
    pub processes: u64,
    /// Memory in use by the process and everything it starts, together (a memory cgroup
    /// where the machine has one): unlike the address space, it binds a compiler too.
    pub memory_cgroup_bytes: u64,
}

impl Limits {
    /// For a student's running service.
    pub const SERVICE: Limits = Limits {
        cpu_seconds: 600,
        memory_bytes: 4 << 30,
        file_bytes: 256 << 20,
        open_files: 1024,
        processes: 256,
        memory_cgroup_bytes: 2 << 30,
    };
    /// For `cargo build`.
    pub const BUILD: Limits = Limits {
        cpu_seconds: 3600,
        memory_bytes: 0,
        file_bytes: 2 << 30,
        open_files: 4096,
        processes: 2048,
        // rustc and the linker on one crate, with room: a few hundred MiB to 2 GiB.
        memory_cgroup_bytes: 6 << 30,
    };
}

/// A running child process and its process group.
pub struct Sandboxed {
    child: Child,
    pgid: i32,
    cgroups: Cgroups,
    stdout: PathBuf,
    stderr: PathBuf,
    /// Leads the group; dropped after the group is killed.
    _watchdog: Watchdog,
}

/// How a sandboxed process ended.
#[derive(Debug)]
pub enum Ended {
    Exited(ExitStatus),
    TimedOut,
}

impl Sandboxed {
    /// Starts `command` with `limits`, its output going to `<log_stem>.stdout` and `.stderr`.
    pub fn spawn(command: Command, limits: Limits, log_stem: &Path) -> Result<Self> {
        Self::spawn_as(command, limits, log_stem, None)
    }

    /// Like [`Sandboxed::spawn`], running as `user` when there is one (see [`RunUser`]).
    pub fn spawn_as(
        command: Command,
        limits: Limits,
        log_stem: &Path,
        user: Option<RunUser>,
    ) -> Result<Self> {
        Self::start(command, limits, log_stem, user, Stdio::null())
    }

    /// Like [`Sandboxed::spawn_as`], with `input` waiting on the process's standard input
    /// (then end of file): what the grader hands a service and no one else may see.
    pub fn spawn_with_input(
        command: Command,
        limits: Limits,
        log_stem: &Path,
        user: Option<RunUser>,
        input: String,
    ) -> Result<Self> {
        let (reader, mut writer) = std::io::pipe().context("cannot make a pipe")?;
        // A few bytes: the pipe holds them until the process reads them.
        std::io::Write::write_all(&mut writer, input.as_bytes())?;
        drop(writer);
        Self::start(command, limits, log_stem, user, Stdio::from(reader))
    }

    fn start(
        mut command: Command,
        limits: Limits,
        log_stem: &Path,
        user: Option<RunUser>,
        stdin: Stdio,
    ) -> Result<Self> {
        let stdout = log_stem.with_extension("stdout");
        let stderr = log_stem.with_extension("stderr");
        let watchdog = Watchdog::start().context(
            "cannot start /bin/sh as the watchdog that stops student processes when the grader \
             dies; check that /bin/sh exists and that the grader may start processes",
        )?;
        let pgid = watchdog.group();
        command
            .stdin(stdin)
            .stdout(create_log(&stdout)?)
            .stderr(create_log(&stderr)?)
            .process_group(pgid)
            .kill_on_drop(true);
        let cgroups = Cgroups::create(limits.processes, limits.memory_cgroup_bytes);
        let cgroup_procs = cgroups.procs_fds();
        let nproc = if cgroups.caps_processes() { None } else { nproc_limit(limits.processes) };
        let grader = std::process::id() as libc::pid_t;
        // SAFETY: only async-signal-safe calls (getrlimit, setrlimit, getpid, write, setuid,
        // prctl, getppid) run between fork and exec, on memory prepared before the fork.
        unsafe {
            command.pre_exec(move || {
                apply_limits(&limits)?;
                if let Some(max) = nproc {
                    set_limit(libc::RLIMIT_NPROC, max)?;
                }
                // Joining a cgroup takes root: before giving it up.
                for fd in &cgroup_procs {
                    cgroup::join(*fd)?;
                }
                if let Some(user) = user {
                    user.become_in_child()?;
                }
                // Last, because a change of user clears the parent-death signal.
                die_with_grader(grader)
            });
        }
        let child = command.spawn().context("cannot start process")?;
        Ok(Self { child, pgid, cgroups, stdout, stderr, _watchdog: watchdog })
    }

    /// Waits at most `limit` for the process to exit; on time-out its group is killed.
    pub async fn wait(&mut self, limit: Duration) -> Result<Ended> {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => {
                // The leader is gone; make sure nothing it started lingers.
                self.kill_group();
                Ok(Ended::Exited(status?))
            }
            Err(_) => {
                self.kill_group();
                let _ = self.child.wait().await;
                Ok(Ended::TimedOut)
            }
        }
    }

    /// `Some(status)` once the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Asks the process group to stop (SIGTERM), then kills it after `grace`.
    pub async fn stop(&mut self, grace: Duration) {
        signal_group(self.pgid, libc::SIGTERM);
        if tokio::time::timeout(grace, self.child.wait()).await.is_err() {
            self.kill_group();
            let _ = self.child.wait().await;
        }
        self.kill_group();
    }

    /// Kills every process of the group (and of its cgroup) at once.
    pub fn kill_group(&mut self) {
        signal_group(self.pgid, libc::SIGKILL);
        self.cgroups.kill_all();
    }

    /// The last `max_bytes` of what the process wrote to stderr and stdout.
    pub fn output_tail(&self, max_bytes: u64) -> String {
        let stderr = tail(&self.stderr, max_bytes);
        let stdout = tail(&self.stdout, max_bytes / 4);
        match (stderr.trim().is_empty(), stdout.trim().is_empty()) {
            (true, true) => "(no output)".to_owned(),
            (false, true) => stderr,
            (true, false) => stdout,
            (false, false) => format!("{stderr}\n--- stdout ---\n{stdout}"),
        }
    }

    pub fn stderr_path(&self) -> &Path {
        &self.stderr
    }

    pub fn stdout_path(&self) -> &Path {
        &self.stdout
    }
}

impl Drop for Sandboxed {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// What keeps student processes in check on this machine, in words for the scorecard.
/// Probed once per run: the answer does not change while the grader runs.
pub fn isolation() -> String {
    static ISOLATION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ISOLATION.get_or_init(probe_isolation).clone()
}

fn probe_isolation() -> String {
    let probe = Cgroups::create(1, 1 << 30);
    let processes = if probe.caps_processes() {
        "a pids cgroup of their own"
    } else if nproc_limit(1).is_some() {
        "RLIMIT_NPROC"
    } else {
        "nothing (running as root without a pids cgroup)"
    };
    drop(probe);
    let user = if crate::run::containment_turned_off() {
        "services and Redis run as the grader's user (turned off with --without-containment)"
    } else if crate::run::users::available() && crate::run::disk::available().is_ok() {
        "each run's service and its Redis run as two users of their own, its files on a disk \
         of its own (1 GiB, 20,000 files)"
    } else if crate::run::users::available() {
        "each run's service and its Redis run as two users of their own (no disk of its own: \
         this machine refuses the grader a mount)"
    } else if cfg!(target_os = "linux") {
        "services and Redis run as the grader's user (a user of their own per run needs root)"
    } else {
        "services and Redis run as the grader's user (a user of their own per run is Linux-only)"
    };
    let with_the_grader = if cfg!(target_os = "linux") {
        "killed with the grader (watchdog and parent-death signal)"
    } else {
        "killed with the grader (watchdog)"
    };
    format!(
        "{}; process groups; limits on {LIMITED}; process count capped by {processes}; {}; \
         {user}; {with_the_grader}",
        crate::run::bwrap::describe(),
        cgroup::describe(),
    )
}

/// The resource limits the kernel enforces. macOS accepts `RLIMIT_AS` but ignores it.
const LIMITED: &str = if cfg!(target_os = "macos") {
    "CPU time, file size and open files (macOS does not limit memory)"
} else {
    "CPU time, memory, file size and open files"
};

/// `RLIMIT_NPROC` counts every process of the user, so the limit is what the user runs now
/// plus `extra`. `None` for root, which the limit does not bind.
fn nproc_limit(extra: u64) -> Option<u64> {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    if uid == 0 {
        return None;
    }
    Some(processes_of(uid) as u64 + extra)
}

/// How many processes `uid` runs now.
#[cfg(target_os = "linux")]
fn processes_of(uid: libc::uid_t) -> usize {
    use std::os::unix::fs::MetadataExt;
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter(|entry| entry.file_name().to_string_lossy().parse::<u32>().is_ok())
                .filter(|entry| entry.metadata().is_ok_and(|meta| meta.uid() == uid))
                .count()
        })
        .unwrap_or(0)
}

/// How many processes `uid` runs now (macOS has no `/proc`: libproc lists them).
#[cfg(target_os = "macos")]
fn processes_of(uid: libc::uid_t) -> usize {
    /// `PROC_RUID_ONLY` from `<libproc.h>`: the real user id, which `RLIMIT_NPROC` counts.
    const PROC_RUID_ONLY: u32 = 5;
    let mut pids = vec![0 as libc::pid_t; 1 << 16];
    let bytes = std::mem::size_of_val(pids.as_slice()) as libc::c_int;
    // SAFETY: proc_listpids writes at most `bytes` bytes into `pids`, which is alive.
    let written =
        unsafe { libc::proc_listpids(PROC_RUID_ONLY, uid, pids.as_mut_ptr().cast(), bytes) };
    usize::try_from(written).unwrap_or(0) / std::mem::size_of::<libc::pid_t>()
}

/// Elsewhere the count is unknown: the limit then allows only the extra processes.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn processes_of(_uid: libc::uid_t) -> usize {
    0
}

/// Dies with the grader, even one killed with `SIGKILL`: on Linux the kernel sends the signal
/// itself (the watchdog kills the rest of the group). Run between fork and exec.
#[cfg(target_os = "linux")]
fn die_with_grader(grader: libc::pid_t) -> std::io::Result<()> {
    // SAFETY: prctl and getppid take integers and touch no memory of ours. The signal fires
    // when the spawning *thread* ends: processes are spawned by runtime threads that outlive
    // them.
    unsafe {
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // A grader killed since the fork sent no signal: this child is an orphan already.
        if libc::getppid() != grader {
            return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
        }
    }
    Ok(())
}

/// Elsewhere there is no parent-death signal: the group's [`Watchdog`] alone kills it.
#[cfg(not(target_os = "linux"))]
fn die_with_grader(_grader: libc::pid_t) -> std::io::Result<()> {
    Ok(())
}

fn signal_group(pgid: i32, signal: i32) {
    // SAFETY: kill(2) with a negative pid signals the process group; no memory is touched.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

fn apply_limits(limits: &Limits) -> std::io::Result<()> {
    set_limit(libc::RLIMIT_CPU, limits.cpu_seconds)?;
    set_limit(libc::RLIMIT_FSIZE, limits.file_bytes)?;
    set_limit(libc::RLIMIT_NOFILE, limits.open_files)?;
    set_limit(libc::RLIMIT_CORE, 0)?;
    if limits.memory_bytes > 0 {
        set_limit(libc::RLIMIT_AS, limits.memory_bytes)?;
    }
    Ok(())
}

/// The type of `setrlimit`'s first argument, which glibc declares an enum of its own.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
type Resource = libc::__rlimit_resource_t;
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
type Resource = libc::c_int;

/// Sets both limits to `value`, or to the hard limit when that is lower: only root may raise
/// it (macOS caps `RLIMIT_NPROC` well below the limit a build asks for).
fn set_limit(resource: Resource, value: u64) -> std::io::Result<()> {
    let mut current = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we pass, which is alive.
    if unsafe { libc::getrlimit(resource, &mut current) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let value = value.min(current.rlim_max);
    let limit = libc::rlimit { rlim_cur: value, rlim_max: value };
    // SAFETY: setrlimit reads the struct we pass and nothing else.
    if unsafe { libc::setrlimit(resource, &limit) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A new, empty log file at `path`, the grader's alone (0600). An old file or link of that name
/// is removed first (the link itself, never what it points to), and the new one is created
/// without following links: whatever stood there, the output goes into a file of our own.
fn create_log(path: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            return Err(err).with_context(|| format!("cannot replace {}", path.display()));
        }
        _ => {}
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// The last `max_bytes` of a file, lossily decoded, starting at a line boundary.
pub fn tail(path: &Path, max_bytes: u64) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(max_bytes);
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err() || file.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    match (start > 0, text.find('\n')) {
        (true, Some(newline)) => format!("[... earlier output cut ...]\n{}", &text[newline + 1..]),
        _ => text,
    }
}

/// Whether the file system holding `path` is (nearly) full: a check of the machine's state, so
/// that a program cannot pass its own failure off as the grader's by printing "disk full".
pub fn disk_full(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    const NEARLY_FULL: u64 = 64 << 20;
    let Ok(path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else { return false };
    // SAFETY: statvfs is all integers; all zeroes is a valid value.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: statvfs reads a NUL-terminated path and writes into `stats`, both alive.
    if unsafe { libc::statvfs(path.as_ptr(), &mut stats) } != 0 {
        return false;
    }
    (stats.f_bavail as u64).saturating_mul(stats.f_frsize as u64) < NEARLY_FULL
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("no free loopback port")?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_replaces_a_link_in_its_place_and_never_writes_through_it() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "the grader's own").unwrap();
        let log = dir.path().join("service-2.stdout");
        std::os::unix::fs::symlink(&victim, &log).unwrap();

        std::io::Write::write_all(&mut create_log(&log).unwrap(), b"the service's words").unwrap();

        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "the grader's own");
        assert!(!std::fs::symlink_metadata(&log).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "the service's words");
    }
}
