//! A watchdog per process group: when the grader dies, even of `SIGKILL`, the group dies too,
//! so no Redis or student service lives on holding a port.
//!
//! Linux has `PR_SET_PDEATHSIG`, but it kills only the one process that asked for it, and macOS
//! has nothing like it. This works on every unix, with nothing but a pipe and `/bin/sh`:
//!
//! - The grader creates one pipe, the *lifeline*, and keeps its write end open until it dies.
//!   Nobody ever writes to it. Both ends are close-on-exec, so no program the grader starts
//!   inherits the write end.
//! - For each group, the grader first starts the watchdog, a `/bin/sh` that leads a new process
//!   group and reads the lifeline as its standard input. A read returns only at end of file,
//!   which comes when the last write end closes: when the grader has died. Then the shell kills
//!   its process group.
//! - The guarded process is then started *into the watchdog's group*. It joins the group before
//!   it can run any code of its own, so there is no moment in which it could be orphaned
//!   unwatched: even a grader killed during the spawn leaves a group that the watchdog kills,
//!   because the child's copy of the write end closes at its `exec`.
//!
//! Why a shell rather than a thread, or a process forked between `fork` and `exec`? A child
//! process cannot start threads before `exec`, and a process forked from the grader without
//! `exec` would keep a copy of every descriptor the grader has open (its sockets, say), changing
//! what the grader's peers see. `exec` closes them all.
//! The shell ignores `SIGTERM`, `SIGINT` and `SIGHUP`, so a graceful stop of the group (which
//! signals the watchdog too) does not leave it unwatched; the grader's `SIGKILL` to the group
//! ends the watchdog with the rest.

use std::io::{PipeReader, PipeWriter};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// The watchdog's program: wait for end of file on standard input, then kill the process group.
const WATCH: &str = "trap '' HUP INT TERM; read line; kill -9 0";

/// The process leading a group of guarded processes; see the module's documentation.
pub struct Watchdog {
    shell: Child,
}

impl Watchdog {
    /// Starts a watchdog leading a new process group. Start the guarded processes into that
    /// group (`command.process_group(watchdog.group())`).
    pub fn start() -> std::io::Result<Self> {
        let shell = Command::new("/bin/sh")
            .args(["-c", WATCH])
            .stdin(lifeline()?)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        Ok(Self { shell })
    }

    /// The id of the process group the watchdog leads.
    pub fn group(&self) -> i32 {
        self.shell.id() as i32
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Usually killed already with its group; either way, reap it. A killed shell exits at
        // once, so the wait does not block.
        let _ = self.shell.kill();
        let _ = self.shell.wait();
    }
}

/// The read end of this process's lifeline, for a watchdog's standard input.
fn lifeline() -> std::io::Result<PipeReader> {
    static LIFELINE: OnceLock<(PipeReader, PipeWriter)> = OnceLock::new();
    if let Some((reader, _)) = LIFELINE.get() {
        return reader.try_clone();
    }
    let pipe = std::io::pipe()?;
    // Two threads may race here: the losing pipe is dropped, and every watchdog reads the one
    // that is kept.
    let (reader, _writer_kept_open_until_the_grader_dies) = LIFELINE.get_or_init(|| pipe);
    reader.try_clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read};
    use std::time::Duration;

    /// Set in the environment of the helper process that plays the grader.
    const HELPER: &str = "WATCHDOG_TEST_HELPER";

    /// Not a test of its own: the process that plays the grader in the test below. It starts
    /// `sleep` under a watchdog, with its standard output on the test's pipe, says so, and waits
    /// to be killed.
    #[test]
    fn helper_playing_the_grader() {
        if std::env::var_os(HELPER).is_none() {
            return;
        }
        let watchdog = Watchdog::start().unwrap();
        let guarded = Command::new("sleep").arg("600").process_group(watchdog.group()).spawn();
        println!("guarded {}", guarded.unwrap().id());
        std::thread::sleep(Duration::from_secs(600));
    }

    #[test]
    fn a_guarded_process_dies_when_the_grader_is_killed() {
        // The helper's test name: this module's path without the crate's name.
        let (_crate, module) = module_path!().split_once("::").unwrap();
        let helper_test = format!("{module}::helper_playing_the_grader");
        let mut helper = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", &helper_test, "--nocapture"])
            .env(HELPER, "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut output = BufReader::new(helper.stdout.take().unwrap());
        let guarded = guarded_pid(&mut output);

        helper.kill().unwrap();
        helper.wait().unwrap();

        // The guarded `sleep` inherited the helper's standard output: the pipe reaches its end
        // only when the sleep is gone too.
        let gone = std::thread::spawn(move || output.read_to_end(&mut Vec::new()).is_ok());
        for _ in 0..100 {
            if gone.is_finished() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // SAFETY: kill(2) touches no memory; cleans up after the failed test.
        unsafe { libc::kill(guarded, libc::SIGKILL) };
        panic!("process {guarded} outlived the grader by 10 s: the watchdog did not kill it");
    }

    /// Reads the helper's output up to its `guarded PID` line.
    fn guarded_pid(output: &mut impl BufRead) -> i32 {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(output.read_line(&mut line).unwrap() > 0, "the helper ended without a child");
            if let Some(pid) = line.trim().strip_prefix("guarded ") {
                return pid.parse().unwrap();
            }
        }
    }
}
