//! The command line: parses the arguments and maps every command onto the library, with one
//! mapping from outcomes to exit codes ([`exit_code`]).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::book::{preprocessor, tables};
use crate::course;
use crate::report::scorecard;
use crate::run::compile::{self, BuildFolder, Slot};
use crate::run::containment;
use crate::student::progress::StateDir;
use crate::student::{checklist, reset, watch};
use crate::{batch, grade};

/// Grades the Caching & Performance workbook: builds each exercise, runs it against a private
/// Redis, probes it over HTTP and prints a scorecard.
#[derive(Parser, Debug)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// One exercise to grade, by number or name (`1`, `redis-setup`); all when omitted.
    exercise: Option<String>,

    /// The folder of exercises to grade (e.g. `solutions`); default: the workbook's `exercises`.
    #[arg(long, value_name = "DIR")]
    path: Option<PathBuf>,

    /// How to print the results.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Replay the randomised settings and data of an earlier run.
    #[arg(long)]
    seed: Option<u64>,

    /// Use this Redis instead of starting a private one (keys stay under the run's prefix;
    /// the outage criteria need a private Redis).
    #[arg(long, env = "REDIS_URL", value_name = "URL")]
    redis_url: Option<String>,

    /// Give each service a database of its own on this PostgreSQL server (an admin URL, e.g.
    /// postgres://postgres@127.0.0.1:5432/postgres) instead of a SQLite file.
    #[arg(long, env = "GRADER_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,

    /// The longest a build may take, in seconds (the first one compiles every dependency). A
    /// batch compiles the dependencies first, then gives each submission's build at most 300.
    #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
    build_timeout: u64,

    /// Check only this criterion (by id, e.g. `survives-outage`; repeat for more): a quick
    /// second look at one failure. Such a partial run is not recorded as your progress.
    #[arg(long = "only", value_name = "CRITERION")]
    only: Vec<String>,

    /// Grade again on every save: EXERCISE, or whichever you edit (starting with your next
    /// one). Enter grades again, q then Enter quits.
    #[arg(long, conflicts_with = "format")]
    watch: bool,

    /// Grade without any containment (bubblewrap, run users, a network of its own, cgroups,
    /// a disk of its own): your own code only, to measure what the containment costs (the
    /// bench does). It cannot be given to `batch` or `gradescope`.
    #[arg(long)]
    without_containment: bool,

    #[command(flatten)]
    state: StateArg,
}

/// Where a student's progress lives: for grading, `list` and `reset`, not for a class.
#[derive(Args, Debug, Clone, Default)]
struct StateArg {
    /// Where the grader keeps your progress and the copies `reset` makes
    /// [default: target/grader].
    #[arg(long, env = "GRADER_STATE", value_name = "DIR")]
    state: Option<PathBuf>,
}

