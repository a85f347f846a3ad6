//! More instances of a service beside the one under test: the submission again, or the
//! reference solution, on the testbed's Redis, each with a database of its own or sharing the
//! service's.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::Testbed;
use crate::run::database::{self, ServiceDatabase};
use crate::run::service::{self, RunningService, Started};
use crate::run::users;

/// A service started beside the one under test; stop it with [`Instance::stop`] when done.
pub struct Instance {
    pub service: RunningService,
    /// The database it was given, removed with it; `None` when it shares the service's.
    database: Option<ServiceDatabase>,
    /// Its own folder, removed with it.
    home: PathBuf,
}

impl Instance {
    /// The instance, if its service started; else its database and folder go.
    async fn keep(
        started: Started<RunningService>,
        database: Option<ServiceDatabase>,
        home: PathBuf,
    ) -> Started<Instance> {
        let not_started = match started {
            Ok(Ok(service)) => return Ok(Ok(Instance { service, database, home })),
            Ok(Err(not_started)) => Ok(not_started),
            Err(grader_fault) => Err(grader_fault),
        };
        if let Some(database) = database {
            database.remove().await;
        }
        let _ = std::fs::remove_dir_all(&home);
        Ok(Err(not_started?))
    }

    pub async fn stop(mut self) {
        self.service.stop().await;
        if let Some(database) = self.database {
            database.remove().await;
        }
        // Whatever it left there (links included) is removed, never followed.
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

impl Testbed {
    /// Starts `binary` with the run's settings plus `extra` variables, a fresh database and
    /// the service's own Redis login (never the grader's).
    pub async fn start_instance(
        &mut self,
        binary: &Path,
        extra: &[(&str, String)],
    ) -> Started<Instance> {
        let home = self.instance_home()?;
        let database =
            self.database_server.create(&home).await.context("cannot create its database")?;
        let environment = self.instance_environment(&database.url, extra)?;
        let started = RunningService::start(binary, environment, &home).await;
        Instance::keep(started, Some(database), home).await
    }

    /// Like [`Self::start_instance`], on the service's own database rather than a fresh one:
    /// two instances behind a load balancer share Redis *and* the database. On SQLite the
    /// instance may write the folder of the service's file, and nothing else of the service's.
    pub async fn start_instance_on_the_services_database(
        &mut self,
        binary: &Path,
        extra: &[(&str, String)],
    ) -> Started<Instance> {
        let home = self.instance_home()?;
        let url = self.database.url.clone();
        let environment = self.instance_environment(&url, extra)?;
        let started = match database::sqlite_folder(&url) {
            Some(shared) => {
                RunningService::start_sharing(binary, environment, &home, &shared).await
            }
            None => RunningService::start(binary, environment, &home).await,
        };
        Instance::keep(started, None, home).await
    }

    /// The run's settings for an instance on `database_url`, on a port of its own, plus
    /// `extra` variables.
    fn instance_environment(
        &self,
        database_url: &str,
        extra: &[(&str, String)],
    ) -> Result<Vec<(String, String)>> {
        let port = service::pick_port()?;
        let redis_url = self.redis_server.service_url();
        let mut environment = self.contract.environment(&redis_url, port, database_url);
        environment.extend(extra.iter().map(|(name, value)| ((*name).to_owned(), value.clone())));
        Ok(environment)
    }

    /// A folder of its own for each instance, beside the service's in the run's folder (the
    /// grader's), under a random name: never inside the service's folder, where the service
    /// could have planted a link under a name it predicted.
    fn instance_home(&self) -> Result<PathBuf> {
        users::create_home(&self.run_dir, "instance-", self.run_user)
    }
}
