//! A student's service, started as its own sandboxed process.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use tokio::process::Command;

use crate::run::bwrap::{self, Jail};
use crate::run::sandbox::{self, Limits, Sandboxed};
use crate::run::users::RunUser;

/// How long a service may take to answer `/health` after it starts (it seeds its database).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The key that opens the brake of every service this grader starts: random, handed to each
/// service on its standard input (see [`handed_over`]), so the exercise cannot see when a
/// race is replayed.
pub fn grader_key() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        use std::hash::{BuildHasher, RandomState};
        let (a, b) = (RandomState::new(), RandomState::new());
        format!(
            "{:016x}{:016x}",
            a.hash_one(std::process::id()),
            b.hash_one(std::time::SystemTime::now())
        )
    })
}

/// Why the student's service did not start: its own doing (it exited, or never answered
/// `/health`), in words for the student. The grader's own failures to start it (bubblewrap
/// missing, no processes left) are errors of another type, and never the student's zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotStarted(pub String);

/// The outcome of starting a service: `Err` is the grader's failure, `Ok(Err)` the student's.
pub type Started<T = ()> = Result<Result<T, NotStarted>>;

/// A started service and everything needed to start it again.
pub struct RunningService {
    process: Sandboxed,
    pub base_url: String,
    binary: PathBuf,
    environment: Vec<(String, String)>,
    dir: PathBuf,
    /// Another service's folder this one may write too: where the database they share lives.
    shared: Option<PathBuf>,
    starts: u32,
    /// When the running process was started.
    started_at: std::time::Instant,
}

impl RunningService {
    /// Starts `binary` with `environment` (which must include `WORKBOOK_BIND`) and waits until
    /// `/health` answers.
    pub async fn start(
        binary: &Path,
        environment: Vec<(String, String)>,
        dir: &Path,
    ) -> Started<Self> {
        Self::launch(binary, environment, dir, None).await
    }

    /// Like [`Self::start`], for a second instance on another service's SQLite file: that
    /// file's folder, `shared`, is writable in its jail too (SQLite writes its `-wal` and
    /// `-shm` files beside the database).
    pub async fn start_sharing(
        binary: &Path,
        environment: Vec<(String, String)>,
        dir: &Path,
        shared: &Path,
    ) -> Started<Self> {
        Self::launch(binary, environment, dir, Some(shared.to_owned())).await
    }

    async fn launch(
        binary: &Path,
        environment: Vec<(String, String)>,
        dir: &Path,
        shared: Option<PathBuf>,
    ) -> Started<Self> {
        let mut service = Self {
            process: spawn(binary, &environment, dir, shared.as_deref(), 1)?,
            base_url: base_url(&environment),
            binary: binary.to_owned(),
            environment,
            dir: dir.to_owned(),
            shared,
            starts: 1,
            started_at: std::time::Instant::now(),
        };
        Ok(service.wait_until_healthy().await.map(|()| service))
    }

    /// Starts the service again after it died; the caller reports why it died.
    pub async fn restart(&mut self) -> Started {
        self.process.stop(Duration::from_secs(1)).await;
        self.starts += 1;
        self.started_at = std::time::Instant::now();
        self.process =
            spawn(&self.binary, &self.environment, &self.dir, self.shared.as_deref(), self.starts)?;
        Ok(self.wait_until_healthy().await)
    }

    /// Starts the service again with `extra` variables added to (or replacing) its
    /// environment, e.g. to make its database slow on purpose. A later [`Self::restart`] goes
    /// back to the original environment.
    pub async fn restart_with(&mut self, extra: &[(&str, &str)]) -> Started {
        let environment = with_extra(&self.environment, extra);
        self.process.stop(Duration::from_secs(1)).await;
        self.starts += 1;
        self.started_at = std::time::Instant::now();
        self.process =
            spawn(&self.binary, &environment, &self.dir, self.shared.as_deref(), self.starts)?;
        Ok(self.wait_until_healthy().await)
    }