/// What `grader batch` is given.
#[derive(Args, Debug)]
struct BatchArgs {
    /// The folder of submissions: a Canvas, Moodle (flat or in folders) or Gradescope
    /// export, or a folder or archive per student.
    submissions: PathBuf,
    /// Where to write the gradebook, the report and each student's results.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// How many submissions to grade at once. The default is this machine's cores, at most
    /// one per 1.5 GiB of memory (a build and a service at their peak).
    #[arg(short, long, default_value_t = batch::default_jobs())]
    jobs: usize,
    /// Grade again submissions that have not changed since the last run.
    #[arg(long)]
    regrade: bool,
    /// Grade only share I of N of the class (e.g. `1/3`), for spreading a class over
    /// machines; join the outputs with `grader merge`. Without it, a Slurm job array
    /// (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job
    /// (JOB_COMPLETION_INDEX with GRADER_SHARD_COUNT) names the shard. Every shard uses
    /// one seed: --seed, or one derived from the class folder.
    #[arg(long, value_name = "I/N", value_parser = parse_shard, env = "GRADER_SHARD")]
    shard: Option<(usize, usize)>,
    /// The seed of the randomised settings, the same for the whole class (default: the one
    /// this output folder was graded with; for a shard, one derived from the class folder;
    /// else a new one).
    #[arg(long)]
    seed: Option<u64>,
    /// The most one submission may take, in seconds, builds included.
    #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
    timeout: u64,
    /// Grade only this exercise (by number or name); all when omitted.
    #[arg(long)]
    exercise: Option<String>,
    /// Grade even where students' code cannot be contained (no bubblewrap, macOS, or Linux
    /// without root): only for submissions you trust.
    #[arg(long)]
    allow_unsandboxed: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Grade a class: every submission in a folder (folders, .zip or .tar.gz files).
    Batch(BatchArgs),
    /// Print the criteria the grader checks, with their points (for the book and course tools).
    Criteria {
        /// One exercise, by number or name; all when omitted.
        exercise: Option<String>,
        /// `json` or `markdown`.
        #[arg(long, value_enum, default_value_t = CatalogFormat::Markdown)]
        format: CatalogFormat,
    },
    /// The exercises, their lesson and exercise page in the book, and your last scores.
    List {
        /// Show this exercise's criteria and how each fared the last time.
        exercise: Option<String>,
        #[command(flatten)]
        state: StateArg,
    },
    /// Put one exercise back to its starter (your files are copied aside first).
    Reset {
        /// The exercise, by number or name.
        exercise: String,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
        /// Take the starter from this git commit instead of the one you started from.
        #[arg(long, value_name = "COMMIT")]
        from: Option<String>,
        /// The folder of exercises; default: the workbook's `exercises`.
        #[arg(long, value_name = "DIR")]
        path: Option<PathBuf>,
        #[command(flatten)]
        state: StateArg,
    },
    /// For mdBook (see book/book.toml): fills the book's criteria tables and submission
    /// checklist from the registry.
    MdbookPreprocessor {
        #[command(subcommand)]
        question: Option<PreprocessorQuestion>,
    },
    /// Write Gradescope's autograder into DIR: setup.sh, run_autograder and the workbook, to
    /// zip and upload as the assignment's autograder.
    GradescopeBundle {
        /// The folder to write (created if missing).
        dir: PathBuf,
        /// Grade only this exercise (by number or name); all when omitted.
        #[arg(long)]
        exercise: Option<String>,
        /// Let run_autograder grade even where the grader is not root (it grades without
        /// bubblewrap or a network of its own anyway: each Gradescope submission has a
        /// container of its own, and results.json says what was missing).
        #[arg(long)]
        allow_unsandboxed: bool,
    },
    /// Grade a Gradescope submission (what run_autograder calls): ROOT/submission into
    /// ROOT/results/results.json.
    Gradescope {
        /// Gradescope's folder.
        #[arg(long, env = "GRADESCOPE_ROOT", default_value = "/autograder", value_name = "DIR")]
        root: PathBuf,
        /// Grade only this exercise (by number or name); all when omitted.
        #[arg(long)]
        exercise: Option<String>,
        /// The seed of the randomised settings (default: a new one, shown in the results).
        #[arg(long)]
        seed: Option<u64>,
        /// The most the submission may take, in seconds, builds included.
        #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
        timeout: u64,
        /// Grade even where the grader is not root, so the student's code runs as the
        /// grader's own user (without root, bubblewrap or a network of its own, the grading
        /// goes ahead and results.json says what was missing).
        #[arg(long)]
        allow_unsandboxed: bool,
    },
    /// Compile the exercises' dependencies into the folder `batch` and `gradescope` build in,
    /// from the workbook's own code: once, e.g. while a container image is made (Gradescope's
    /// setup.sh), so that no submission waits for it. `batch` does it itself first.
    WarmUp,
    /// Join the outputs of `grader batch --shard` runs into one gradebook and report.
    Merge {
        /// The output folders of the shards.
        #[arg(required = true)]
        parts: Vec<PathBuf>,
        /// Where to write the merged gradebook, report and students' results.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// What mdBook asks a preprocessor before it runs it.
#[derive(Subcommand, Debug)]
enum PreprocessorQuestion {
    /// Whether it works with this renderer: yes, with every one (it writes plain Markdown).
    Supports { renderer: String },
}

/// Parses `I/N` (1-based `I`) into a 0-based shard index and the shard count.
fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let (index, count) = text.split_once('/').ok_or("expected I/N, e.g. 1/3")?;
    let index: usize = index.parse().map_err(|_| "I must be a number")?;
    let count: usize = count.parse().map_err(|_| "N must be a number")?;
    if index == 0 || index > count {
        return Err(format!("I must be between 1 and {count}"));
    }
    Ok((index - 1, count))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum CatalogFormat {
    Json,
    Markdown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A scorecard for people.
    Text,
    /// One JSON document on stdout.
    Json,
}

/// Exit codes: every criterion passed, some failed, or grading could not run.
const ALL_PASSED: u8 = 0;
const SOME_FAILED: u8 = 1;
const GRADING_FAILED: u8 = 2;

/// Runs the grader's command line and says how it ended: 0 every criterion passed (or the
/// command did what it was asked), 1 some failed, 2 grading could not run.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            let help = matches!(
                err.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            );
            return ExitCode::from(if help { ALL_PASSED } else { GRADING_FAILED });
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => return exit_code(Err(anyhow::Error::new(err).context("cannot start tokio"))),
    };
    runtime.block_on(async {
        // Ctrl-C drops the grading future, and with it every process and folder it owns.
        tokio::select! {
            outcome = run(&cli) => exit_code(outcome),
            _ = tokio::signal::ctrl_c() => {
                eprintln!("interrupted: stopped every process the grader started");
                ExitCode::from(130)
            }
        }
    })
}

