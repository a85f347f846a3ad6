//! One running exercise and everything it runs on: the service, its Redis with the grader's
//! admin connection, its database, the extra instances checks start beside it and the
//! reference solution they compare with.
//!
//! The testbed is their one owner: it starts them, restarts what a check or a crash took
//! down, and leaves the Redis as it found it. Checks never see it; they talk to the probe
//! ([`crate::criteria::probe`]), and the probe to the testbed.

mod instance;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use self::instance::Instance;
use super::contract::Contract;
use super::database::{DatabaseServer, ServiceDatabase};
use super::inspect::Inspector;
use super::redis_server::RedisServer;
use super::service::{self, NotStarted, RunningService, Started};
use super::users::RunUser;

/// What a testbed is started with, for one exercise.
pub struct Setup<'a> {
    /// The settings the service is started with, the exercise's query delay included.
    pub contract: Contract,
    pub redis_server: RedisServer,
    /// Where the service's database, and each extra instance's, is created.
    pub database_server: DatabaseServer,
    /// The student's service, built.
    pub binary: &'a Path,
    /// The service's own folder, created for this exercise.
    pub home: &'a Path,
    /// The run's folder, the grader's own: extra instances get folders of their own in it.
    pub run_dir: &'a Path,
    /// Who the run's services run as (`None`: as the grader).
    pub run_user: Option<RunUser>,
    /// The reference solution's binary, or why there is none.
    pub reference: Result<PathBuf, String>,
}

/// The student's service did not start: why, in words for the student, and the Redis server,
/// back to the session for the next exercise.
pub struct DidNotStart {
    pub reason: String,
    pub redis_server: RedisServer,
}

/// What [`Testbed::restart_redis`] found.
pub enum RedisRestart {
    Restarted,
    /// Redis is not the grader's own to restart: nothing was done.
    Shared,
    /// The service had taken Redis' port while Redis was down: the testbed stopped the
    /// service (the next check starts it again) and restarted Redis.
    PortTaken(u16),
}

/// What [`Testbed::stop_busy_script`] did.
#[derive(PartialEq, Eq)]
pub enum BusyScript {
    /// No script held Redis.
    None,
    Killed,
    /// The script had written, which Redis refuses to kill: the private server was restarted.
    RedisRestarted,
}

/// A running exercise (see the module's doc).
pub struct Testbed {
    contract: Contract,
    redis_server: RedisServer,
    /// The grader's admin connection to `redis_server`.
    redis: Inspector,
    database_server: DatabaseServer,
    /// The service's database, removed by [`Testbed::finish`].
    database: ServiceDatabase,
    service: RunningService,
    run_dir: PathBuf,
    run_user: Option<RunUser>,
    reference: Result<PathBuf, String>,
}

impl Testbed {
    /// Empties the Redis, creates the service's database and starts the service. `Err` is
    /// the grader's failure (a batch grades the submission again); `Ok(Err)` the student's
    /// service that did not start.
    pub async fn start(setup: Setup<'_>) -> Result<Result<Testbed, DidNotStart>> {
        let Setup {
            contract,
            redis_server,
            database_server,
            binary,
            home,
            run_dir,
            run_user,
            reference,
        } = setup;
        let base_url = redis_server.base_url();
        let mut redis = Inspector::connect(&base_url, contract.redis_db)
            .await
            .with_context(|| format!("the grader cannot reach its Redis at {base_url}"))?;
        empty_between_exercises(&mut redis, &redis_server, &contract).await?;
        let database = database_server.create(home).await?;
        let port = service::pick_port()?;
        let environment = contract.environment(&redis_server.service_url(), port, &database.url);
        let service = match start_service(binary, environment, home, contract.seed).await {
            Ok(Ok(service)) => service,
            Ok(Err(NotStarted(reason))) => {
                database.remove().await;
                return Ok(Err(DidNotStart { reason, redis_server }));
            }
            Err(err) => {
                database.remove().await;
                return Err(err.context("the grader could not start the service"));
            }
        };
        Ok(Ok(Testbed {
            contract,
            redis_server,
            redis,
            database_server,
            database,
            service,
            run_dir: run_dir.to_owned(),
            run_user,
            reference,
        }))
    }

    /// Stops the service, removes its database and leaves the Redis as a run may find it.
    /// Best effort: the grades are computed and must not be lost to a cleaning failure.
    pub async fn finish(mut self) -> RedisServer {
        self.service.stop().await;
        self.database.remove().await;
        // A connection of its own: the last check may have left the old one broken.
        let emptied = match self.redis.reconnect().await {
            Ok(()) => {
                empty_between_exercises(&mut self.redis, &self.redis_server, &self.contract).await
            }
            Err(err) => Err(err.into()),
        };
        if let Err(err) = emptied {
            let base_url = self.redis_server.base_url();
            eprintln!("warning: could not empty the Redis at {base_url} after the checks: {err:#}");
        }
        self.redis_server
    }

    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    pub fn service(&self) -> &RunningService {
        &self.service
    }

    /// `Some(description)` when the service has exited since it last started.
    pub fn service_crashed(&mut self) -> Option<String> {
        self.service.crashed()
    }

    /// Starts the service again with its usual settings, e.g. after it crashed.
    pub async fn restart_service(&mut self) -> Started {
        self.service.restart().await
    }

