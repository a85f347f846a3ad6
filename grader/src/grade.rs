//! A grading run: build each exercise, start it against the grader's Redis, run its checks.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::course::Exercise;
use crate::criteria::probe::Probe;
use crate::criteria::{self, Because, ExerciseSpec, Failure, Symptom, Verdict, fail};
use crate::fs::LockWaits;
use crate::report::{CriterionReport, ExerciseReport, NotGraded, Report, Stage, Status};
use crate::run::compile::{self, Build, BuildFolder, Built};
use crate::run::contract::Contract;
use crate::run::database::DatabaseServer;
use crate::run::disk::RunDisk;
use crate::run::redis_server::{Acl, PrivateRedis, RedisServer};
use crate::run::service::{NotStarted, OutputMark, RunningService};
use crate::run::testbed::{DidNotStart, Setup, Testbed};
use crate::run::users::RunUser;
use crate::run::{network, reference, sandbox, users};

/// What to grade and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// A folder laid out like `exercises/`: one `NN-name/` folder per exercise.
    pub submission: PathBuf,
    pub exercises: Vec<Exercise>,
    pub seed: u64,
    /// Use this Redis instead of starting a private one.
    pub redis_url: Option<String>,
    /// A PostgreSQL server (an admin URL) for the services' databases; SQLite when `None`.
    pub database_url: Option<String>,
    pub build_timeout: Duration,
    /// The longest one check may take.
    pub check_timeout: Duration,
    /// Print progress lines on stderr.
    pub progress: bool,
    /// Where the run counts its waiting for the grader's own locks (see [`LockWaits`]).
    pub lock_waits: LockWaits,
    /// The ids of the only criteria to check; every criterion when empty.
    pub only: Vec<String>,
    /// Where the exercises are built: the workspace's `target/` for one's own work.
    pub build_folder: BuildFolder,
}

impl Options {
    /// The criteria of `spec` this run checks.
    pub fn selected<'a>(&self, spec: &'a ExerciseSpec) -> Vec<&'a criteria::Criterion> {
        let wanted = |id: &str| self.only.is_empty() || self.only.iter().any(|only| only == id);
        spec.criteria.iter().filter(|criterion| wanted(criterion.id)).collect()
    }
}

/// Refuses criterion ids that none of `exercises` has, naming the ones they do have.
pub fn check_only(exercises: &[Exercise], only: &[String]) -> Result<()> {
    let specs = criteria::registry();
    let known: Vec<&str> = specs
        .iter()
        .filter(|spec| exercises.contains(&spec.exercise))
        .flat_map(|spec| spec.criteria.iter().map(|criterion| criterion.id))
        .collect();
    let unknown: Vec<&String> = only.iter().filter(|id| !known.contains(&id.as_str())).collect();
    if !unknown.is_empty() {
        bail!(
            "no criterion {} in the exercises graded; they have: {}",
            unknown.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", "),
            known.join(", ")
        );
    }
    Ok(())
}

/// Grades every selected exercise. `Err` only when grading itself cannot run.
pub async fn run(options: &Options) -> Result<Report> {
    let so_far = Arc::new(Mutex::new(GradedSoFar::default()));
    run_recording(options, &so_far).await?;
    let so_far = std::mem::take(&mut *lock(&so_far));
    Ok(so_far.into_report(options.seed))
}

/// What a run has finished so far: kept when the run is cut short, so no grade is lost.
#[derive(Debug, Default)]
pub struct GradedSoFar {
    pub redis: String,
    pub database: String,
    /// The network the run had (see [`network`]).
    pub network: String,
    pub exercises: Vec<ExerciseReport>,
}

impl GradedSoFar {
    pub fn into_report(self, seed: u64) -> Report {
        let mut report = Report::new(seed, self.redis, self.exercises);
        report.database = self.database;
        report.isolation = isolation(&self.network);
        report
    }
}

/// What kept the student's processes in check: the sandbox's defences, then the network the
/// run had (empty when it had none of its own).
pub fn isolation(network: &str) -> String {
    let defences = sandbox::isolation();
    if network.is_empty() { defences } else { format!("{defences}; {network}") }
}