/// `grader batch`: grades every submission of a class.
async fn grade_class(args: &BatchArgs, build_timeout: u64) -> anyhow::Result<ExitCode> {
    let BatchArgs {
        submissions,
        out,
        jobs,
        regrade,
        shard,
        seed,
        timeout,
        exercise,
        allow_unsandboxed,
    } = args;
    let uncontained = containment::missing();
    containment::check_batch(&uncontained, *allow_unsandboxed)?;
    let shard = match shard {
        Some(shard) => Some(*shard),
        None => batch::shard::from_scheduler(|name| std::env::var(name).ok())?,
    };
    let options = batch::Options {
        exercises: course::select(exercise.as_deref())?,
        submissions: submissions.clone(),
        out: out.clone(),
        jobs: *jobs,
        regrade: *regrade,
        shard,
        seed: *seed,
        timeout: Duration::from_secs(*timeout),
        build_timeout: Duration::from_secs(build_timeout),
        uncontained,
    };
    let summary = batch::run(&options).await?;
    if summary.errors == 0 {
        return Ok(ExitCode::from(ALL_PASSED));
    }
    eprintln!(
        "{} submissions could not be graded; run the batch again to retry them",
        summary.errors
    );
    Ok(ExitCode::from(SOME_FAILED))
}

/// The exit code of a command, or 2 with its error.
fn exit_code(outcome: anyhow::Result<ExitCode>) -> ExitCode {
    outcome.unwrap_or_else(|err| {
        eprintln!("error: {err:#}");
        ExitCode::from(GRADING_FAILED)
    })
}

async fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    // A grading option: the command line refuses it beside `batch` or `gradescope`.
    if cli.without_containment {
        crate::run::turn_containment_off();
    }
    match &cli.command {
        Some(Command::Batch(args)) => grade_class(args, cli.build_timeout).await,
        Some(Command::GradescopeBundle { dir, exercise, allow_unsandboxed }) => {
            course::select(exercise.as_deref())?;
            batch::gradescope::bundle(dir, exercise.as_deref(), *allow_unsandboxed)?;
            eprintln!(
                "wrote {}: zip its contents (setup.sh, run_autograder, workbook/) and upload the \
                 zip as the assignment's autograder",
                dir.display()
            );
            Ok(ExitCode::from(ALL_PASSED))
        }
        Some(Command::Gradescope { root, exercise, seed, timeout, allow_unsandboxed }) => {
            let uncontained = containment::missing();
            containment::check_single_submission(*allow_unsandboxed)?;
            let outcome = batch::gradescope::grade(
                root,
                &course::select(exercise.as_deref())?,
                seed.unwrap_or_else(grade::random_seed),
                Duration::from_secs(*timeout),
                Duration::from_secs(cli.build_timeout),
                uncontained,
            )
            .await?;
            eprintln!("wrote {}", root.join("results/results.json").display());
            let failed = outcome == batch::meta::Outcome::Error;
            Ok(ExitCode::from(if failed { SOME_FAILED } else { ALL_PASSED }))
        }
        Some(Command::WarmUp) => {
            let waits = crate::fs::LockWaits::default();
            let timeout = Duration::from_secs(cli.build_timeout);
            crate::grade::warm_up(BuildFolder::Private(Slot::FIRST), timeout, &waits).await?;
            eprintln!(
                "the exercises' dependencies and the reference solutions are compiled in {}",
                compile::grader_dir().display()
            );
            Ok(ExitCode::from(ALL_PASSED))
        }
        Some(Command::Criteria { exercise, format }) => {
            let exercises = course::select(exercise.as_deref())?;
            match format {
                CatalogFormat::Json => println!("{:#}", tables::json(&exercises)),
                CatalogFormat::Markdown => print!("{}", tables::markdown(&exercises)),
            }
            Ok(ExitCode::from(ALL_PASSED))
        }
        Some(Command::Merge { parts, out }) => {
            let merged = batch::merge(parts, out)?;
            eprintln!(
                "merged {} students into {} ({} found in more than one part, counted once)",
                merged.students,
                out.display(),
                merged.duplicates
            );
            Ok(ExitCode::from(ALL_PASSED))
        }
        Some(Command::MdbookPreprocessor {
            question: Some(PreprocessorQuestion::Supports { .. }),
        }) => Ok(ExitCode::from(ALL_PASSED)),
        Some(Command::MdbookPreprocessor { question: None }) => {
            preprocessor::run()?;
            Ok(ExitCode::from(ALL_PASSED))
        }
        Some(Command::List { exercise, state }) => list_exercises(state, exercise.as_deref()),
        Some(Command::Reset { exercise, yes, from, path, state }) => {
            reset_exercise(state, exercise, *yes, from.clone(), path.clone())
        }
        None => grade_exercises(cli).await,
    }
}

