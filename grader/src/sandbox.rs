//! Running code we do not trust: the student's builds and services.
//!
//! Every process starts in a process group of its own with resource limits, writes its output
//! to files (a pipe that nobody drains would block it), and is killed with its whole group when
//! its [`Sandboxed`] handle is dropped, whatever the exit path.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::process::{Child, Command};

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
}

impl Limits {
    /// For a student's running service.
    pub const SERVICE: Limits =
        Limits { cpu_seconds: 600, memory_bytes: 4 << 30, file_bytes: 256 << 20, open_files: 1024 };
    /// For `cargo build`.
    pub const BUILD: Limits =
        Limits { cpu_seconds: 3600, memory_bytes: 0, file_bytes: 2 << 30, open_files: 4096 };
}

/// A running child process and its process group.
pub struct Sandboxed {
    child: Child,
    pgid: i32,
    stdout: PathBuf,
    stderr: PathBuf,
}

/// How a sandboxed process ended.
#[derive(Debug)]
pub enum Ended {
    Exited(ExitStatus),
    TimedOut,
}

impl Sandboxed {
    /// Starts `command` with `limits`, its output going to `<log_stem>.stdout` and `.stderr`.
    pub fn spawn(mut command: Command, limits: Limits, log_stem: &Path) -> Result<Self> {
        let stdout = log_stem.with_extension("stdout");
        let stderr = log_stem.with_extension("stderr");
        command
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout)?)
            .stderr(std::fs::File::create(&stderr)?)
            .process_group(0)
            .kill_on_drop(true);
        // SAFETY: only async-signal-safe calls (setrlimit) run between fork and exec.
        unsafe {
            command.pre_exec(move || apply_limits(&limits));
        }
        let child = command.spawn().context("cannot start process")?;
        let pgid = child.id().context("process exited before it could be tracked")? as i32;
        Ok(Self { child, pgid, stdout, stderr })
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

    /// Kills every process of the group at once.
    pub fn kill_group(&mut self) {
        signal_group(self.pgid, libc::SIGKILL);
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
}

impl Drop for Sandboxed {
    fn drop(&mut self) {
        self.kill_group();
    }
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

fn set_limit(resource: libc::__rlimit_resource_t, value: u64) -> std::io::Result<()> {
    let limit = libc::rlimit { rlim_cur: value, rlim_max: value };
    // SAFETY: setrlimit reads the struct we pass and nothing else.
    if unsafe { libc::setrlimit(resource, &limit) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
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

/// A free TCP port on the loopback interface.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("no free loopback port")?;
    Ok(listener.local_addr()?.port())
}