/// Like [`run`], recording each exercise in `so_far` as soon as it is graded.
///
/// The run has a network of its own (with a private Redis): nothing the submission starts can
/// reach beyond it. Its dependencies are fetched before, by the grader, on the machine's
/// network; the submission's build is offline.
pub async fn run_recording(options: &Options, so_far: &Arc<Mutex<GradedSoFar>>) -> Result<()> {
    compile::fetch_dependencies().await;
    let (options, so_far) = (options.clone(), Arc::clone(so_far));
    // An external Redis or PostgreSQL server is on the machine's network, out of a private one.
    let shared_because = match (&options.redis_url, &options.database_url) {
        (Some(_), _) => Some("not isolated: an external Redis was named"),
        (None, Some(_)) => Some("not isolated: a PostgreSQL server was named"),
        (None, None) => None,
    };
    network::run(shared_because, move |network| async move {
        lock(&so_far).network = network.describe();
        grade_all(&options, &so_far).await
    })
    .await
}

async fn grade_all(options: &Options, so_far: &Mutex<GradedSoFar>) -> Result<()> {
    let mut session = Session::start(options).await?;
    lock(so_far).redis = session.redis_description();
    lock(so_far).database = session.database.describe();
    let specs = criteria::registry();
    for exercise in &options.exercises {
        let spec = criteria::spec_of(&specs, exercise)?;
        let report = session.grade(exercise, spec).await?;
        lock(so_far).exercises.push(report);
    }
    Ok(())
}

/// Compiles, before the first submission arrives, what grading any of them needs: the
/// workbook's dependencies and the reference solutions that criteria compare with (kept in
/// the grader's folder, so a Gradescope image built after `grader warm-up` holds them).
pub async fn warm_up(folder: BuildFolder, timeout: Duration, waits: &LockWaits) -> Result<()> {
    compile::warm_up(folder, timeout, waits).await?;
    for spec in criteria::registry().iter().filter(|spec| spec.needs_reference) {
        reference::binary(&spec.exercise, folder, waits).await?;
    }
    Ok(())
}

/// What grading needs across exercises: the run's folder, its contract and the grader's Redis.
/// A run grades each exercise once; `--watch` keeps one session and grades again on every save,
/// so Redis starts once and the settings drawn from the seed stay the same.
pub struct Session<'a> {
    options: &'a Options,
    run_dir: tempfile::TempDir,
    /// The private Redis' folder: outside the run folder, for the server runs as a user of its
    /// own, which may not enter the run's.
    redis_dir: tempfile::TempDir,
    /// Who the run's builds and services run as (`None`: as the grader).
    run_user: Option<RunUser>,
    /// The run folder's own disk: after `run_dir`, so that the folder is emptied first.
    _run_disk: RunDisk,
    contract: Contract,
    /// Where each service's database is created.
    pub database: DatabaseServer,
    /// `None` only after a failure took the server down with it: the next grade starts another.
    redis_server: Option<RedisServer>,
    /// Told each verdict as soon as it is judged (`--watch` prints it), in the order checked.
    on_verdict: Option<OnVerdict>,
    /// The criteria to check before the others in the next grade (those that failed last).
    first: Vec<String>,
}

/// What [`Session::stream_verdicts`] calls with each criterion's verdict.
pub type OnVerdict = Box<dyn Fn(&CriterionReport) + Send + Sync>;

impl<'a> Session<'a> {
    pub async fn start(options: &'a Options) -> Result<Self> {
        if !options.submission.is_dir() {
            bail!("{} is not a folder of exercises", options.submission.display());
        }
        let run_dir = tempfile::Builder::new().prefix("grader-run-").tempdir()?;
        let run_disk = RunDisk::mount(run_dir.path())?;
        let run_user = users::claim_run_folder(run_dir.path())?;
        let redis_dir = tempfile::Builder::new().prefix("grader-redis-").tempdir()?;
        users::claim_redis_folder(redis_dir.path(), run_user)?;
        let mut contract = Contract::from_seed(options.seed);
        if options.redis_url.is_some() {
            // On a shared server, a prefix of our own keeps us out of everybody else's keys.
            contract.key_prefix = format!("{}-{}", contract.key_prefix, std::process::id());
        }
        let database = DatabaseServer::from_url(options.database_url.as_deref()).await?;
        let mut session = Self {
            options,
            run_dir,
            redis_dir,
            run_user,
            _run_disk: run_disk,
            contract,
            database,
            redis_server: None,
            on_verdict: None,
            first: Vec::new(),
        };
        session.redis_server = Some(session.connect_redis().await?);
        Ok(session)
    }

    /// Calls `on_verdict` with each verdict of the next grades as soon as it is judged, before
    /// the exercise's report is complete.
    pub fn stream_verdicts(&mut self, on_verdict: OnVerdict) {
        self.on_verdict = Some(on_verdict);
    }

