//! More instances of a service beside the one under test: the submission again, or the
//! reference solution, on the run's Redis, each with a database of its own or sharing the
//! service's.
//!
//! Checks start them through [`Probe::start_instance`] and
//! [`Probe::start_instance_on_the_services_database`], so that starting processes, run
//! folders and databases stays the grading run's business.

use std::path::{Path, PathBuf};

use super::probe::{Probe, judge_start};
use super::verdict::Failure;
use crate::run::database::{self, ServiceDatabase};
use crate::run::service::{self, RunningService};
use crate::run::users;

/// A service started by a check; stop it with [`Instance::stop`] when the check is done.
pub struct Instance {
    pub service: RunningService,
    /// The database it was given, removed with it; `None` when it shares the service's.
    database: Option<ServiceDatabase>,
    /// Its own folder, removed with it.
    home: PathBuf,
}

impl Instance {
    pub async fn stop(mut self) {
        self.service.stop().await;
        if let Some(database) = self.database {
            database.remove().await;
        }
        // Whatever it left there (links included) is removed, never followed.
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

impl Probe {
    /// Starts `binary` with the run's settings plus `extra` variables, a fresh database and
    /// the service's own Redis login (never the grader's). `who` names it in failures.
    pub async fn start_instance(
        &mut self,
        binary: &Path,
        who: &str,
        extra: &[(&str, String)],
    ) -> Result<Instance, Failure> {
        let home = self.instance_home()?;
        let database = self.database_server.create(&home).await.map_err(|err| {
            Failure::Error(format!("cannot create a database for {who}: {err:#}"))
        })?;
        let environment = self.instance_environment(&database.url, extra)?;
        let started = RunningService::start(binary, environment, &home).await;
        match judge_start(started, &format!("{who} to start")) {
            Ok(service) => Ok(Instance { service, database: Some(database), home }),
            Err(failure) => {
                database.remove().await;
                let _ = std::fs::remove_dir_all(&home);
                Err(failure)
            }
        }
    }

    /// Like [`Self::start_instance`], on the service's own database rather than a fresh one:
    /// two instances behind a load balancer share Redis *and* the database, so a claim that
    /// must hold across processes (an invalidation, a race) is checked with one of these.
    /// On SQLite the instance may write the folder of the service's file, and nothing else
    /// of the service's.
    pub async fn start_instance_on_the_services_database(
        &mut self,
        binary: &Path,
        who: &str,
        extra: &[(&str, String)],
    ) -> Result<Instance, Failure> {
        let home = self.instance_home()?;
        let Some(url) = self.service.env("DATABASE_URL").map(str::to_owned) else {
            return Err(Failure::Error("the service was started without a DATABASE_URL".into()));
        };
        let environment = self.instance_environment(&url, extra)?;
        let started = match database::sqlite_folder(&url) {
            Some(shared) => {
                RunningService::start_sharing(binary, environment, &home, &shared).await
            }
            None => RunningService::start(binary, environment, &home).await,
        };
        match judge_start(started, &format!("{who} to start")) {
            Ok(service) => Ok(Instance { service, database: None, home }),
            Err(failure) => {
                let _ = std::fs::remove_dir_all(&home);
                Err(failure)
            }
        }
    }

    /// The reference solution's binary, built by the grading run for exercises that
    /// compare with it ([`super::ExerciseSpec::needs_reference`]).
    pub fn reference(&self) -> Result<&Path, Failure> {
        self.reference.as_deref().map_err(|reason| Failure::Error(reason.clone()))
    }

    /// The run's settings for an instance on `database_url`, on a port of its own, plus
    /// `extra` variables.
    fn instance_environment(
        &self,
        database_url: &str,
        extra: &[(&str, String)],
    ) -> Result<Vec<(String, String)>, Failure> {
        let port = service::pick_port().map_err(|err| Failure::Error(format!("{err:#}")))?;
        let redis_url = self.redis_server.service_url();
        let mut environment = self.contract.environment(&redis_url, port, database_url);
        environment.extend(extra.iter().map(|(name, value)| ((*name).to_owned(), value.clone())));
        Ok(environment)
    }

    /// A folder of its own for each instance, beside the service's in the run's folder (the
    /// grader's), under a random name: never inside the service's folder, where the service
    /// could have planted a link under a name it predicted.
    fn instance_home(&self) -> Result<PathBuf, Failure> {
        users::create_home(&self.run_dir, "instance-", self.run_user)
            .map_err(|err| Failure::Error(format!("{err:#}")))
    }
}
