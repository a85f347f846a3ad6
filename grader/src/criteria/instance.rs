//! More instances of a service beside the one under test: the submission again, or the
//! reference solution, each with a database of its own, on the run's Redis.
//!
//! Checks start them through [`Probe::start_instance`], so that starting processes, run
//! folders and databases stays the grading run's business.

use std::path::{Path, PathBuf};

use super::probe::Probe;
use super::verdict::{Failure, fail};
use crate::run::database::ServiceDatabase;
use crate::run::service::{self, RunningService};
use crate::run::users;

/// A service started by a check; stop it with [`Instance::stop`] when the check is done.
pub struct Instance {
    pub service: RunningService,
    database: ServiceDatabase,
}

impl Instance {
    pub async fn stop(mut self) {
        self.service.stop().await;
        self.database.remove().await;
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
        let dir = self.instance_dir(who);
        users::create_run_folder(&dir).map_err(|err| Failure::Error(format!("{err:#}")))?;
        let port = service::pick_port().map_err(|err| Failure::Error(format!("{err:#}")))?;
        let database = self.database_server.create(&dir).await.map_err(|err| {
            Failure::Error(format!("cannot create a database for {who}: {err:#}"))
        })?;
        let redis_url = self.redis_server.service_url();
        let mut environment = self.contract.environment(&redis_url, port, &database.url);
        environment.extend(extra.iter().map(|(name, value)| ((*name).to_owned(), value.clone())));
        match RunningService::start(binary, environment, &dir).await {
            Ok(service) => Ok(Instance { service, database }),
            Err(reason) => {
                database.remove().await;
                Err(fail(format!("{who} to start"), reason))
            }
        }
    }

    /// The reference solution's binary, built by the grading run for exercises that
    /// compare with it ([`super::ExerciseSpec::needs_reference`]).
    pub fn reference(&self) -> Result<&Path, Failure> {
        self.reference.as_deref().map_err(|reason| Failure::Error(reason.clone()))
    }

    /// A folder of its own for each instance, right in the run's folder for the exercise, so
    /// that it goes to the run's user like the service's own (a folder between them would be
    /// the grader's, and the instance would run as the grader).
    fn instance_dir(&mut self, who: &str) -> PathBuf {
        let name: String =
            who.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let name = self.unique(&format!("instance-{name}"));
        self.dir.join(name)
    }
}