    /// Checks the criteria `ids` before the others in the next grade: the verdicts a student
    /// waits for come first. The report keeps the registry's order whatever the order checked.
    pub fn check_first(&mut self, ids: Vec<String>) {
        self.first = ids;
    }

    pub fn redis_description(&self) -> String {
        self.redis_server.as_ref().map(RedisServer::describe).unwrap_or_default()
    }

    async fn connect_redis(&self) -> Result<RedisServer> {
        Ok(match &self.options.redis_url {
            Some(url) => RedisServer::External { url: url.clone() },
            None => RedisServer::Private(Box::new(
                PrivateRedis::start(self.redis_dir.path(), Acl::new(&self.contract.key_prefix))
                    .await?,
            )),
        })
    }

    /// Builds `exercise` from the submission and grades it. `Err` only when grading itself
    /// cannot run.
    pub async fn grade(
        &mut self,
        exercise: &Exercise,
        spec: &ExerciseSpec,
    ) -> Result<ExerciseReport> {
        let mut report = self.build_and_grade(exercise, spec).await?;
        report.warnings.extend(compile::workbook_file_warnings(&self.options.submission, exercise));
        let selected: Vec<&str> = self.options.selected(spec).iter().map(|c| c.id).collect();
        report.retain_criteria(|id| selected.contains(&id));
        Ok(report)
    }

    async fn build_and_grade(
        &mut self,
        exercise: &Exercise,
        spec: &ExerciseSpec,
    ) -> Result<ExerciseReport> {
        let options = self.options;
        if !options.submission.join(exercise.dir_name()).is_dir() {
            // Named from the submission's top, not by where the grader unpacked it.
            let reason = format!("your submission has no folder {}", exercise.dir_name());
            return Ok(not_graded(exercise, spec, NotGraded::Missing, reason));
        }
        say(options, format!("building {} ...", exercise.dir_name()));
        let run_dir = self.run_dir.path();
        let Built { binary, left_out, warnings } = match compile::build(
            &options.submission,
            exercise,
            options.build_timeout,
            run_dir,
            self.run_user,
            options.build_folder,
            &options.lock_waits,
        )
        .await?
        {
            Build::Failed(errors) => {
                return Ok(not_graded(exercise, spec, NotGraded::BuildFailed, errors));
            }
            Build::Refused(reason) => {
                return Ok(not_graded(exercise, spec, NotGraded::Invalid, reason));
            }
            Build::Built(built) => built,
        };
        say(options, format!("grading {} ...", exercise.dir_name()));
        // A fresh folder each time: a re-grade must not find the last run's database.
        let home =
            users::create_home(run_dir, &format!("{}-", exercise.dir_name()), self.run_user)?;
        let redis_server = match self.redis_server.take() {
            Some(server) => server,
            None => self.connect_redis().await?,
        };
        let graded = self.grade_exercise(exercise, spec, &binary, redis_server, &home).await;
        // Links the service left there are removed, never followed.
        let _ = std::fs::remove_dir_all(&home);
        let (mut report, redis_server) = graded?;
        self.redis_server = Some(redis_server);
        report.add_compiler_warnings(warnings);
        report.warnings.extend(
            left_out
                .into_iter()
                .map(|file| format!("the grader left out {file}, so your build did not have it")),
        );
        Ok(report)
    }
}

