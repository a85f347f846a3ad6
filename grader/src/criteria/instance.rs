//! More instances of a service beside the one under test: the submission again, or the
//! reference solution, on the run's Redis, each with a database of its own or sharing the
//! service's.
//!
//! Checks start them through [`Probe::start_instance`] and
//! [`Probe::start_instance_on_the_services_database`], so that starting processes, run
//! folders and databases stays the grading run's business.

use std::path::{Path, PathBuf};

use super::probe::Probe;
use super::verdict::{Failure, fail};
use crate::run::database::{self, ServiceDatabase};
use crate::run::service::{self, RunningService};
use crate::run::users;

/// A service started by a check; stop it with [`Instance::stop`] when the check is done.
pub struct Instance {
    pub service: RunningService,
    /// The database it was given, removed with it; `None` when it shares the service's.
    database: Option<ServiceDatabase>,
}

impl Instance {
    pub async fn stop(mut self) {
        self.service.stop().await;
        if let Some(database) = self.database {
            database.remove().await;
        }
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
        let dir = self.instance_dir(who)?;
        let database = self.database_server.create(&dir).await.map_err(|err| {
            Failure::Error(format!("cannot create a database for {who}: {err:#}"))
        })?;
        let environment = self.instance_environment(&database.url, extra)?;
        match RunningService::start(binary, environment, &dir).await {
            Ok(service) => Ok(Instance { service, database: Some(database) }),
            Err(reason) => {
                database.remove().await;
                Err(fail(format!("{who} to start"), reason))
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
        let dir = self.instance_dir(who)?;
        let Some(url) = self.service.env("DATABASE_URL").map(str::to_owned) else {
            return Err(Failure::Error("the service was started without a DATABASE_URL".into()));
        };
        let environment = self.instance_environment(&url, extra)?;
        let started = match database::sqlite_folder(&url) {
            Some(shared) => RunningService::start_sharing(binary, environment, &dir, &shared).await,
            None => RunningService::start(binary, environment, &dir).await,
        };
        match started {
            Ok(service) => Ok(Instance { service, database: None }),
            Err(reason) => Err(fail(format!("{who} to start"), reason)),
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

    /// A folder of its own for each instance, right in the run's folder for the exercise, so
    /// that it goes to the run's user like the service's own (a folder between them would be
    /// the grader's, and the instance would run as the grader).
    fn instance_dir(&mut self, who: &str) -> Result<PathBuf, Failure> {
        let name: String =
            who.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let name = self.unique(&format!("instance-{name}"));
        let dir = self.dir.join(name);
        users::create_run_folder(&dir).map_err(|err| Failure::Error(format!("{err:#}")))?;
        Ok(dir)
    }
}