    /// How long the running process has been up (since its last start).
    pub fn up_for(&self) -> Duration {
        self.started_at.elapsed()
    }

    /// The value of one of the service's environment variables, e.g. `DATABASE_URL`.
    pub fn env(&self, name: &str) -> Option<&str> {
        self.environment.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// `Some(description)` when the process has exited.
    pub fn crashed(&mut self) -> Option<String> {
        let status = self.process.exited()?;
        Some(format!("the service exited ({status}). Its last output:\n{}", self.output_tail()))
    }

    /// The binary this service runs, e.g. to start a second copy of it.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    pub fn output_tail(&self) -> String {
        self.process.output_tail(4000)
    }

    /// Where the service's output stands now: what it writes after this, a check caused.
    pub fn output_mark(&self) -> OutputMark {
        let place = |log: &Path| (log.to_owned(), std::fs::metadata(log).map_or(0, |m| m.len()));
        OutputMark {
            stderr: place(self.process.stderr_path()),
            stdout: place(self.process.stdout_path()),
        }
    }

    /// What the service wrote since `mark` (stderr, then its logs on stdout), cut to what
    /// explains a failure: a panic's message and location, else the last lines. `None` when it
    /// wrote nothing.
    pub fn said_since(&self, mark: &OutputMark) -> Option<String> {
        let mut text = String::new();
        for ((log, offset), now) in
            [(&mark.stderr, self.process.stderr_path()), (&mark.stdout, self.process.stdout_path())]
        {
            text.push_str(&read_from(log, *offset));
            // The service was restarted since: the new process's words follow the old one's.
            if log != now {
                text.push_str(&read_from(now, 0));
            }
        }
        words_that_explain(&text)
    }

    pub async fn stop(&mut self) {
        self.process.stop(Duration::from_secs(2)).await;
    }

