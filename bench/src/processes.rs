//! The processes the benchmark starts. Each runs in a process group of its own and is stopped
//! with that whole group, so nothing it started outlives the benchmark.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A server running in the background until it is dropped.
pub struct Background {
    name: String,
    child: std::process::Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Background {
    /// Starts `command` with its output in `logs/NAME.out` and `logs/NAME.err`.
    pub fn spawn(name: &str, mut command: std::process::Command, logs: &Path) -> Result<Self> {
        use std::os::unix::process::CommandExt as _;
        let stdout = logs.join(format!("{name}.out"));
        let stderr = logs.join(format!("{name}.err"));
        command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout)?)
            .stderr(File::create(&stderr)?);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {name} ({:?})", command.get_program()))?;
        Ok(Self { name: name.to_owned(), child, stdout, stderr })
    }

    /// Everything the process printed on stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// Whether the process has exited, and how.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The end of the process's output, to explain a failure.
    pub fn log_tail(&self) -> String {
        let tail = |path: &Path| {
            let log = std::fs::read_to_string(path).unwrap_or_default();
            let start = log.len().saturating_sub(2000);
            let start = (start..log.len()).find(|&at| log.is_char_boundary(at)).unwrap_or(0);
            format!("--- {}\n{}", path.display(), &log[start..])
        };
        format!("Output of {}:\n{}\n{}", self.name, tail(&self.stdout), tail(&self.stderr))
    }
}

impl Drop for Background {
    /// SIGTERM to the group, a few seconds to finish, then SIGKILL to whatever is left.
    fn drop(&mut self) {
        let group = self.child.id() as libc::pid_t;
        signal_group(group, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.exited().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        signal_group(group, libc::SIGKILL);
        let _ = self.child.wait();
    }
}

fn signal_group(group: libc::pid_t, signal: libc::c_int) {
    // SAFETY: kill(2) with a negative pid signals that process group; it touches no memory.
    unsafe { libc::kill(-group, signal) };
}

/// Runs `command` to its end, at most `timeout`, and returns its stdout. A failure or a
/// time-out is an error that quotes the command's stderr.
pub async fn run(mut command: tokio::process::Command, timeout: Duration) -> Result<String> {
    let program = format!("{:?}", command.as_std().get_program());
    command.process_group(0).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child =
        command.spawn().with_context(|| format!("cannot start {program}: is it installed?"))?;
    let mut group = StopGroupOnDrop(child.id().map(|pid| pid as libc::pid_t));
    let output = tokio::time::timeout(timeout, child.wait_with_output()).await;
    let output = match output {
        Ok(output) => output?,
        Err(_) => bail!("{program} did not finish within {} s; stopped it", timeout.as_secs()),
    };
    group.0 = None;
    if !output.status.success() {
        bail!(
            "{program} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A finished command whose output lines were timed as they arrived.
pub struct Timed {
    pub status: ExitStatus,
    /// Each stdout line, with the time from the start to its arrival.
    pub stdout: Vec<(Duration, String)>,
    /// Each stderr line, likewise.
    pub stderr: Vec<(Duration, String)>,
}

impl Timed {
    /// When the first stdout line containing `text` arrived.
    pub fn stdout_at(&self, text: &str) -> Option<Duration> {
        first_line_at(&self.stdout, text)
    }

    /// When the first stderr line containing `text` arrived.
    pub fn stderr_at(&self, text: &str) -> Option<Duration> {
        first_line_at(&self.stderr, text)
    }

    /// The last lines of stderr, to explain a failure.
    pub fn stderr_tail(&self) -> String {
        let start = self.stderr.len().saturating_sub(30);
        let lines: Vec<&str> = self.stderr[start..].iter().map(|(_, line)| line.as_str()).collect();
        lines.join("\n")
    }
}

fn first_line_at(lines: &[(Duration, String)], text: &str) -> Option<Duration> {
    lines.iter().find(|(_, line)| line.contains(text)).map(|(at, _)| *at)
}

/// Runs `command` to its end, at most `timeout`, timing each line of its output as it
/// arrives. Unlike [`run`], any exit status is returned rather than refused: the caller knows
/// which ones are expected.
pub async fn run_timed(mut command: tokio::process::Command, timeout: Duration) -> Result<Timed> {
    let program = format!("{:?}", command.as_std().get_program());
    command.process_group(0).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child =
        command.spawn().with_context(|| format!("cannot start {program}: is it installed?"))?;
    let mut group = StopGroupOnDrop(child.id().map(|pid| pid as libc::pid_t));
    let stdout = tokio::spawn(timed_lines(child.stdout.take(), started));
    let stderr = tokio::spawn(timed_lines(child.stderr.take(), started));
    let status = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => status?,
        Err(_) => bail!("{program} did not finish within {} s; stopped it", timeout.as_secs()),
    };
    group.0 = None;
    Ok(Timed { status, stdout: stdout.await?, stderr: stderr.await? })
}

/// Reads `stream` line by line, noting when each line arrived.
async fn timed_lines(
    stream: Option<impl tokio::io::AsyncRead + Unpin>,
    started: Instant,
) -> Vec<(Duration, String)> {
    use tokio::io::AsyncBufReadExt as _;
    let Some(stream) = stream else { return vec![] };
    let mut lines = tokio::io::BufReader::new(stream).lines();
    let mut timed = vec![];
    while let Ok(Some(line)) = lines.next_line().await {
        timed.push((started.elapsed(), line));
    }
    timed
}

/// A command talked to while it runs: its output lines, from both streams, as they arrive, and
/// its standard input. Its process group is stopped when it is dropped.
pub struct Interactive {
    stdin: tokio::process::ChildStdin,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    _child: tokio::process::Child,
    _group: StopGroupOnDrop,
}

impl Interactive {
    pub fn spawn(mut command: tokio::process::Command) -> Result<Self> {
        let program = format!("{:?}", command.as_std().get_program());
        command.process_group(0).stdin(Stdio::piped()).stdout(Stdio::piped());
        command.stderr(Stdio::piped());
        let mut child = command.spawn().with_context(|| format!("cannot start {program}"))?;
        let group = StopGroupOnDrop(child.id().map(|pid| pid as libc::pid_t));
        let (send, lines) = tokio::sync::mpsc::unbounded_channel();
        forward_lines(child.stdout.take(), send.clone());
        forward_lines(child.stderr.take(), send);
        let stdin = child.stdin.take().context("no standard input")?;
        Ok(Self { stdin, lines, _child: child, _group: group })
    }

    /// Waits at most `timeout` for a line that `wanted` accepts, and returns it.
    pub async fn line_where(
        &mut self,
        wanted: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Result<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) if wanted(&line) => return Ok(line),
                Ok(Some(_)) => {}
                Ok(None) => bail!("the command ended before the line expected"),
                Err(_) => bail!("no line expected within {} s", timeout.as_secs()),
            }
        }
    }

