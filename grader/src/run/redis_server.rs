//! The Redis the grader controls: a private `redis-server` per run, or one named by
//! `--redis-url`/`REDIS_URL`.
//!
//! The private server listens on a free loopback port, keeps nothing on disk, lives in a
//! temporary directory and is killed with the grader. Only a private server can be stopped and
//! restarted, which the outage criteria need.
//!
//! On a private server the student's service logs in as an ACL user of its own: it may touch
//! only keys under its prefix, and admin and dangerous commands (FLUSHALL, CONFIG, SHUTDOWN,
//! DEBUG, MONITOR, ...) are refused. Lua scripts are allowed ([`SERVICE_SCRIPTING`]): the
//! low-level lesson releases a lock with one. A script that never ends makes the server answer
//! BUSY after [`BUSY_REPLY_THRESHOLD_MS`]; the grader then stops it with `SCRIPT KILL` (see
//! `grade.rs`), so it costs only the check it ran in.
//! The grader logs in as `default`, whose password only it knows, so leaving the credentials
//! out of the URL gets a service nowhere.
//!
//! The passwords are in a configuration file that only the server's user may read, never on
//! its command line (which every process may read). The server runs in bubblewrap as a user of
//! its own, not the service's: the service can neither see it in `/proc` nor read its memory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use crate::run::bwrap::{self, Jail};
use crate::run::sandbox::{self, Limits, Sandboxed};
use crate::run::users::{self, RunUser};