/// `grader [EXERCISE]`, and `grader --watch`.
async fn grade_exercises(cli: &Cli) -> anyhow::Result<ExitCode> {
    let options = grading_options(cli)?;
    // A partial run says nothing about the exercise as a whole: progress is left as it was.
    let state = (own_exercises(&options.submission) && options.only.is_empty())
        .then(|| state_dir(&cli.state));
    if cli.watch {
        return watch_exercises(cli, &options, state).await;
    }
    let report = grade::run(&options).await?;
    if let Some(state) = &state
        && let Err(err) = state.record(&report.exercises)
    {
        eprintln!("warning: could not save your progress: {err:#}");
    }
    match cli.format {
        Format::Json => {
            println!("{}", serde_json::to_string_pretty(&report).expect("a report serialises"))
        }
        Format::Text => {
            print!("{}", scorecard::render(&report, owo_colors::Stream::Stdout));
            if let Some(state) = &state {
                checklist::print(state, &options.exercises);
            }
        }
    }
    Ok(ExitCode::from(if report.all_passed() { ALL_PASSED } else { SOME_FAILED }))
}

fn grading_options(cli: &Cli) -> anyhow::Result<grade::Options> {
    let exercises = course::select(cli.exercise.as_deref())?;
    grade::check_only(&exercises, &cli.only)?;
    Ok(grade::Options {
        submission: cli.path.clone().unwrap_or_else(exercises_dir),
        exercises,
        seed: cli.seed.unwrap_or_else(grade::random_seed),
        redis_url: cli.redis_url.clone().filter(|url| !url.is_empty()),
        database_url: cli.database_url.clone().filter(|url| !url.is_empty()),
        build_timeout: Duration::from_secs(cli.build_timeout),
        check_timeout: Duration::from_secs(90),
        progress: true,
        lock_waits: Default::default(),
        only: cli.only.clone(),
        // One's own work: built where `cargo run -p grader` built the dependencies.
        build_folder: BuildFolder::Workspace,
    })
}

/// The student's own exercises: the workbook's `exercises/` folder.
fn exercises_dir() -> PathBuf {
    course::root().join("exercises")
}

/// Whether `dir` is the student's own exercises, whose grades are their progress.
fn own_exercises(dir: &std::path::Path) -> bool {
    match (dir.canonicalize(), exercises_dir().canonicalize()) {
        (Ok(dir), Ok(own)) => dir == own,
        _ => false,
    }
}

fn state_dir(arg: &StateArg) -> StateDir {
    StateDir(arg.state.clone().unwrap_or_else(compile::grader_dir))
}

/// `grader --watch`: 0 when the student quits.
async fn watch_exercises(
    cli: &Cli,
    options: &grade::Options,
    state: Option<StateDir>,
) -> anyhow::Result<ExitCode> {
    // Without an exercise named, every exercise is watched, starting with the next to do.
    let next = match (&cli.exercise, &state) {
        (None, Some(state)) => checklist::next_exercise(&checklist::rows(&state.load()?)),
        _ => None,
    };
    let first = next
        .filter(|exercise| options.exercises.contains(exercise))
        .or_else(|| options.exercises.first().cloned())
        .context("there is no exercise to watch")?;
    watch::run(watch::Options { grading: options, first, state }).await?;
    Ok(ExitCode::from(ALL_PASSED))
}

/// `grader list [EXERCISE]`.
fn list_exercises(state: &StateArg, exercise: Option<&str>) -> anyhow::Result<ExitCode> {
    let detail = match exercise {
        Some(wanted) => course::select(Some(wanted))?.pop(),
        None => None,
    };
    let progress = state_dir(state).load()?;
    print!("{}", checklist::render_list(&checklist::rows(&progress), detail.as_ref()));
    Ok(ExitCode::from(ALL_PASSED))
}

/// `grader reset EXERCISE`: 0 when reset, 1 when the student said no.
fn reset_exercise(
    state: &StateArg,
    exercise: &str,
    yes: bool,
    from: Option<String>,
    path: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let state = state_dir(state);
    let options = reset::Options {
        exercises_dir: path.unwrap_or_else(exercises_dir),
        exercise: course::select(Some(exercise))?.remove(0),
        from,
        yes,
        backups: state.backups(),
    };
    match reset::run(&options, &mut std::io::stdin().lock(), &mut std::io::stdout())? {
        reset::Ending::Reset => {
            // The last grade described code that is gone.
            if own_exercises(&options.exercises_dir)
                && let Err(err) = state.forget(&options.exercise.dir_name())
            {
                eprintln!("warning: could not update your progress: {err:#}");
            }
            Ok(ExitCode::from(ALL_PASSED))
        }
        reset::Ending::Declined => Ok(ExitCode::from(SOME_FAILED)),
    }
}
