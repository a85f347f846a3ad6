//! The seed lesson's own stack, Django with django-redis under gunicorn, started with the
//! owners' script `peers/django/serve.sh` from the project's shared folder.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::processes::{self, Background};

/// The first start builds a virtualenv with pip, which takes a minute or more.
const START_TIMEOUT: Duration = Duration::from_secs(600);

/// The endpoints of the peer that match the reference solutions' (see serve.sh's header).
pub const CACHED_TASK_LIST: &str = "/tasks/cached/";
pub const GET_OR_SET_COUNT: &str = "/count/";

/// The project's shared folder: `WORKBOOK_SHARED`, or `../shared` next to the workbook.
pub fn shared_dir(workbook: &Path) -> PathBuf {
    std::env::var_os("WORKBOOK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workbook.join("..").join("shared"))
}

/// The peer's start script, or an error that says where it was looked for.
pub fn serve_script(shared: &Path) -> Result<PathBuf> {
    let script = shared.join("peers/django/serve.sh");
    if !script.is_file() {
        bail!(
            "the Django peer is missing: there is no {}.\n\
             Set WORKBOOK_SHARED to the project's shared folder (the one holding \
             peers/django/serve.sh), or leave Django out with --no-django.",
            script.display()
        );
    }
    Ok(script)
}

pub struct Django {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base_url: String,
    _server: Background,
}

impl Django {
    /// Starts the peer seeded with `tasks` tasks, on free ports, and waits for its
    /// `ready URL` line.
    pub async fn start(script: &Path, tasks: usize, logs: &Path) -> Result<Self> {
        let mut command = std::process::Command::new("bash");
        command
            .arg(script)
            .env("DJ_PORT", processes::free_port()?.to_string())
            .env("REDIS_PORT", processes::free_port()?.to_string())
            .env("TASKS", tasks.to_string());
        let mut server = Background::spawn("django", command, logs)?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(url) = ready_url(&server.stdout()) {
                return Ok(Self { base_url: url, _server: server });
            }
            if let Some(status) = server.exited() {
                bail!(
                    "the Django peer stopped ({status}) before it was ready. {}",
                    server.log_tail()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "the Django peer was not ready within {} s. {}",
                    START_TIMEOUT.as_secs(),
                    server.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The URL of serve.sh's `ready http://HOST:PORT` line.
fn ready_url(stdout: &str) -> Option<String> {
    stdout.lines().find_map(|line| line.strip_prefix("ready ")).map(|url| url.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_ready_line() {
        assert_eq!(
            ready_url("seeding\nready http://127.0.0.1:8081\n").unwrap(),
            "http://127.0.0.1:8081"
        );
        assert_eq!(ready_url("seeding\n"), None);
    }

    #[test]
    fn a_missing_peer_names_the_variable_to_set() {
        let err = serve_script(Path::new("/nonexistent/shared")).unwrap_err().to_string();
        assert!(err.contains("WORKBOOK_SHARED") && err.contains("--no-django"), "{err}");
    }
}
