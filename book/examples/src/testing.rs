//! What the examples' tests share: a private Redis and a seeded database of their own.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use redis::aio::ConnectionManager;
use workbook::{Config, Db};

/// What to do when `redis-server` is missing: it is a prerequisite of the workbook.
const INSTALL_HINT: &str = "these tests need `redis-server` on PATH (a prerequisite of the \
    workbook): `sudo apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` \
    (macOS)";

/// A `redis-server` of one test, on a free port, stopped when dropped.
pub struct Redis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Redis {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start redis-server ({err}): {INSTALL_HINT}"));
        let redis = Self { child, port, _dir: dir };
        for _ in 0..100 {
            if redis.answers().await {
                return redis;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the test's redis-server did not start on port {port}");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// A connection of the test's own, to look at what the example stored.
    pub async fn connection(&self) -> ConnectionManager {
        let client = redis::Client::open(self.url()).unwrap();
        ConnectionManager::new(client).await.unwrap()
    }

    async fn answers(&self) -> bool {
        let Ok(client) = redis::Client::open(self.url()) else { return false };
        match client.get_multiplexed_async_connection().await {
            Ok(mut conn) => redis::cmd("PING").query_async::<String>(&mut conn).await.is_ok(),
            Err(_) => false,
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A freshly seeded SQLite database with `tasks` tasks, in a folder that lives as long as it.
pub async fn database(tasks: usize) -> (Db, tempfile::TempDir) {
    let (db, _, dir) = database_and_config(tasks).await;
    (db, dir)
}

/// [`database`], with the configuration that opens more connections to it.
pub async fn database_and_config(tasks: usize) -> (Db, Config, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}", dir.path().join("examples.sqlite3").display()),
        seed: 7,
        tasks,
        query_delay: Duration::ZERO,
    };
    (Db::open(&config).await.unwrap(), config, dir)
}
