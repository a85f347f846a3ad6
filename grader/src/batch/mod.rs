//! `grader batch`: grade a whole class with the criteria students self-check with.
//!
//! Each submission gets its own private Redis, database files and stage; results are written
//! as each submission finishes, so an interrupted batch resumes where it stopped, and a second
//! run skips submissions whose content has not changed.

pub(crate) mod extract;
mod feedback_html;
pub mod gradescope;
mod html;
pub mod meta;
pub mod outputs;
pub mod run_info;
pub mod shard;
pub mod similarity;
mod slots;
mod stats;
pub(crate) mod submissions;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::course::Exercise;
use crate::criteria;
use crate::fs::LockWaits;
use crate::fs::write_atomically;
use crate::grade::{self, GradedSoFar};
use crate::report::{ExerciseReport, NotGraded, Report};
use crate::run::compile::{self, BuildFolder, Slot};
use crate::run::users;
use meta::{Meta, Outcome};
use run_info::RunInfo;
use slots::SlotPool;
use submissions::{Kind, Submission};

/// How to grade a class.
pub struct Options {
    pub submissions: PathBuf,
    /// The exercises to grade in every submission.
    pub exercises: Vec<Exercise>,
    pub out: PathBuf,
    pub jobs: usize,
    pub regrade: bool,
    /// Grade only share `index` of `count` (0-based).
    pub shard: Option<(usize, usize)>,
    /// The seed for the whole class; `None`: the one this output folder was first graded
    /// with, or a new one.
    pub seed: Option<u64>,
    /// The most one submission may take, build included.
    pub timeout: Duration,
    /// The most the batch's first build may take, which compiles every dependency (see
    /// [`SUBMISSION_BUILD_LIMIT`] for the submissions' own).
    pub build_timeout: Duration,
    /// What of the containment was missing (`--allow-unsandboxed`): empty when all of it was
    /// in force. Every result of the run says so.
    pub uncontained: Vec<String>,
}

/// The most one submission's build of one exercise may take: once the batch has compiled the
/// dependencies ([`compile::warm_up`]) a build compiles one crate, in seconds. A build that
/// never ends (an endless `const`) holds its job's build slot this long at most; and a build
/// that ran out of its own time is final, not graded again.
const SUBMISSION_BUILD_LIMIT: Duration = Duration::from_secs(300);

/// What the batch did, for the closing summary and the exit code.
#[derive(Debug, Default)]
pub struct Summary {
    pub graded: usize,
    pub skipped: usize,
    pub errors: usize,
}

/// How many runs may die while grading one submission before the batch stops trying it.
const MAX_UNFINISHED_ATTEMPTS: u32 = 2;

/// The memory one grading job may need at its peak (a build of the exercise and its service).
const MEMORY_PER_JOB: u64 = 3 << 29; // 1.5 GiB

/// The default `-j`: a submission per core, but no more than the memory holds at
/// [`MEMORY_PER_JOB`] each.
pub fn default_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    let by_memory = total_memory().map_or(cores, |bytes| (bytes / MEMORY_PER_JOB) as usize);
    cores.min(by_memory).max(1)
}