    pub async fn type_line(&mut self, line: &str) -> Result<()> {
        use tokio::io::AsyncWriteExt as _;
        self.stdin.write_all(format!("{line}\n").as_bytes()).await?;
        Ok(self.stdin.flush().await?)
    }
}

/// Sends each line of `stream` to `lines` as it arrives.
fn forward_lines(
    stream: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>,
    lines: tokio::sync::mpsc::UnboundedSender<String>,
) {
    use tokio::io::AsyncBufReadExt as _;
    let Some(stream) = stream else { return };
    tokio::spawn(async move {
        let mut reader = tokio::io::BufReader::new(stream).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
}

/// Stops a command's process group when its run is abandoned (time-out, Ctrl-C): SIGINT
/// first, which lets the grader stop the servers and builds it started, then SIGKILL.
struct StopGroupOnDrop(Option<libc::pid_t>);

impl Drop for StopGroupOnDrop {
    fn drop(&mut self) {
        let Some(group) = self.0 else { return };
        signal_group(group, libc::SIGINT);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            // SAFETY: waitpid(2) with WNOHANG reaps the group's leader if it has exited (an
            // unreaped leader would keep the group alive); signal 0 only asks whether the
            // group still has members. Neither touches our memory.
            let empty = unsafe {
                libc::waitpid(group, std::ptr::null_mut(), libc::WNOHANG);
                libc::kill(-group, 0) != 0
            };
            if empty {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        signal_group(group, libc::SIGKILL);
    }
}

/// A free loopback port for a server to listen on.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("no free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// Waits until `url` answers `200`, or the process dies, or `timeout` passes.
pub async fn wait_until_up(url: &str, server: &mut Background, timeout: Duration) -> Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = server.exited() {
            bail!("it exited ({status}) before answering {url}. {}", server.log_tail());
        }
        let answer = client.get(url).timeout(Duration::from_secs(2)).send().await;
        if answer.is_ok_and(|response| response.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{url} did not answer within {} s. {}", timeout.as_secs(), server.log_tail())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(script: &str) -> tokio::process::Command {
        let mut command = tokio::process::Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[tokio::test]
    async fn a_command_gives_its_output_or_its_complaint() {
        assert_eq!(run(shell("echo hi"), Duration::from_secs(10)).await.unwrap(), "hi\n");
        let err = run(shell("echo broken >&2; exit 3"), Duration::from_secs(10)).await.unwrap_err();
        assert!(err.to_string().contains("broken"), "{err}");
    }

    #[tokio::test]
    async fn each_line_is_timed_as_it_arrives_and_any_exit_status_returned() {
        let script = "echo building >&2; sleep 0.3; echo grading >&2; echo 'Total 0/9'; exit 1";
        let timed = run_timed(shell(script), Duration::from_secs(10)).await.unwrap();
        assert_eq!(timed.status.code(), Some(1));
        let building = timed.stderr_at("building").unwrap();
        let grading = timed.stderr_at("grading").unwrap();
        assert!(grading - building >= Duration::from_millis(250), "{building:?} {grading:?}");
        assert!(timed.stdout_at("Total ").unwrap() >= grading);
        assert_eq!(timed.stderr_at("missing"), None);
        assert_eq!(timed.stderr_tail(), "building\ngrading");
    }

    #[tokio::test]
    async fn a_command_that_overruns_is_stopped_with_its_children() {
        let marker = tempfile::tempdir().unwrap();
        let touched = marker.path().join("touched");
        // `sleep` would touch the file after the time-out if it survived the shell.
        let script = format!("sleep 0.5 && touch {}", touched.display());
        let err = run(shell(&script), Duration::from_millis(100)).await.unwrap_err();
        assert!(err.to_string().contains("did not finish"), "{err}");
        std::thread::sleep(Duration::from_millis(800));
        assert!(!touched.exists(), "a child of the command outlived it");
    }
}