fn lock(so_far: &Mutex<GradedSoFar>) -> std::sync::MutexGuard<'_, GradedSoFar> {
    so_far.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Session<'_> {
    /// Starts the built service and runs every check of `spec` against it.
    async fn grade_exercise(
        &self,
        exercise: &Exercise,
        spec: &ExerciseSpec,
        binary: &Path,
        redis_server: RedisServer,
        home: &Path,
    ) -> Result<(ExerciseReport, RedisServer)> {
        let setup = Setup {
            contract: Contract { query_delay_ms: spec.query_delay_ms, ..self.contract.clone() },
            redis_server,
            database_server: self.database.clone(),
            binary,
            home,
            run_dir: self.run_dir.path(),
            run_user: self.run_user,
            reference: self.reference_for(exercise, spec).await,
        };
        // The grader's own failure is an error of the run (a batch grades the submission
        // again), never the student's "did not start".
        let mut testbed = match Testbed::start(setup).await? {
            Ok(testbed) => testbed,
            Err(DidNotStart { reason, redis_server }) => {
                let report = not_graded(exercise, spec, NotGraded::DidNotStart, reason);
                return Ok((report, redis_server));
            }
        };
        let results = self.check_all(spec, &mut testbed).await;
        let redis_server = testbed.finish().await;
        let report = ExerciseReport::new(
            exercise.dir_name(),
            exercise.title.to_owned(),
            Stage::Graded,
            None,
            results?,
        );
        Ok((report, redis_server))
    }

    /// Runs the selected checks of `spec` in checking order; the results in the registry's.
    async fn check_all(
        &self,
        spec: &ExerciseSpec,
        testbed: &mut Testbed,
    ) -> Result<Vec<CriterionReport>> {
        let mut probe = Probe::new(testbed);
        let mut results = Vec::new();
        for criterion in self.in_checking_order(self.options.selected(spec)) {
            let report = self.decide(criterion, &mut probe).await?;
            self.tell(&report);
            results.push(report);
        }
        results.sort_by_key(|result| spec.criteria.iter().position(|c| c.id == result.id));
        Ok(results)
    }

    /// Decides one criterion: on a service started again if it crashed, with a Redis freed of
    /// a script that held it and brought back if it died. `Err` only for the grader's failure.
    async fn decide(
        &self,
        criterion: &criteria::Criterion,
        probe: &mut Probe<'_>,
    ) -> Result<CriterionReport> {
        let options = self.options;
        if let Some(crash) = probe.service_crashed() {
            say(options, format!("the service crashed; restarting it for {}", criterion.id));
            if let Err(NotStarted(reason)) = probe
                .restart_after_crash()
                .await
                .context("the grader could not restart the service")?
            {
                return Ok(CriterionReport::new(criterion, Err(crashed(&crash, &reason))));
            }
        }
        let mark = probe.service().output_mark();
        let mut outcome = run_check(criterion, probe, options).await;
        // A script left running holds Redis for every later check: stop it, and let it cost
        // this check alone.
        if probe.stop_busy_script().await {
            say(options, format!("a script of the service's held Redis during {}", criterion.id));
            outcome = outcome.and(Err(fail(
                "Redis to be free for everyone once the check was done",
                criteria::verdict::BUSY_SCRIPT,
            )));
        }
        outcome = self.again_if_redis_died(criterion, probe, outcome).await;
        let mut report = CriterionReport::new(criterion, outcome);
        report.service_output = service_output(&report, probe.service(), &mark);
        Ok(report)
    }

    /// A Redis that died under a check says nothing about the student's code: brings it back
    /// and checks again. Only a Redis that keeps dying makes the criterion an error.
    async fn again_if_redis_died(
        &self,
        criterion: &criteria::Criterion,
        probe: &mut Probe<'_>,
        mut outcome: Verdict,
    ) -> Verdict {
        for _retry in 0..2 {
            if !probe.redis_lost().await {
                break;
            }
            say(
                self.options,
                format!(
                    "the grader's Redis died during {}; restarting it and checking again",
                    criterion.id
                ),
            );
            outcome = match probe.restart_redis().await {
                Ok(()) => run_check(criterion, probe, self.options).await,
                Err(failure) => Err(failure),
            };
        }
        if probe.redis_lost().await {
            outcome =
                Err(Failure::Error("the grader's Redis kept dying during this check".to_owned()));
        }
        outcome
    }
}

impl Session<'_> {
    /// `criteria`, those of [`Session::check_first`] first, each part in the registry's order.
    fn in_checking_order<'c>(
        &self,
        mut criteria: Vec<&'c criteria::Criterion>,
    ) -> Vec<&'c criteria::Criterion> {
        criteria.sort_by_key(|criterion| !self.first.iter().any(|id| id == criterion.id));
        criteria
    }

    /// Passes a verdict to [`Session::stream_verdicts`]' listener, if any.
    fn tell(&self, verdict: &CriterionReport) {
        if let Some(on_verdict) = &self.on_verdict {
            on_verdict(verdict);
        }
    }

    /// The reference solution's binary for an exercise whose checks compare with it, built
    /// before the checks so that no check's time limit is spent on a build.
    async fn reference_for(
        &self,
        exercise: &Exercise,
        spec: &ExerciseSpec,
    ) -> Result<PathBuf, String> {
        if !spec.needs_reference {
            return Err(format!(
                "{} has no check that needs the reference solution",
                exercise.dir_name()
            ));
        }
        say(
            self.options,
            format!("building the reference solution of {} ...", exercise.dir_name()),
        );
        reference::binary(exercise, self.options.build_folder, &self.options.lock_waits)
            .await
            .map_err(|err| format!("the grader cannot build the reference solution: {err:#}"))
    }
}