    async fn wait_until_healthy(&mut self) -> Result<(), NotStarted> {
        let client = reqwest::Client::new();
        let url = format!("{}/health", self.base_url);
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        while tokio::time::Instant::now() < deadline {
            if let Some(crash) = self.crashed() {
                return Err(NotStarted(crash));
            }
            let answer = client.get(&url).timeout(Duration::from_secs(2)).send().await;
            if answer.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.process.kill_group();
        Err(NotStarted(format!(
            "the service did not answer GET /health within {} s. Its last output:\n{}",
            START_TIMEOUT.as_secs(),
            self.output_tail()
        )))
    }
}

/// Starts the service in bubblewrap where it runs: its binary read-only, its own folder
/// writable (and the `shared` folder of a database it shares), and nothing else of the host.
/// Its database is a file in one of those folders or a server reached over TCP; its Redis,
/// over the run's loopback.
fn spawn(
    binary: &Path,
    environment: &[(String, String)],
    dir: &Path,
    shared: Option<&Path>,
    start: u32,
) -> Result<Sandboxed> {
    let (command, input) = service_command(binary, environment, dir, shared);
    let stem = log_stem(dir, start);
    Sandboxed::spawn_with_input(command, Limits::SERVICE, &stem, RunUser::owning(dir), input)
}

/// The command that starts the service, and what it is handed on its standard input. Nothing
/// in the command depends on the check that asked for the start: a restart, a slow-database
/// start and an ordinary one run the same program with the same arguments, environment and
/// folder (see the tests).
fn service_command(
    binary: &Path,
    environment: &[(String, String)],
    dir: &Path,
    shared: Option<&Path>,
) -> (Command, String) {
    let mut command = match bwrap::available() {
        Ok(bwrap) => {
            let mut jail = Jail::new(bwrap::Network::Run);
            jail.ro(binary);
            // Before its own folder, which may lie inside the shared one.
            if let Some(shared) = shared {
                jail.rw(shared);
            }
            jail.rw(dir).chdir(dir);
            jail.command(bwrap, binary)
        }
        Err(_) => Command::new(binary),
    };
    let (environment, input) = handed_over(environment);
    command.current_dir(dir).env_clear().envs(environment.iter().map(|(k, v)| (k, v)));
    (command, input)
}

/// `environment` with `extra`'s variables set, replacing those of the same name.
fn with_extra(environment: &[(String, String)], extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut changed: Vec<(String, String)> = environment
        .iter()
        .filter(|(name, _)| !extra.iter().any(|(extra_name, _)| extra_name == name))
        .cloned()
        .collect();
    changed.extend(extra.iter().map(|(name, value)| (name.to_string(), value.to_string())));
    changed
}

/// The variable a slow database is asked for with, when a service is run by hand.
const QUERY_DELAY: &str = "WORKBOOK_QUERY_DELAY_MS";

/// Splits what a start of the service is given into its environment and what the grader hands
/// it on its standard input instead, which the workbook's `main` reads before any exercise
/// code runs: the key, and how slow the database is to be. Either would tell the exercise when
/// it is being checked (a race replayed, a hit compared with a miss), and the environment is
/// the exercise's to read.
fn handed_over(environment: &[(String, String)]) -> (Vec<(String, String)>, String) {
    let mut input = format!("{}\n", grader_key());
    let mut visible = Vec::new();
    for (name, value) in environment {
        match name.as_str() {
            QUERY_DELAY => input.push_str(&format!("query_delay_ms={value}\n")),
            _ => visible.push((name.clone(), value.clone())),
        }
    }
    (visible, input)
}

/// Where the output of the `start`th start of the service in `home` goes: beside its folder,
/// in the run's folder, which is the grader's. The service never sees these files, so it can
/// neither swap them for links nor plant a link under the next start's names.
fn log_stem(home: &Path, start: u32) -> PathBuf {
    let name = home.file_name().unwrap_or_default().to_string_lossy();
    home.with_file_name(format!("{name}.service-{start}"))
}

/// A place in a service's output (see [`RunningService::output_mark`]): each log file and
/// its length then.
pub struct OutputMark {
    stderr: (PathBuf, u64),
    stdout: (PathBuf, u64),
}

/// At most the last 64 KiB of `path` after `offset`.
fn read_from(path: &Path, offset: u64) -> String {
    use std::io::{Read, Seek, SeekFrom};
    const MAX_BYTES: u64 = 64 * 1024;
    let Ok(mut file) = std::fs::File::open(path) else { return String::new() };
    let len = file.metadata().map(|meta| meta.len()).unwrap_or(0);
    let mut bytes = Vec::new();
    let start = offset.max(len.saturating_sub(MAX_BYTES));
    if file.seek(SeekFrom::Start(start)).is_ok() {
        let _ = file.take(MAX_BYTES).read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The lines of a service's stderr a student needs: the first panic (where and why, without
/// the backtrace advice), else the last few lines.
fn words_that_explain(text: &str) -> Option<String> {
    const MAX_LINES: usize = 6;
    let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
    let panic = lines.iter().position(|line| line.contains("panicked at"));
    let chosen: Vec<&str> = match panic {
        Some(start) => lines[start..]
            .iter()
            // Where and why, not how: the advice and a backtrace (a service may turn them
            // on itself) are noise in a scorecard.
            .take_while(|line| {
                !line.starts_with("note: run with `RUST_BACKTRACE") && **line != "stack backtrace:"
            })
            .take(MAX_LINES)
            .copied()
            .collect(),
        None => lines[lines.len().saturating_sub(MAX_LINES)..].to_vec(),
    };
    let others = lines.iter().filter(|line| line.contains("panicked at")).count();
    let mut said = chosen.join("\n");
    if others > 1 {
        said.push_str(&format!(
            "\n[... and {}]",
            crate::words::counted(others as u64 - 1, "more panic")
        ));
    }
    (!said.is_empty()).then_some(said)
}

fn base_url(environment: &[(String, String)]) -> String {
    let bind = environment
        .iter()
        .find(|(name, _)| name == "WORKBOOK_BIND")
        .map(|(_, value)| value.as_str())
        .unwrap_or("127.0.0.1:8000");
    format!("http://{bind}")
}

/// A port for a service; see [`sandbox::free_port`].
pub fn pick_port() -> Result<u16> {
    sandbox::free_port()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::contract::Contract;

    /// A check cannot be told from use by what the service is given: every start of a run,
    /// a slow-database check's included, shows it the same environment (only its own address
    /// and database differ between instances), each name of which the book's contract lists
    /// for running a service by hand (`PATH` aside: nothing of the Rust runtime's own, such
    /// as `RUST_LOG`, that a hand-run would lack); what only the grader knows goes to standard
    /// input, in one shape every time.
    #[test]
    fn every_start_of_a_run_shows_the_service_the_same_environment() {
        let contract = Contract { query_delay_ms: 0, ..Contract::from_seed(42) };
        let ordinary = contract.environment("redis://service:pw@127.0.0.1:1", 4000, "sqlite://a");
        let slow = with_extra(&ordinary, &[(QUERY_DELAY, "100")]);
        let (seen, input) = handed_over(&ordinary);
        let (seen_slow, input_slow) = handed_over(&slow);
        assert_eq!(seen, seen_slow, "a slow check's environment differs from an ordinary one's");
        let shape = |input: &str| -> Vec<String> {
            let lines: Vec<&str> = input.lines().collect();
            let names = lines[1..].iter().map(|line| line.split('=').next().unwrap().to_owned());
            std::iter::once(format!("key of {} characters", lines[0].len())).chain(names).collect()
        };
        assert_eq!(shape(&input), shape(&input_slow), "{input:?} and {input_slow:?}");

        let another = contract.environment("redis://service:pw@127.0.0.1:1", 4001, "sqlite://b");
        let (seen_another, _) = handed_over(&another);
        let per_instance = ["WORKBOOK_BIND", "DATABASE_URL"];
        let shared = |seen: &[(String, String)]| -> Vec<(String, String)> {
            seen.iter()
                .filter(|(name, _)| !per_instance.contains(&name.as_str()))
                .cloned()
                .collect()
        };
        assert_eq!(shared(&seen), shared(&seen_another), "instances differ beyond their own");

        let page = concat!(env!("CARGO_MANIFEST_DIR"), "/../book/src/grading.md");
        let book = std::fs::read_to_string(page).expect("the book's grading page");
        for (name, _) in &seen {
            assert!(
                name == "PATH" || book.contains(&format!("| `{name}` |")),
                "{name} is given to the service but not in the book's contract: a grader-only \
                 signal?"
            );
        }
        assert!(
            seen.iter().all(|(name, _)| name != QUERY_DELAY),
            "the delay shows in the environment"
        );
    }

    /// Nor by how it is started: an ordinary start, a restart and a slow-database start run
    /// the same program with the same arguments, environment and folder (its files are what
    /// it left there itself); only what the workbook reads from standard input differs.
    #[test]
    fn every_start_runs_the_same_command_in_the_same_folder() {
        let contract = Contract { query_delay_ms: 0, ..Contract::from_seed(7) };
        let ordinary = contract.environment("redis://service:pw@127.0.0.1:1", 4000, "sqlite://a");
        let slow = with_extra(&ordinary, &[(QUERY_DELAY, "200")]);
        let (binary, dir) = (Path::new("/run/grader/bin"), Path::new("/run/grader/home-x"));
        let seen = |environment: &[(String, String)]| {
            let (command, input) = service_command(binary, environment, dir, None);
            let command = command.as_std();
            let described = format!(
                "{:?} {:?} {:?} {:?}",
                command.get_program(),
                command.get_args().collect::<Vec<_>>(),
                command.get_envs().collect::<Vec<_>>(),
                command.get_current_dir(),
            );
            (described, input)
        };
        let (first, first_input) = seen(&ordinary);
        let (again, _) = seen(&ordinary);
        let (slowed, slow_input) = seen(&slow);
        assert_eq!(first, again, "a restart is started differently");
        assert_eq!(first, slowed, "a slow-database start is started differently");
        assert_ne!(first_input, slow_input, "the delay is not handed over at all");
    }

    #[test]
    fn a_panic_is_shown_by_its_message_and_place_without_the_backtrace_advice() {
        let stderr = "\nthread 'tokio-runtime-worker' panicked at src/lib.rs:41:10:\n\
                      the report's row: RowNotFound\n\
                      note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\
                      \nthread 'tokio-runtime-worker' panicked at src/lib.rs:41:10:\nagain\n";
        let said = words_that_explain(stderr).unwrap();
        assert_eq!(
            said,
            "thread 'tokio-runtime-worker' panicked at src/lib.rs:41:10:\n\
             the report's row: RowNotFound\n[... and 1 more panic]"
        );
    }

    #[test]
    fn without_a_panic_the_last_lines_are_shown_and_silence_is_none() {
        let many: String = (1..=10).map(|n| format!("line {n}\n")).collect();
        assert_eq!(
            words_that_explain(&many).unwrap(),
            "line 5\nline 6\nline 7\nline 8\nline 9\nline 10"
        );
        assert_eq!(words_that_explain("\n  \n"), None);
    }

    #[test]
    fn a_slow_start_and_an_ordinary_one_give_the_service_the_same_environment() {
        let contract = crate::run::contract::Contract::from_seed(7);
        let ordinary = contract.environment("redis://x/1", 8000, "sqlite:///db");
        let slow = crate::run::contract::Contract { query_delay_ms: 100, ..contract }.environment(
            "redis://x/1",
            8000,
            "sqlite:///db",
        );
        let (seen_ordinary, handed_ordinary) = handed_over(&ordinary);
        let (seen_slow, handed_slow) = handed_over(&slow);
        assert_eq!(seen_ordinary, seen_slow, "the environment tells a slow check apart");
        assert!(!seen_slow.iter().any(|(name, _)| name == QUERY_DELAY));
        assert!(handed_slow.starts_with(&format!("{}\n", grader_key())));
        assert!(handed_slow.contains("query_delay_ms=100\n") && handed_ordinary.contains("=0\n"));
    }

    #[tokio::test]
    async fn the_graders_failure_to_start_a_service_is_its_own_and_a_crash_is_the_students() {
        let run = tempfile::tempdir().unwrap();
        let environment = vec![("WORKBOOK_BIND".to_owned(), "127.0.0.1:9".to_owned())];
        // The grader cannot even create the service's logs: its fault, an error.
        let nowhere = run.path().join("gone/home");
        let started = RunningService::start(Path::new("/bin/true"), environment.clone(), &nowhere);
        assert!(started.await.is_err(), "a grader fault was taken for the student's");
        // The program runs and exits at once: the student's service did not start.
        let home = run.path().join("home");
        std::fs::create_dir(&home).unwrap();
        let started = RunningService::start(Path::new("/bin/false"), environment, &home).await;
        let Ok(Err(NotStarted(reason))) = started else {
            panic!("a service that exits at once is the student's failure to start");
        };
        assert!(reason.contains("the service exited"), "{reason}");
    }

    #[test]
    fn only_what_was_written_after_the_mark_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("service-1.stderr");
        std::fs::write(&log, "before\n").unwrap();
        let offset = std::fs::metadata(&log).unwrap().len();
        std::fs::write(&log, "before\nafter\n").unwrap();
        assert_eq!(read_from(&log, offset), "after\n");
    }
}
