//! What a check may do to the running exercise beyond asking it over HTTP: restart its
//! service, stop and restart its Redis, read its database, start instances beside it. Each
//! goes through the testbed, which owns them; here the outcome becomes a check's verdict.

use std::path::Path;
use std::time::Duration;

use super::{Probe, REQUEST_TIMEOUT};
use crate::criteria::Check;
use crate::criteria::verdict::{Failure, Verdict, fail};
use crate::run::database;
use crate::run::service::{NotStarted, Started};
use crate::run::testbed::{BusyScript, Instance, RedisRestart};

impl Probe<'_> {
    /// Whether the Redis is the grader's own (not one named with `--redis-url`).
    pub fn redis_is_private(&self) -> bool {
        self.testbed.redis_is_private()
    }

    /// The service's database, for a connection of the grader's own.
    pub fn database_url(&self) -> &str {
        self.testbed.database_url()
    }

    /// Runs one statement on the service's database, through a connection of the grader's own.
    pub async fn run_sql(&self, statement: &'static str) -> Verdict {
        database::execute(self.database_url(), statement)
            .await
            .map_err(|err| Failure::Error(format!("the grader's `{statement}`: {err:#}")))
    }

    /// `Some(description)` when the service has exited since it last started.
    pub fn service_crashed(&mut self) -> Option<String> {
        self.testbed.service_crashed()
    }

    /// Starts the service again after it crashed: `Err` is the grader's failure, `Ok(Err)`
    /// the student's service that did not start again.
    pub async fn restart_after_crash(&mut self) -> Started {
        self.testbed.restart_service().await
    }

    /// Starts the service again with its usual settings: e.g. a fresh process, with nothing
    /// remembered. `expected` says what the check needed, should it not start.
    pub async fn restart_service(&mut self, expected: &str) -> Verdict {
        judge_start(self.testbed.restart_service().await, expected)
    }

    /// Restarts the service with every query taking `delay_ms` (a slow database), runs
    /// `check`, and restarts the service with its usual database, whatever `check` decided.
    pub async fn with_slow_database(&mut self, delay_ms: u64, check: Check) -> Verdict {
        let delay = delay_ms.to_string();
        let slow = [("WORKBOOK_QUERY_DELAY_MS", delay.as_str())];
        let restarted = self.testbed.restart_service_with(&slow).await;
        judge_start(restarted, "the service to restart with a slow database")?;
        let outcome = check(self).await;
        self.restart_service("the service to restart with its usual database").await?;
        outcome
    }

    /// Forgets every cached entry of the service, so that a check starts from a cold cache
    /// (see [`crate::run::testbed::Testbed::forget_cached_entries`]).
    pub async fn empty_the_cache(&mut self) -> Verdict {
        Ok(self.testbed.forget_cached_entries().await?)
    }

    /// Stops the private Redis, as a crash would. Needs a Redis the grader started.
    pub async fn stop_redis(&mut self) -> Verdict {
        self.testbed.stop_redis().await.map_err(grader_error)
    }

    /// Starts the private Redis again on the same port and reconnects the grader to it.
    pub async fn restart_redis(&mut self) -> Verdict {
        match self.testbed.restart_redis().await.map_err(grader_error)? {
            RedisRestart::Restarted | RedisRestart::Shared => Ok(()),
            RedisRestart::PortTaken(port) => Err(fail(
                format!("Redis's port {port} to stay free while Redis was down"),
                "the service (or a process it started) listened on it, until the grader stopped \
                 the service: a service listens on WORKBOOK_BIND only",
            )),
        }
    }

    /// Stops a script of the service's that holds Redis busy, so that it costs only the check
    /// it ran in. `true` when one was running.
    pub async fn stop_busy_script(&mut self) -> bool {
        let stopped = self.testbed.stop_busy_script().await;
        if stopped == BusyScript::RedisRestarted {
            // The next check starts once the service has its connection back, as after any
            // outage: `/health` pings through it until Redis is up.
            for _ in 0..40 {
                if self.redis_health(REQUEST_TIMEOUT).await.is_ok_and(|state| state == "up") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        stopped != BusyScript::None
    }

    /// Starts `binary` with the run's settings plus `extra` variables, a fresh database and
    /// the service's own Redis login (never the grader's). `who` names it in failures.
    pub async fn start_instance(
        &mut self,
        binary: &Path,
        who: &str,
        extra: &[(&str, String)],
    ) -> Result<Instance, Failure> {
        let started = self.testbed.start_instance(binary, extra).await;
        judge_start(started, &format!("{who} to start"))
    }

    /// Like [`Self::start_instance`], on the service's own database rather than a fresh one:
    /// two instances behind a load balancer share Redis *and* the database, so a claim that
    /// must hold across processes (an invalidation, a race) is checked with one of these.
    pub async fn start_instance_on_the_services_database(
        &mut self,
        binary: &Path,
        who: &str,
        extra: &[(&str, String)],
    ) -> Result<Instance, Failure> {
        let started = self.testbed.start_instance_on_the_services_database(binary, extra).await;
        judge_start(started, &format!("{who} to start"))
    }

    /// The reference solution's binary, built by the grading run for exercises that
    /// compare with it ([`crate::criteria::ExerciseSpec::needs_reference`]).
    pub fn reference(&self) -> Result<&Path, Failure> {
        self.testbed.reference().map_err(|reason| Failure::Error(reason.to_owned()))
    }

    /// `true` when the grader's private Redis no longer answers, even on a new connection.
    pub async fn redis_lost(&mut self) -> bool {
        self.testbed.redis_lost().await
    }
}

/// A start of a service as a check judges it: the student's service that did not start fails
/// the check (`expected` says what the check needed); the grader's own failure to start it is
/// the grader's error, never the student's.
fn judge_start<T>(started: Started<T>, expected: &str) -> Result<T, Failure> {
    match started {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(NotStarted(reason))) => Err(fail(expected, reason)),
        Err(err) => Err(Failure::Error(format!("the grader could not start a service: {err:#}"))),
    }
}

/// The grader's own failure, as a check reports it: an error, never the student's zero.
fn grader_error(err: anyhow::Error) -> Failure {
    Failure::Error(format!("{err:#}"))
}