/// Runs one check under the time limit, adding the crash report of a service that died.
async fn run_check(
    criterion: &criteria::Criterion,
    probe: &mut Probe<'_>,
    options: &Options,
) -> Verdict {
    let outcome = match tokio::time::timeout(options.check_timeout, (criterion.check)(probe)).await
    {
        Ok(outcome) => outcome,
        Err(_) => Err(fail(
            format!("the check to finish within {} s", options.check_timeout.as_secs()),
            "the service stopped answering",
        )
        .because(Symptom::Timeout)),
    };
    match (outcome, probe.service_crashed()) {
        (Err(Failure::Failed { expected, observed, .. }), Some(crash)) => {
            Err(fail(expected, format!("{observed}; {crash}")).because(Symptom::ServiceError))
        }
        (outcome, _) => outcome,
    }
}

/// The service's own words for a failed criterion: a panic whatever the evidence, or the last
/// lines it wrote when the check saw it fail to answer.
fn service_output(
    report: &CriterionReport,
    service: &RunningService,
    mark: &OutputMark,
) -> Option<String> {
    if report.status != Status::Failed {
        return None;
    }
    let said = service.said_since(mark)?;
    let service_failed = report.symptom.is_some_and(Symptom::no_answer);
    (said.contains("panicked at") || service_failed).then_some(said)
}

/// Every criterion failed, for a reason that stopped grading before the checks.
pub fn not_graded(
    exercise: &Exercise,
    spec: &ExerciseSpec,
    why: NotGraded,
    details: String,
) -> ExerciseReport {
    let criteria = spec
        .criteria
        .iter()
        .map(|c| CriterionReport::new(c, Err(fail("a running service", why.reason()))))
        .collect();
    ExerciseReport::new(
        exercise.dir_name(),
        exercise.title.to_owned(),
        why.stage(),
        Some(details),
        criteria,
    )
}

fn crashed(crash: &str, restart_error: &str) -> Failure {
    fail("a running service", format!("{crash}\nRestarting it failed: {restart_error}"))
        .because(Symptom::ServiceError)
}

fn say(options: &Options, line: String) {
    if options.progress {
        eprintln!("{line}");
    }
}

/// A seed for a fresh run: different every time, printed so it can be replayed.
pub fn random_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) % 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::EXERCISES;
    use crate::run::compile::Slot;
    use crate::run::testbed;

    /// Grades `binary` as exercise 1's service, in a session of its own with `seed`, from its
    /// start.
    async fn grade_as_the_first_exercise(
        binary: &Path,
        seed: u64,
    ) -> Result<(ExerciseReport, RedisServer)> {
        let submission = tempfile::tempdir().unwrap();
        let options = Options {
            submission: submission.path().to_owned(),
            exercises: Vec::new(),
            seed,
            redis_url: None,
            database_url: None,
            build_timeout: Duration::from_secs(60),
            check_timeout: Duration::from_secs(60),
            progress: false,
            lock_waits: LockWaits::default(),
            only: Vec::new(),
            build_folder: BuildFolder::Private(Slot::FIRST),
        };
        let mut session = Session::start(&options).await.unwrap();
        let exercise = &EXERCISES[0];
        let specs = criteria::registry();
        let spec = criteria::spec_of(&specs, exercise).unwrap();
        let home =
            users::create_home(session.run_dir.path(), "service-", session.run_user).unwrap();
        let redis_server = session.redis_server.take().unwrap();
        session.grade_exercise(exercise, spec, binary, redis_server, &home).await
    }

    /// A fault of the grader's while it starts a service (bubblewrap missing, no processes
    /// left) is an error of the run, which a batch grades again: never the student's
    /// "did not start", which would be a zero.
    #[tokio::test]
    async fn a_grader_fault_starting_the_service_is_the_graders_error() {
        // A seed of this test's own: other tests' starts go on as usual.
        let seed = 290_001;
        testbed::injected_faults::fail_starts(seed, true);
        let graded = grade_as_the_first_exercise(Path::new("/bin/true"), seed).await;
        testbed::injected_faults::fail_starts(seed, false);

        let err = graded.err().expect("the grader's fault is an error of the run");
        let message = format!("{err:#}");
        assert!(message.contains("the grader could not start the service"), "{message}");
        assert!(message.contains("a fault injected by a test"), "{message}");
    }

    /// The same start without the fault: a service that exits at once is the student's
    /// "did not start", a report rather than an error.
    #[tokio::test]
    async fn a_service_that_does_not_start_is_the_students() {
        let graded = grade_as_the_first_exercise(Path::new("/bin/true"), 1).await;

        let (report, _redis_server) = graded.expect("the student's fault is a report");
        assert_eq!(report.stage, Stage::DidNotStart);
    }
}