/// The machine's memory in bytes, where it can be read.
fn total_memory() -> Option<u64> {
    if cfg!(target_os = "linux") {
        let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = meminfo.lines().find(|line| line.starts_with("MemTotal:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        return Some(kib * 1024);
    }
    let output = std::process::Command::new("sysctl").args(["-n", "hw.memsize"]).output().ok()?;
    String::from_utf8(output.stdout).ok()?.trim().parse().ok()
}

/// Grades every submission of the class that changed since the last run, and writes the
/// class files.
pub async fn run(options: &Options) -> Result<Summary> {
    let (class, seed) = intake(options)?;
    let exercises = &options.exercises;
    let mut summary = Summary::default();
    let pending = to_grade(options, class, seed, &mut summary)?;
    eprintln!(
        "batch: {} to grade, {} unchanged since the last run (--regrade grades them again), seed {}",
        pending.len(),
        summary.skipped,
        seed
    );
    let jobs = options.jobs.max(1);
    let slots = if pending.is_empty() { Vec::new() } else { warm_slots(options, jobs).await? };

    let total = pending.len();
    let bar = progress_bar(total);
    let started = Instant::now();
    let mut durations: Vec<(Outcome, f64)> = Vec::new();
    let pool = SlotPool::new(slots);
    let pool = &pool;
    let mut results = futures::stream::iter(pending)
        .map(|(submission, fingerprint)| async move {
            // No more gradings run than there are slots: one is always free.
            let taken = pool.take().expect("a build slot for each job");
            let graded = grade_submission(
                options,
                exercises,
                seed,
                taken.slot,
                submission.clone(),
                fingerprint.clone(),
                &[],
            )
            .await;
            (submission, fingerprint, graded)
        })
        .buffer_unordered(jobs);
    // Time-outs that other submissions graded beside it may have caused: graded again alone.
    let mut again_alone = Vec::new();
    // Criteria that failed beside others for a reason a heavy neighbour may explain (late or
    // failed answers, the grader's errors, the performance criteria: see
    // `CriterionReport::a_neighbour_may_explain`). Checked again alone, and the second look
    // is final; a wrong answer is the submission's own and is not graded twice.
    let mut second_looks = Vec::new();
    while let Some((submission, fingerprint, (meta, report))) = results.next().await {
        if meta.outcome == Outcome::TimedOut && jobs > 1 {
            eprintln!(
                "{}: ran out of time while {jobs} submissions were graded side by side; it will \
                 be graded again alone, so that a slow neighbour cannot cost it its grade",
                meta.student
            );
            outputs::forget_attempt(&options.out, &meta.student)?;
            again_alone.push((submission, fingerprint));
            continue;
        }
        let beside_others = jobs > 1 && meta.outcome == Outcome::Graded;
        let doubtful = report.as_ref().filter(|_| beside_others).map(Report::worth_a_second_look);
        if let (Some(doubtful), Some(first)) = (doubtful.filter(|d| !d.is_empty()), &report) {
            outputs::forget_attempt(&options.out, &meta.student)?;
            second_looks.push(SecondLook {
                submission,
                fingerprint,
                meta,
                first: first.clone(),
                doubtful,
            });
            continue;
        }
        let line = record(options, &mut summary, &meta, report.as_ref())?;
        durations.push((meta.outcome, meta.seconds));
        show_progress(bar.as_ref(), durations.len(), total, line);
    }
    for (submission, fingerprint) in again_alone {
        let (meta, report) =
            grade_submission(options, exercises, seed, Slot::FIRST, submission, fingerprint, &[])
                .await;
        let line = record(options, &mut summary, &meta, report.as_ref())?;
        durations.push((meta.outcome, meta.seconds));
        show_progress(bar.as_ref(), durations.len(), total, format!("{line} (graded alone)"));
    }
    for look in second_looks {
        let (meta, report) = look.take(options, seed).await;
        let line = record(options, &mut summary, &meta, Some(&report))?;
        durations.push((meta.outcome, meta.seconds));
        let note = format!("{line} (criteria a neighbour may have failed checked again alone)");
        show_progress(bar.as_ref(), durations.len(), total, note);
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    write_similarity(&options.out)?;
    write_class_files(&options.out)?;
    report_costs(&durations, started.elapsed(), jobs);
    eprintln!("wrote {}", options.out.join("gradebook.csv").display());
    eprintln!("wrote {}", options.out.join("report.html").display());
    Ok(summary)
}

/// A build slot per job, each warmed up: the jobs' builds run side by side, not in turns.
async fn warm_slots(options: &Options, jobs: usize) -> Result<Vec<Slot>> {
    eprintln!("batch: compiling the workbook's dependencies (minutes, the first time) ...");
    let slots = Slot::first(jobs);
    for slot in &slots {
        let folder = BuildFolder::Private(*slot);
        compile::warm_up(folder, options.build_timeout, &LockWaits::default()).await?;
    }
    Ok(slots)
}

/// The class to grade (this shard's share of it) and the seed every submission is graded
/// with; says which file of each student is graded and which were set aside.
fn intake(options: &Options) -> Result<(Vec<Submission>, u64)> {
    if !options.submissions.is_dir() {
        bail!("{} is not a folder of submissions", options.submissions.display());
    }
    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("cannot create {}", options.out.display()))?;
    if let Some(warning) = users::readable_by_services(&options.submissions) {
        eprintln!("warning: {warning}");
    }
    let mut class = submissions::discover(&options.submissions)?;
    let seed = class_seed(&options.out, options.seed, options.shard.is_some(), &class)?;
    set_aside_gone(options, &class)?;
    if let Some((index, count)) = options.shard {
        class = shard::pick(class, index, count, Submission::expected_work);
        eprintln!("batch: shard {} of {count}: {} students", index + 1, class.len());
    }
    for submission in class.iter().filter(|s| !s.superseded.is_empty()) {
        eprintln!(
            "batch: {} handed in {} workbooks: grading the newest, {}",
            submission.student,
            submission.superseded.len() + 1,
            submission.label
        );
    }
    for submission in class.iter().filter(|s| !s.attachments.is_empty()) {
        eprintln!(
            "batch: {}: grading {}; kept as attachments (no workbook in them): {}",
            submission.student,
            submission.label,
            submission.attachments.join(", ")
        );
    }
    Ok((class, seed))
}

/// The submissions of `class` to grade in this run, with their fingerprints: not those
/// graded already (unless `--regrade`), and not one that killed the grader too often (its
/// result says so, counted in `summary`).
fn to_grade(
    options: &Options,
    class: Vec<Submission>,
    seed: u64,
    summary: &mut Summary,
) -> Result<Vec<(Submission, String)>> {
    let exercises = &options.exercises;
    let grader = format!("{}/{seed}", grader_fingerprint(exercises));
    let mut pending = Vec::new();
    for submission in class {
        let fingerprint = fingerprint(&submission, exercises, &grader);
        if !options.regrade && already_graded(&options.out, &submission.student, &fingerprint) {
            summary.skipped += 1;
            continue;
        }
        let unfinished =
            outputs::unfinished_attempts(&options.out, &submission.student, &fingerprint);
        if !options.regrade && unfinished >= MAX_UNFINISHED_ATTEMPTS {
            // Grading it again would most likely kill this run too: the batch must finish.
            let reason = format!(
                "the grader was killed {unfinished} times while grading this submission (by \
                 the submission itself?), so it was not graded again; --regrade tries again"
            );
            let meta = meta_of(&submission, fingerprint, Outcome::Invalid, Some(reason.clone()));
            let report = whole_submission_failed(seed, exercises, NotGraded::Invalid, &reason)?;
            outputs::write_student(&options.out, &meta, Some(&report))?;
            eprintln!("{}: {reason}", submission.student);
            summary.graded += 1;
            continue;
        }
        pending.push((submission, fingerprint));
    }
    Ok(pending)
}

/// A submission whose criteria failed while others were graded beside it: they are checked
/// again alone, and that second look is final.
struct SecondLook {
    submission: Submission,
    fingerprint: String,
    meta: Meta,
    /// The report graded beside others.
    first: Report,
    /// The failed criteria a neighbour may have caused: (exercise folder, criterion id).
    doubtful: Vec<(String, String)>,
}

impl SecondLook {
    /// Checks the failed criteria again alone; the result replaces the first only where it
    /// graded what it looked at.
    async fn take(self, options: &Options, seed: u64) -> (Meta, Report) {
        let Self { submission, fingerprint, mut meta, mut first, doubtful } = self;
        let ids: Vec<String> = doubtful.iter().map(|(_, criterion)| criterion.clone()).collect();
        let doubtful_in: Vec<Exercise> = options
            .exercises
            .iter()
            .filter(|e| doubtful.iter().any(|(id, _)| *id == e.dir_name()))
            .copied()
            .collect();
        let (alone_meta, alone) = grade_submission(
            options,
            &doubtful_in,
            seed,
            Slot::FIRST,
            submission,
            fingerprint,
            &ids,
        )
        .await;
        if let (Outcome::Graded, Some(alone)) = (alone_meta.outcome, &alone) {
            first.take_second_look(alone);
        }
        meta.seconds += alone_meta.seconds;
        (meta, first)
    }
}

/// Writes one submission's results and the class files, and counts it: the progress line.
fn record(
    options: &Options,
    summary: &mut Summary,
    meta: &Meta,
    report: Option<&Report>,
) -> Result<String> {
    outputs::write_student(&options.out, meta, report)?;
    write_class_files(&options.out)?;
    Ok(match (&meta.outcome, report) {
        (Outcome::Error, _) => {
            summary.errors += 1;
            format!(
                "{}: grader error, will retry next run: {}",
                meta.student,
                meta.message.clone().unwrap_or_default()
            )
        }
        (outcome, Some(report)) => {
            summary.graded += 1;
            format!(
                "{}: {}/{} ({:?}, {:.0} s)",
                meta.student, report.score, report.max_score, outcome, meta.seconds
            )
        }
        (outcome, None) => format!("{}: {outcome:?}", meta.student),
    })
}

fn show_progress(bar: Option<&indicatif::ProgressBar>, done: usize, total: usize, line: String) {
    match bar {
        Some(bar) => {
            bar.set_message(line);
            bar.inc(1);
        }
        None => eprintln!("[{done}/{total}] {line}"),
    }
}

/// Moves aside the results of students no longer in the class folder, and says so.
fn set_aside_gone(options: &Options, class: &[Submission]) -> Result<()> {
    let everyone: Vec<String> = class.iter().map(|s| s.student.clone()).collect();
    let gone = outputs::set_aside_gone(&options.out, &everyone)?;
    if !gone.is_empty() {
        eprintln!(
            "batch: {} no longer in {} (moved to {}): {}",
            gone.len(),
            options.submissions.display(),
            options.out.join("gone").display(),
            gone.join(", ")
        );
    }
    Ok(())
}

/// Grades one submission within its time limit: every criterion of `exercises`, or only those
/// named in `only`, building in `slot`, which no other grading uses meanwhile. Never fails:
/// problems become its outcome.
async fn grade_submission(
    options: &Options,
    exercises: &[Exercise],
    seed: u64,
    slot: Slot,
    submission: Submission,
    fingerprint: String,
    only: &[String],
) -> (Meta, Option<Report>) {
    let started = Instant::now();
    // A note that lasts until the result is written: if this run is killed, the next one knows.
    if let Err(err) = outputs::start_attempt(&options.out, &submission.student, &fingerprint) {
        eprintln!("warning: {err:#}");
    }
    let mut meta = meta_of(&submission, fingerprint, Outcome::Graded, None);
    meta.uncontained = options.uncontained.clone();
    let unpacked = tempfile::Builder::new().prefix("grader-submission-").tempdir();
    let report = match (unpacked, &submission.kind) {
        (Err(err), _) => Err((Outcome::Error, format!("cannot create a work folder: {err}"))),
        (Ok(work), kind) => {
            let root = match kind {
                Kind::Folder => Ok(submission.source.clone()),
                Kind::Zip => extract::unzip(&submission.source, work.path(), Default::default())
                    .map(|()| work.path().to_owned()),
                Kind::TarGz => {
                    extract::untar_gz(&submission.source, work.path(), Default::default())
                        .map(|()| work.path().to_owned())
                }
            };
            let folder = root.map(|root| submissions::find_exercises(&root, exercises));
            // The unpacked folder goes when grading ends: similarity keeps its code now.
            let code = match &folder {
                Ok(Some(folder)) => Some(similarity::Code::read(folder, exercises)),
                _ => None,
            };
            if let Err(err) =
                similarity::keep_code(&options.out, &submission.student, code.as_ref())
            {
                eprintln!("warning: {}: similarity will leave it out: {err:#}", submission.student);
            }
            match folder {
                Err(refusal) => Err((Outcome::Invalid, refusal)),
                Ok(None) => Err((
                    Outcome::Invalid,
                    "no exercises folder (with folders such as 01-redis-setup) in the \
                     submission: zip the whole workbook folder, with exercises/ in it, and \
                     submit again"
                        .to_owned(),
                )),
                Ok(Some(folder)) => {
                    grade_folder(options, exercises, seed, slot, &folder, only).await
                }
            }
        }
    };
    meta.seconds = started.elapsed().as_secs_f64();
    match report {
        Ok((outcome, report)) => {
            meta.outcome = outcome;
            (meta, Some(report))
        }
        Err((Outcome::Invalid, reason)) => {
            match whole_submission_failed(seed, exercises, NotGraded::Invalid, &reason) {
                Ok(report) => {
                    meta.outcome = Outcome::Invalid;
                    meta.message = Some(reason);
                    (meta, Some(report))
                }
                Err(err) => {
                    meta.outcome = Outcome::Error;
                    meta.message = Some(format!("{err:#}"));
                    (meta, None)
                }
            }
        }
        Err((outcome, reason)) => {
            meta.outcome = outcome;
            meta.message = Some(reason);
            (meta, None)
        }
    }
}

fn meta_of(
    submission: &Submission,
    fingerprint: String,
    outcome: Outcome,
    message: Option<String>,
) -> Meta {
    Meta {
        student: submission.student.clone(),
        name: submission.name.clone(),
        lms_id: submission.lms_id.clone(),
        lms: submission.lms,
        sis_id: submission.sis_id.clone(),
        email: submission.email.clone(),
        late: submission.late,
        superseded: submission.superseded.clone(),
        attachments: submission.attachments.clone(),
        source: submission.label.clone(),
        fingerprint,
        uncontained: Vec::new(),
        outcome,
        seconds: 0.0,
        message,
    }
}

/// Grades a folder of exercises under the time limit; on time-out, keeps what was finished.
async fn grade_folder(
    options: &Options,
    exercises: &[Exercise],
    seed: u64,
    slot: Slot,
    folder: &Path,
    only: &[String],
) -> Result<(Outcome, Report), (Outcome, String)> {
    let grading = grade::Options {
        submission: folder.to_owned(),
        exercises: exercises.to_vec(),
        seed,
        redis_url: None,
        database_url: None,
        build_timeout: options.build_timeout.min(SUBMISSION_BUILD_LIMIT),
        check_timeout: Duration::from_secs(90),
        progress: false,
        lock_waits: LockWaits::default(),
        only: only.to_vec(),
        // Other people's code: built apart from the instructor's own builds.
        build_folder: BuildFolder::Private(slot),
    };
    let so_far = Arc::new(Mutex::new(GradedSoFar::default()));
    // Time spent waiting for another submission's build is the grader's, not this student's.
    let outcome = crate::fs::within_limit(
        options.timeout,
        &grading.lock_waits,
        grade::run_recording(&grading, &so_far),
    )
    .await
    .ok_or(());
    let mut so_far = std::mem::take(&mut *so_far.lock().unwrap_or_else(|p| p.into_inner()));
    match outcome {
        Ok(Ok(())) => Ok((Outcome::Graded, so_far.into_report(seed))),
        Ok(Err(err)) => Err((Outcome::Error, format!("{err:#}"))),
        Err(_) => {
            let reason = format!(
                "grading took longer than the {} s allowed per submission",
                options.timeout.as_secs()
            );
            let done = &mut so_far.exercises;
            let unfinished: Vec<Exercise> = exercises
                .iter()
                .filter(|e| !done.iter().any(|d| d.id == e.dir_name()))
                .copied()
                .collect();
            let not_graded = none_graded(&unfinished, NotGraded::TimedOut, &reason)
                .map_err(|err| (Outcome::Error, format!("{err:#}")))?;
            done.extend(not_graded);
            Ok((Outcome::TimedOut, so_far.into_report(seed)))
        }
    }
}

/// A report in which no exercise was graded, for a submission that could not be read.
fn whole_submission_failed(
    seed: u64,
    exercises: &[Exercise],
    why: NotGraded,
    reason: &str,
) -> Result<Report> {
    Ok(Report::new(seed, "none".to_owned(), none_graded(exercises, why, reason)?))
}

/// Every criterion of `exercises` failed, for `reason`, `why` they were not graded.
fn none_graded(
    exercises: &[Exercise],
    why: NotGraded,
    reason: &str,
) -> Result<Vec<ExerciseReport>> {
    let specs = criteria::registry();
    exercises
        .iter()
        .map(|exercise| {
            let spec = criteria::spec_of(&specs, exercise)?;
            Ok(grade::not_graded(exercise, spec, why, reason.to_owned()))
        })
        .collect()
}

/// Rewrites `gradebook.csv`, the LMS imports and `report.html` from every student result in
/// `out`.
fn write_class_files(out: &Path) -> Result<()> {
    let students = outputs::load_students(out);
    // The columns are the exercises the results hold, in checklist order.
    let mut ids: Vec<String> = students
        .iter()
        .flat_map(|(_, report)| {
            report.iter().flat_map(|r| r.exercises.iter().map(|e| e.id.clone()))
        })
        .collect();
    ids.sort();
    ids.dedup();
    write_atomically(&out.join("gradebook.csv"), &outputs::gradebook(&students, &ids)?)?;
    write_atomically(&out.join("canvas-import.csv"), &outputs::canvas_import(&students)?)?;
    let moodle = outputs::moodle_import(&students, SystemTime::now())?;
    write_atomically(&out.join("moodle-grades.csv"), &moodle)?;
    let info = run_info::load(out);
    let run = html::Provenance {
        seed: info.as_ref().map(|info| info.seed),
        workbook: info.and_then(|info| info.workbook),
        generated: httpdate::fmt_http_date(std::time::SystemTime::now()),
    };
    let similarity = similarity::load(out);
    let page = html::render(&students, &run, similarity.as_ref());
    write_atomically(&out.join("report.html"), page.as_bytes())
}

/// Compares the class (see [`similarity`]) and says what it found; then `report.html`, written
/// next, shows it.
fn write_similarity(out: &Path) -> Result<()> {
    let started = Instant::now();
    let findings = similarity::write_class_files(out)?;
    let worth = findings.pairs.iter().filter(|pair| pair.worth_a_look()).count();
    eprintln!(
        "similarity: {} submissions compared in {:.1} s: {worth} pairs worth a look, {} mostly \
         the reference solution (report.html, similarity.csv)",
        findings.compared,
        started.elapsed().as_secs_f64(),
        findings.reference.len()
    );
    Ok(())
}

/// What `grader merge` did.
#[derive(Debug)]
pub struct Merged {
    pub students: usize,
    /// Students found in more than one part (overlapping shards): counted once.
    pub duplicates: usize,
}

/// `grader merge`: joins the outputs of shards into one, refusing parts graded with another
/// seed or another workbook. A student in several parts is taken once: the result graded
/// last wins.
pub fn merge(parts: &[PathBuf], out: &Path) -> Result<Merged> {
    let mut info: Option<(RunInfo, PathBuf)> = run_info::load(out).map(|i| (i, out.to_owned()));
    for part in parts {
        let theirs = run_info::load(part).with_context(|| {
            format!("{} has no batch.json: is it the output of `grader batch`?", part.display())
        })?;
        match &info {
            Some((ours, first)) if ours.seed != theirs.seed => bail!(
                "{} was graded with seed {} but {} with seed {}: grade every shard with the \
                 same --seed",
                part.display(),
                theirs.seed,
                first.display(),
                ours.seed
            ),
            Some((ours, first)) if ours.workbook != theirs.workbook => bail!(
                "{} was graded with workbook {} but {} with {}: grade every shard with the \
                 same grader",
                part.display(),
                theirs.workbook.as_deref().unwrap_or("unknown"),
                first.display(),
                ours.workbook.as_deref().unwrap_or("unknown")
            ),
            Some(_) => {}
            None => info = Some((theirs, part.clone())),
        }
    }
    let Some((info, _)) = info else { bail!("nothing to merge") };
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    run_info::save(out, &info)?;
    // The latest result of each student, across the parts.
    let mut chosen: BTreeMap<String, (SystemTime, PathBuf)> = BTreeMap::new();
    let mut seen = 0;
    for part in parts {
        let students = part.join("students");
        let entries = std::fs::read_dir(&students).with_context(|| {
            format!("{} has no students folder: is it a batch output?", part.display())
        })?;
        for entry in entries.filter_map(|entry| entry.ok()) {
            let meta = entry.path().join("meta.json");
            let Ok(graded) = std::fs::metadata(&meta).and_then(|m| m.modified()) else {
                continue;
            };
            seen += 1;
            let student = entry.file_name().to_string_lossy().into_owned();
            if chosen.get(&student).is_none_or(|(time, _)| graded > *time) {
                chosen.insert(student, (graded, entry.path()));
            }
        }
    }
    for (student, (_, from)) in &chosen {
        let target = out.join("students").join(student);
        std::fs::create_dir_all(&target)?;
        for file in std::fs::read_dir(from)?.filter_map(|file| file.ok()) {
            write_atomically(&target.join(file.file_name()), &std::fs::read(file.path())?)?;
        }
    }
    write_similarity(out)?;
    write_class_files(out)?;
    Ok(Merged { students: chosen.len(), duplicates: seen - chosen.len() })
}

/// One seed per class, kept in `OUT/batch.json`, so that a resumed batch grades everybody
/// alike: the one asked for, else the one this folder was graded with, else for a shard one
/// derived from the class folder (every machine derives the same), else a new one.
fn class_seed(out: &Path, asked: Option<u64>, sharded: bool, class: &[Submission]) -> Result<u64> {
    let remembered = run_info::load(out);
    let seed = match (asked, &remembered) {
        (Some(seed), Some(info)) if seed != info.seed => {
            eprintln!(
                "batch: seed {seed}, not the {} {} was graded with: every submission is graded \
                 again",
                info.seed,
                out.display()
            );
            seed
        }
        (Some(seed), _) => seed,
        (None, Some(info)) => info.seed,
        (None, None) if sharded => {
            let seed = seed_of_class(class);
            eprintln!(
                "batch: seed {seed}, derived from the class folder so every shard uses it \
                 (--seed chooses another)"
            );
            seed
        }
        (None, None) => crate::grade::random_seed(),
    };
    let workbook = run_info::workbook_commit();
    if let Some(info) = &remembered
        && info.workbook.is_some()
        && info.workbook != workbook
    {
        eprintln!(
            "warning: {} was graded with workbook {}, this grader is {}",
            out.display(),
            info.workbook.as_deref().unwrap_or_default(),
            workbook.as_deref().unwrap_or("unknown")
        );
    }
    run_info::save(out, &RunInfo { seed, workbook })?;
    Ok(seed)
}

/// A seed from the names of the class folder's entries: the same on every machine.
fn seed_of_class(class: &[Submission]) -> u64 {
    let mut hash = Sha256::new();
    for submission in class {
        hash.update(submission.label.as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 has 32 bytes")) % 1_000_000_000
}

fn already_graded(out: &Path, student: &str, fingerprint: &str) -> bool {
    let dir = meta::student_dir(out, student);
    let meta: Option<Meta> = std::fs::read(dir.join("meta.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    meta.is_some_and(|meta| meta.fingerprint == fingerprint && meta.outcome != Outcome::Error)
}

/// The submission's content, hashed: an archive's bytes, or a folder's exercise sources.
fn fingerprint(submission: &Submission, exercises: &[Exercise], grader: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(grader.as_bytes());
    match submission.kind {
        Kind::Zip | Kind::TarGz => {
            hash.update(std::fs::read(&submission.source).unwrap_or_default())
        }
        Kind::Folder => {
            let root =
                submissions::find_exercises(&submission.source, exercises).unwrap_or_default();
            let mut files = Vec::new();
            collect(&root, &mut files);
            files.sort();
            for file in files {
                hash.update(file.strip_prefix(&root).unwrap_or(&file).to_string_lossy().as_bytes());
                hash.update(std::fs::read(&file).unwrap_or_default());
            }
        }
    }
    hex(&hash.finalize())
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.filter_map(|entry| entry.ok()) {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() && entry.file_name() != "target" => collect(&path, files),
            Ok(kind) if kind.is_file() => files.push(path),
            _ => {}
        }
    }
}

/// The grader's criteria, hashed: changing a criterion makes every submission stale.
fn grader_fingerprint(exercises: &[Exercise]) -> String {
    let mut hash = Sha256::new();
    hash.update(env!("CARGO_PKG_VERSION"));
    for spec in criteria::registry().iter().filter(|spec| exercises.contains(&spec.exercise)) {
        for criterion in &spec.criteria {
            hash.update(format!(
                "{}/{}/{}/{}\n",
                spec.exercise.slug, criterion.id, criterion.points, criterion.title
            ));
        }
    }
    hex(&hash.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn progress_bar(total: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} · {elapsed} · {msg}")
            .expect("a valid template"),
    );
    Some(bar)
}

/// The class's cost: wall time per graded submission at the `-j` used. Invalid submissions
/// (refused in a moment) and grader errors are left out, so they do not flatter the figure.
fn report_costs(durations: &[(Outcome, f64)], total: Duration, jobs: usize) {
    if let Some(line) = cost_line(durations, total, jobs) {
        eprintln!("{line}");
    }
}

fn cost_line(durations: &[(Outcome, f64)], total: Duration, jobs: usize) -> Option<String> {
    let graded = durations
        .iter()
        .filter(|(outcome, _)| matches!(outcome, Outcome::Graded | Outcome::TimedOut))
        .count();
    if graded == 0 {
        return None;
    }
    let left_out = durations.len() - graded;
    Some(format!(
        "graded {graded} submissions in {:.0} s with -j {jobs}: {:.1} s of wall time per \
         submission ({left_out} invalid or failed left out)",
        total.as_secs_f64(),
        total.as_secs_f64() / graded as f64
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grader error (such as a fault while starting a service: `grade::tests`) is no grade:
    /// the next run grades the submission again, while a graded one that did not change is
    /// left as it was.
    #[test]
    fn a_grader_error_is_graded_again_by_the_next_run() {
        let out = tempfile::tempdir().unwrap();
        let folder = meta::student_dir(out.path(), "ada");
        std::fs::create_dir_all(&folder).unwrap();
        for (outcome, graded_again) in [(Outcome::Error, true), (Outcome::Graded, false)] {
            let meta =
                Meta { fingerprint: "unchanged".to_owned(), ..Meta::example("ada", outcome) };
            std::fs::write(folder.join("meta.json"), serde_json::to_vec(&meta).unwrap()).unwrap();
            let skipped = already_graded(out.path(), "ada", "unchanged");
            assert_eq!(!skipped, graded_again, "{outcome:?}");
        }
    }

    #[test]
    fn the_cost_is_wall_time_per_graded_submission() {
        let durations = [
            (Outcome::Invalid, 0.01),
            (Outcome::Graded, 40.0),
            (Outcome::Graded, 30.0),
            (Outcome::TimedOut, 60.0),
            (Outcome::Error, 1.0),
        ];
        let line = cost_line(&durations, Duration::from_secs(90), 2).unwrap();
        assert_eq!(
            line,
            "graded 3 submissions in 90 s with -j 2: 30.0 s of wall time per submission \
             (2 invalid or failed left out)"
        );
        assert_eq!(cost_line(&durations[..1], Duration::from_secs(1), 2), None);
    }

    fn part(seed: u64, workbook: &str, students: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let info = RunInfo { seed, workbook: Some(workbook.to_owned()) };
        run_info::save(dir.path(), &info).unwrap();
        for student in students {
            let meta = Meta {
                message: Some("no exercises folder".to_owned()),
                ..Meta::example(student, Outcome::Invalid)
            };
            outputs::write_student(dir.path(), &meta, None).unwrap();
        }
        dir
    }

    #[test]
    fn merging_refuses_other_workbooks_and_counts_each_student_once() {
        let (a, b) = (part(3, "abc", &["ann", "bo"]), part(3, "abc", &["bo", "cy"]));
        let out = tempfile::tempdir().unwrap();
        let merged = merge(&[a.path().to_owned(), b.path().to_owned()], out.path()).unwrap();
        assert_eq!((merged.students, merged.duplicates), (3, 1));
        assert_eq!(run_info::load(out.path()).unwrap().seed, 3);

        let other = part(3, "def", &["dan"]);
        let refused = merge(&[a.path().to_owned(), other.path().to_owned()], out.path());
        let message = format!("{:#}", refused.unwrap_err());
        assert!(message.contains("workbook def") && message.contains("same grader"), "{message}");
    }

    #[test]
    fn the_default_jobs_fit_cores_and_memory() {
        let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
        let jobs = default_jobs();
        assert!((1..=cores).contains(&jobs), "{jobs} of {cores} cores");
        if let Some(memory) = total_memory() {
            assert!(jobs as u64 <= (memory / MEMORY_PER_JOB).max(1), "{jobs} jobs in {memory} B");
        }
    }
}