    /// Starts the service again with `extra` variables; the next [`Self::restart_service`]
    /// goes back to its usual settings.
    pub async fn restart_service_with(&mut self, extra: &[(&str, &str)]) -> Started {
        self.service.restart_with(extra).await
    }

    /// The grader's admin connection to the service's Redis.
    pub fn redis(&mut self) -> &mut Inspector {
        &mut self.redis
    }

    /// Whether the Redis is the grader's own, which it may stop, restart and flush.
    pub fn redis_is_private(&self) -> bool {
        self.redis_server.is_private()
    }

    /// The service's database, for the grader's own connection to it.
    pub fn database_url(&self) -> &str {
        &self.database.url
    }

    /// The reference solution's binary, or why there is none.
    pub fn reference(&self) -> Result<&Path, &str> {
        self.reference.as_deref().map_err(String::as_str)
    }

    /// Stops the private Redis, as a crash would. `Err` for a Redis the grader did not start.
    pub async fn stop_redis(&mut self) -> Result<()> {
        match &mut self.redis_server {
            RedisServer::Private(private) => {
                private.stop().await;
                Ok(())
            }
            RedisServer::External { .. } => anyhow::bail!(
                "this criterion stops and restarts Redis, which the grader only does to a Redis \
                 it started itself: run it without --redis-url/REDIS_URL"
            ),
        }
    }

    /// Starts the private Redis again on the same port and reconnects the grader to it.
    pub async fn restart_redis(&mut self) -> Result<RedisRestart> {
        let RedisServer::Private(private) = &mut self.redis_server else {
            return Ok(RedisRestart::Shared);
        };
        let mut restart = RedisRestart::Restarted;
        if let Err(err) = private.restart().await {
            if !private.port_taken() {
                return Err(err.context("the grader could not restart Redis"));
            }
            // Only the service lives in the run's network: it took the port while Redis was
            // down. Stopping it (the next check starts it again) gives the port back.
            restart = RedisRestart::PortTaken(private.port());
            self.service.stop().await;
            private.restart().await.context("the grader could not restart Redis")?;
        }
        self.redis.reconnect().await.context("the grader could not reconnect to its Redis")?;
        Ok(restart)
    }

    /// Stops a script of the service's that holds Redis busy: `SCRIPT KILL`, or, for a script
    /// that wrote before it looped (which Redis refuses to kill), a restart of the private
    /// server.
    pub async fn stop_busy_script(&mut self) -> BusyScript {
        if !self.redis.busy().await {
            return BusyScript::None;
        }
        if self.redis.kill_script().await.is_err() && self.redis_is_private() {
            let _ = self.restart_redis().await;
            return BusyScript::RedisRestarted;
        }
        BusyScript::Killed
    }

    /// `true` when the grader's private Redis no longer answers, even on a new connection.
    pub async fn redis_lost(&mut self) -> bool {
        if !self.redis_is_private() || self.redis.ping().await {
            return false;
        }
        !(self.redis.reconnect().await.is_ok() && self.redis.ping().await)
    }

    /// Forgets every cached entry of the service: its keys are deleted, as an operator
    /// clearing the cache would. Never `FLUSHALL` while the service runs, which would also wipe
    /// what it keeps in other databases: a key there that vanished would tell the service that
    /// a check, not use, emptied the cache.
    pub async fn forget_cached_entries(&mut self) -> redis::RedisResult<()> {
        self.redis.delete_matching(&self.contract.key_pattern()).await
    }
}

/// Empties the Redis between exercises, before the service starts and once it stopped: a
/// private one entirely; on a shared one our prefix alone, for the keys are everybody's.
async fn empty_between_exercises(
    redis: &mut Inspector,
    server: &RedisServer,
    contract: &Contract,
) -> Result<()> {
    if server.is_private() {
        redis.flush_all().await?;
    } else {
        let pattern = contract.key_pattern();
        redis
            .delete_matching(&pattern)
            .await
            .with_context(|| format!("could not delete the keys {pattern}"))?;
    }
    Ok(())
}

/// Starts the service; a test may make it fail as the grader's own failure would.
async fn start_service(
    binary: &Path,
    environment: Vec<(String, String)>,
    home: &Path,
    seed: u64,
) -> Started<RunningService> {
    if injected_faults::fails(seed) {
        anyhow::bail!("a fault injected by a test");
    }
    RunningService::start(binary, environment, home).await
}

/// The grader's own failure to start a service, injected by its tests: every start in a run
/// of the given seed fails as a missing bubblewrap or a full process table would. Set only
/// through this library's API, in the grader's own process: no student's code, environment
/// variable or file can reach it, and the grader itself never sets it.
#[doc(hidden)]
pub mod injected_faults {
    use std::sync::Mutex;

    /// The seeds whose runs fail every start.
    static FAILING_SEEDS: Mutex<Vec<u64>> = Mutex::new(Vec::new());

    fn seeds() -> std::sync::MutexGuard<'static, Vec<u64>> {
        FAILING_SEEDS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Makes every service start of a run with `seed` fail (`true`), or start again (`false`).
    pub fn fail_starts(seed: u64, fail: bool) {
        seeds().retain(|&failing| failing != seed);
        if fail {
            seeds().push(seed);
        }
    }

    pub(super) fn fails(seed: u64) -> bool {
        seeds().contains(&seed)
    }
}
