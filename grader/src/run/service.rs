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

/// A started service and everything needed to start it again.
pub struct RunningService {
    process: Sandboxed,
    pub base_url: String,
    binary: PathBuf,
    environment: Vec<(String, String)>,
    dir: PathBuf,
    starts: u32,
}

impl RunningService {
    /// Starts `binary` with `environment` (which must include `WORKBOOK_BIND`) and waits until
    /// `/health` answers. `Err` carries a message for the student.
    pub async fn start(
        binary: &Path,
        environment: Vec<(String, String)>,
        dir: &Path,
    ) -> Result<Self, String> {
        let mut service = Self {
            process: spawn(binary, &environment, dir, 1).map_err(|err| err.to_string())?,
            base_url: base_url(&environment),
            binary: binary.to_owned(),
            environment,
            dir: dir.to_owned(),
            starts: 1,
        };
        service.wait_until_healthy().await?;
        Ok(service)
    }

    /// Starts the service again after it died; the caller reports why it died.
    pub async fn restart(&mut self) -> Result<(), String> {
        self.process.stop(Duration::from_secs(1)).await;
        self.starts += 1;
        self.process = spawn(&self.binary, &self.environment, &self.dir, self.starts)
            .map_err(|err| err.to_string())?;
        self.wait_until_healthy().await
    }

    /// Starts the service again with `extra` variables added to (or replacing) its
    /// environment, e.g. to make its database slow on purpose. A later [`Self::restart`] goes
    /// back to the original environment.
    pub async fn restart_with(&mut self, extra: &[(&str, &str)]) -> Result<(), String> {
        let mut environment: Vec<(String, String)> = self
            .environment
            .iter()
            .filter(|(name, _)| !extra.iter().any(|(extra_name, _)| extra_name == name))
            .cloned()
            .collect();
        environment.extend(extra.iter().map(|(name, value)| (name.to_string(), value.to_string())));
        self.process.stop(Duration::from_secs(1)).await;
        self.starts += 1;
        self.process = spawn(&self.binary, &environment, &self.dir, self.starts)
            .map_err(|err| err.to_string())?;
        self.wait_until_healthy().await
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

    pub async fn stop(&mut self) {
        self.process.stop(Duration::from_secs(2)).await;
    }

    async fn wait_until_healthy(&mut self) -> Result<(), String> {
        let client = reqwest::Client::new();
        let url = format!("{}/health", self.base_url);
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        while tokio::time::Instant::now() < deadline {
            if let Some(crash) = self.crashed() {
                return Err(crash);
            }
            let answer = client.get(&url).timeout(Duration::from_secs(2)).send().await;
            if answer.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.process.kill_group();
        Err(format!(
            "the service did not answer GET /health within {} s. Its last output:\n{}",
            START_TIMEOUT.as_secs(),
            self.output_tail()
        ))
    }
}

/// Starts the service in bubblewrap where it runs: its binary read-only, its own folder
/// writable, and nothing else of the host. Its database is a file in that folder or a server
/// reached over TCP; its Redis, over the run's loopback.
fn spawn(
    binary: &Path,
    environment: &[(String, String)],
    dir: &Path,
    start: u32,
) -> Result<Sandboxed> {
    let mut command = match bwrap::available() {
        Ok(bwrap) => {
            let mut jail = Jail::new(bwrap::Network::Run);
            jail.ro(binary).rw(dir).chdir(dir);
            jail.command(bwrap, binary)
        }
        Err(_) => Command::new(binary),
    };
    command.current_dir(dir).env_clear().envs(environment.iter().map(|(k, v)| (k, v)));
    let log = dir.join(format!("service-{start}"));
    Sandboxed::spawn_as(command, Limits::SERVICE, &log, RunUser::owning(dir))
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
