//! A redis-server of the benchmark's own, on a free port, keeping nothing on disk. Not the
//! grader's private Redis: `redis-benchmark` needs a server without the grader's ACL and
//! password.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::processes::{self, Background};

pub struct PrivateRedis {
    pub port: u16,
    _server: Background,
}

impl PrivateRedis {
    /// Starts it with its working folder in `dir`, and waits until it answers `PING`.
    pub async fn start(dir: &Path) -> Result<Self> {
        let port = processes::free_port()?;
        let mut command = std::process::Command::new("redis-server");
        command
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir);
        let mut server = Background::spawn("redis-server", command, dir).context(
            "redis-server is needed (`sudo apt-get install -y redis-server` or `brew install redis`)",
        )?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = server.exited() {
                bail!("redis-server exited ({status}). {}", server.log_tail());
            }
            if connect(port).await.is_ok() {
                return Ok(Self { port, _server: server });
            }
            if Instant::now() > deadline {
                bail!("redis-server did not answer within 10 s. {}", server.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `redis://127.0.0.1:PORT`, without a database.
    pub fn base_url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stores `value` under `key` in database 0, for `redis-benchmark` to read.
    pub async fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        let mut connection = connect(self.port).await?;
        redis::cmd("SET").arg(key).arg(value).exec_async(&mut connection).await?;
        Ok(())
    }
}

/// A connection to database 0 that has answered `PING`.
async fn connect(port: u16) -> Result<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/0"))?;
    let mut connection = client.get_multiplexed_async_connection().await?;
    redis::cmd("PING").exec_async(&mut connection).await?;
    Ok(connection)
}