/// The message printed when no Redis can be found, with the install command of this platform.
pub const INSTALL_HINT: &str = if cfg!(target_os = "macos") {
    "\
The grader needs a Redis server and found neither `redis-server` nor `valkey-server` on PATH or
in Homebrew's folders (/opt/homebrew/bin, /usr/local/bin).
Install one, then run the grader again:
  Homebrew:  brew install redis
  Docker:    docker run -d -p 6379:6379 redis:7   (then: REDIS_URL=redis://127.0.0.1:6379 cargo run -p grader)"
} else {
    "\
The grader needs a Redis server and found neither `redis-server` nor `valkey-server` on PATH.
Install one, then run the grader again:
  Debian/Ubuntu:  sudo apt-get install -y redis-server
  Docker:         docker run -d -p 6379:6379 redis:7   (then: REDIS_URL=redis://127.0.0.1:6379 cargo run -p grader)"
};

/// Where Homebrew installs programs (Apple silicon, then Intel): a Mac's PATH may lack them,
/// e.g. when the grader is started from an IDE rather than a login shell.
const HOMEBREW_BINS: &[&str] =
    if cfg!(target_os = "macos") { &["/opt/homebrew/bin", "/usr/local/bin"] } else { &[] };

/// A Redis the grader can talk to.
pub enum RedisServer {
    Private(Box<PrivateRedis>),
    External { url: String },
}

impl RedisServer {
    /// The grader's URL for the server, without a database index.
    pub fn base_url(&self) -> String {
        match self {
            RedisServer::Private(private) => {
                format!("redis://default:{}@127.0.0.1:{}", private.acl.admin_password, private.port)
            }
            RedisServer::External { url } => without_database(url),
        }
    }

    /// The URL the student's service gets, without a database index: on a private server, the
    /// confined ACL user.
    pub fn service_url(&self) -> String {
        match self {
            RedisServer::Private(private) => {
                format!(
                    "redis://service:{}@127.0.0.1:{}",
                    private.acl.service_password, private.port
                )
            }
            RedisServer::External { url } => without_database(url),
        }
    }

    pub fn is_private(&self) -> bool {
        matches!(self, RedisServer::Private(_))
    }

    pub fn describe(&self) -> String {
        match self {
            RedisServer::Private(private) => format!(
                "private {} on 127.0.0.1:{} (service confined to {}:* by ACL)",
                private.binary.file_name().unwrap_or_default().to_string_lossy(),
                private.port,
                private.acl.key_prefix
            ),
            RedisServer::External { url } => format!("external Redis at {url}"),
        }
    }
}

/// Who may do what on a private server.
#[derive(Debug, Clone)]
pub struct Acl {
    /// The grader's password, as the `default` user.
    pub admin_password: String,
    /// The student's service's password, as the `service` user.
    pub service_password: String,
    /// The only keys the service may touch: `{key_prefix}:*`.
    pub key_prefix: String,
}

impl Acl {
    pub fn new(key_prefix: &str) -> Self {
        Self {
            admin_password: token(),
            service_password: token(),
            key_prefix: key_prefix.to_owned(),
        }
    }

    /// The `user` directives of the server's configuration.
    fn directives(&self) -> String {
        let (admin, service) = (&self.admin_password, &self.service_password);
        let keys = format!("~{}:*", self.key_prefix);
        // KEYS and FLUSHDB stay allowed: using them is a mistake the criteria grade, not a
        // danger to anyone else (every service has a server of its own). Of scripting, only
        // running scripts: emptying the script cache, killing scripts and server-side
        // functions (which outlive the service) stay the administrator's.
        let scripting: String =
            SERVICE_SCRIPTING.iter().map(|command| format!(" +{command}")).collect();
        format!(
            "user default on >{admin} ~* &* +@all\n\
             user service on >{service} resetkeys {keys} &* +@all -@admin -@dangerous \
             -@scripting{scripting} +keys +flushdb\n"
        )
    }
}

/// The scripting commands the service may use, as ACL names: a script's own commands are
/// checked against the service's keys and commands like any other. (Not Redis 7's `eval_ro`:
/// naming it would keep a Redis 6 from starting.) The book's grading page
/// names each one (a test keeps the two in step).
pub const SERVICE_SCRIPTING: &[&str] = &["eval", "evalsha", "script|load", "script|exists"];

/// How long a script may run before the server answers BUSY to everyone else (Redis 7's
/// `busy-reply-threshold`, once `lua-time-limit`, which both names accept): the moment the
/// grader may stop it with `SCRIPT KILL`.
pub const BUSY_REPLY_THRESHOLD_MS: u64 = 1000;

/// The most memory a private server may hold: far more than any exercise needs.
const MAX_MEMORY: &str = "256mb";

/// A random password: nobody needs to type it.
fn token() -> String {
    use std::hash::{BuildHasher, RandomState};
    let (a, b) = (RandomState::new().hash_one(1u8), RandomState::new().hash_one(2u8));
    format!("{a:016x}{b:016x}")
}

/// The file `SAVE` writes in the server's folder (Redis' default `dbfilename`).
const SNAPSHOT: &str = "dump.rdb";

/// A `redis-server` process started by the grader.
pub struct PrivateRedis {
    binary: PathBuf,
    port: u16,
    dir: PathBuf,
    acl: Acl,
    process: Option<Sandboxed>,
}

impl PrivateRedis {
    /// Starts a server on a free port, with its files in `dir`.
    pub async fn start(dir: &Path, acl: Acl) -> Result<Self> {
        let binary = find_binary().context(INSTALL_HINT)?;
        let mut last_error = None;
        // A port found free can be taken before the server binds it: try a few.
        for _ in 0..5 {
            let mut redis = Self {
                binary: binary.clone(),
                port: sandbox::free_port()?,
                dir: dir.to_owned(),
                acl: acl.clone(),
                process: None,
            };
            match redis.launch().await {
                Ok(()) => return Ok(redis),
                Err(err) => last_error = Some(err),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("redis-server did not start")))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether something else holds the server's port (while the server is down).
    pub fn port_taken(&self) -> bool {
        self.process.is_none()
            && std::net::TcpListener::bind(("127.0.0.1", self.port))
                .is_err_and(|err| err.kind() == std::io::ErrorKind::AddrInUse)
    }

    /// Stops the server at once, as a crash would.
    pub async fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill_group();
            let _ = process.wait(Duration::from_secs(5)).await;
        }
        // Wait until the port is really closed, so that clients see the outage.
        for _ in 0..50 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts the server again on the same port: empty, unless a check `SAVE`d a snapshot
    /// just before the stop, which the server loads once and the grader then deletes.
    pub async fn restart(&mut self) -> Result<()> {
        self.stop().await;
        let mut last_error = None;
        for _ in 0..20 {
            match self.launch().await {
                Ok(()) => {
                    let _ = std::fs::remove_file(self.dir.join(SNAPSHOT));
                    return Ok(());
                }
                Err(err) => last_error = Some(err),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("redis-server did not restart")))
    }

    /// The server's configuration, passwords included: written where only it may read.
    fn write_config(&self) -> Result<PathBuf> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let config = self.dir.join("redis.conf");
        let text = format!(
            "bind 127.0.0.1\nport {port}\nsave \"\"\nappendonly no\ndaemonize no\n\
             dir \"{dir}\"\ndatabases 16\nmaxmemory {MAX_MEMORY}\n\
             lua-time-limit {BUSY_REPLY_THRESHOLD_MS}\n{users}",
            port = self.port,
            dir = self.dir.display(),
            users = self.acl.directives(),
        );
        let _ = std::fs::remove_file(&config);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&config)
            .with_context(|| format!("cannot write {}", config.display()))?;
        file.write_all(text.as_bytes())?;
        users::give_file_to_folder_owner(&config, &self.dir)?;
        Ok(config)
    }

    async fn launch(&mut self) -> Result<()> {
        let config = self.write_config()?;
        let mut command = match bwrap::available() {
            Ok(bwrap) => {
                let mut jail = Jail::new(bwrap::Network::Run);
                jail.rw(&self.dir).chdir(&self.dir);
                if !self.binary.starts_with("/usr") {
                    jail.ro(&self.binary);
                }
                jail.command(bwrap, &self.binary)
            }
            Err(_) => Command::new(&self.binary),
        };
        command.current_dir(&self.dir).env_clear().arg(&config);
        let log = self.dir.join(format!("redis-{}", self.port));
        let mut process =
            Sandboxed::spawn_as(command, Limits::SERVICE, &log, RunUser::owning(&self.dir))?;
        for _ in 0..100 {
            if let Some(status) = process.exited() {
                bail!("redis-server exited ({status}): {}", process.output_tail(2000));
            }
            if ping(self.port, &self.acl.admin_password).await {
                self.process = Some(process);
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("redis-server did not answer PING within 5 s: {}", process.output_tail(2000))
    }
}

async fn ping(port: u16, password: &str) -> bool {
    let Ok(client) = redis::Client::open(format!("redis://default:{password}@127.0.0.1:{port}"))
    else {
        return false;
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return false;
    };
    redis::cmd("PING").query_async::<String>(&mut conn).await.is_ok()
}

/// `redis://host:port/4` without its database index: the grader picks the database itself.
fn without_database(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", url));
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{authority}")
}

/// `redis-server`, or `valkey-server`, from PATH, else from Homebrew's folders.
pub fn find_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let homebrew = HOMEBREW_BINS.iter().map(PathBuf::from);
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).chain(homebrew).collect();
    ["redis-server", "valkey-server"].iter().find_map(|name| {
        dirs.iter().map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_external_url_loses_its_database_index() {
        assert_eq!(without_database("redis://10.0.0.1:6380/0"), "redis://10.0.0.1:6380");
        assert_eq!(without_database("redis://:secret@cache:6379"), "redis://:secret@cache:6379");
        assert_eq!(without_database("redis://localhost:6379/"), "redis://localhost:6379");
    }

    /// The book's grading page says what the service may do with scripts: each command the
    /// ACL allows, and the threshold, as the book spells them.
    #[test]
    fn the_book_names_every_scripting_command_the_service_may_use() {
        let page = concat!(env!("CARGO_MANIFEST_DIR"), "/../book/src/grading.md");
        let book = std::fs::read_to_string(page).expect("the book's grading page");
        for command in SERVICE_SCRIPTING {
            let spelled = format!("`{}`", command.replace('|', " ").to_uppercase());
            assert!(book.contains(&spelled), "grading.md does not name {spelled}");
        }
        for refused in ["`SCRIPT FLUSH`", "`SCRIPT KILL`", "`FUNCTION`"] {
            assert!(book.contains(refused), "grading.md does not say {refused} is refused");
        }
        assert_eq!(BUSY_REPLY_THRESHOLD_MS, 1000, "grading.md says \"over a second\"");
        assert!(book.contains("for over a second"), "grading.md gives the busy threshold");
    }

    #[test]
    fn the_service_may_run_scripts_but_not_administer_them() {
        let directives = Acl::new("pre").directives();
        let service = directives.lines().find(|line| line.starts_with("user service")).unwrap();
        // ACL rules apply left to right: the allowed commands come after `-@scripting`.
        let (_, after) = service.split_once("-@scripting").expect("scripting is refused first");
        for command in SERVICE_SCRIPTING {
            assert!(after.contains(&format!(" +{command}")), "{command} in {service}");
        }
        assert!(!service.contains("+script|flush") && !service.contains("+function"));
    }
}
