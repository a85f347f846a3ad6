//! `cargo run --release -p bench`: the reference solutions against the seed's Django stack
//! and the machine's limits, and the grader's own cost, measured side by side in one run and
//! printed as one Markdown report.
//!
//! Run on demand, never by `cargo test`: it loads the machine for minutes. Only ratios within
//! one run mean anything; the header says how busy the machine was.

mod cargo;
mod class;
mod django;
mod first_scorecard;
mod fixed;
mod grading;
mod load;
// `unsafe` only where the OS is called: this module reads the load average through libc.
#[allow(unsafe_code)]
mod machine;
mod one_get;
mod private_redis;
// `unsafe` only where the OS is called: this module signals process groups through libc.
#[allow(unsafe_code)]
mod processes;
mod redis_benchmark;
mod serving;
mod similarity;
mod solutions;
mod table;
mod watch;
mod wrk;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;

use crate::class::Mix;
use crate::machine::Machine;
use crate::table::GraderCost;

/// Measures the reference solutions against the Django peer and the machine's limits (wrk,
/// redis-benchmark), and the grader's own cost, and prints one report.
#[derive(Parser, Debug)]
#[command(about)]
struct Cli {
    /// Open connections, for wrk and redis-benchmark alike.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds of load on each server.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// How many times each page's servers are loaded in turn; each row is the median of its
    /// rounds, so that a burst of other work on a shared machine skews no single server.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Tasks in every server's database (the Django peer's default is 1000).
    #[arg(long, default_value_t = 1000)]
    tasks: usize,
    /// Leave the Django peer out (it lives in the project's shared folder: WORKBOOK_SHARED,
    /// default ../shared next to the workbook).
    #[arg(long)]
    no_django: bool,
    /// Leave the grader's cost out.
    #[arg(long, conflicts_with_all = ["only_grading", "only_similarity"])]
    no_grading: bool,
    /// Measure only the grader's cost: no servers, no Django, no wrk or redis-benchmark.
    #[arg(long)]
    only_grading: bool,
    /// Measure only the class similarity check (seconds, no servers, no grading).
    #[arg(long, conflicts_with = "only_grading")]
    only_similarity: bool,
    /// Submissions in the generated class whose similarity is timed (the reference solutions
    /// of every exercise, renamed and reordered at random); 0 leaves it out.
    #[arg(long, default_value_t = 500)]
    similarity_class_size: usize,
    /// Also time a new student's first scorecard: `cargo run -p grader -- 1` in a fresh clone
    /// of the workbook's HEAD, every dependency compiled (many minutes), then a re-grade after
    /// an edit. The clone is deleted afterwards.
    #[arg(long)]
    first_scorecard: bool,
    /// Also time `grader --watch` after a save, for each exercise: the build, the first
    /// verdict and the whole scorecard (a minute or two per exercise).
    #[arg(long)]
    watch: bool,
    /// Measure only `--watch` after a save (see `--watch`): no servers, no other grading.
    #[arg(long, conflicts_with_all = ["only_grading", "only_similarity", "no_grading"])]
    only_watch: bool,
    /// The exercise graded for the grader's cost, by number.
    #[arg(long, default_value_t = 2)]
    exercise: u32,
    /// Submissions in the generated class of one exercise graded with `grader batch`.
    #[arg(long, default_value_t = 20)]
    class_size: usize,
    /// Submissions in the generated class of full submissions (every exercise solved) graded
    /// with `grader batch`; 0 leaves it out.
    #[arg(long, default_value_t = 3)]
    full_class_size: usize,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tokio::select! {
        outcome = run(&cli) => match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err:#}");
                ExitCode::from(2)
            }
        },
        // Dropping the run stops every server it started.
        _ = tokio::signal::ctrl_c() => {
            eprintln!("interrupted: stopped every process the benchmark started");
            ExitCode::from(130)
        }
    }
}

async fn run(cli: &Cli) -> Result<()> {
    let workbook = grader::course::root();
    let serve = !cli.only_grading && !cli.only_similarity && !cli.only_watch;
    if serve {
        for tool in ["wrk", "redis-server", "redis-benchmark"] {
            on_path(tool)?;
        }
    }
    let django = match serve && !cli.no_django {
        true => Some(django::serve_script(&django::shared_dir(&workbook))?),
        false => None,
    };
    let work = target_dir(&workbook).join("bench");
    if work.exists() {
        std::fs::remove_dir_all(&work)
            .with_context(|| format!("cannot clear {}", work.display()))?;
    }
    std::fs::create_dir_all(&work)?;
    eprintln!("servers' output and the generated classes go to {}", work.display());

    let started = Machine::now();
    let load = wrk::Settings {
        connections: cli.connections,
        threads: started.cores,
        duration: Duration::from_secs(cli.duration),
    };
    let serving = serving::Options { load, tasks: cli.tasks, django, rounds: cli.rounds.max(1) };
    let pages = match serve {
        true => serving::measure(&serving, &workbook, &work).await?,
        false => vec![],
    };
    let grader = match (cli.no_grading, cli.only_similarity) {
        _ if cli.only_watch => Some(watch_cost(&workbook, &work).await?),
        (true, _) => None,
        (false, true) => Some(GraderCost {
            similarity: Some(similarity_cost(cli, &workbook, &work)?),
            ..GraderCost::default()
        }),
        (false, false) => Some(grader_cost(cli, &workbook, &work, started.cores).await?),
    };
    let settings = match serve {
        true => format!(
            "wrk -t{threads} -c{connections} -d{}s --latency; \
             redis-benchmark -c{connections} --threads {threads} GET; {} tasks; \
             solutions built with --release; each row the median of {} rounds",
            cli.duration,
            cli.tasks,
            cli.rounds.max(1),
            threads = load.threads,
            connections = load.connections,
        ),
        false if cli.only_watch => "none: --watch after a save only (--only-watch)".to_owned(),
        false if cli.only_similarity => {
            "none: the class similarity check only (--only-similarity)".to_owned()
        }
        false => "none: the grader's cost only (--only-grading)".to_owned(),
    };
    let report = table::Report { started, ended: Machine::now(), settings, pages, grader };
    print!("{}", table::render(&report));
    Ok(())
}

async fn grader_cost(cli: &Cli, workbook: &Path, work: &Path, cores: usize) -> Result<GraderCost> {
    let exercise = exercise_folder(cli.exercise)?;
    let default_jobs = grader::batch::default_jobs();
    let mut cost =
        GraderCost { exercise: exercise.clone(), default_jobs, cores, ..GraderCost::default() };
    if cli.first_scorecard {
        eprintln!("timing a new student's first scorecard in a fresh clone (many minutes)");
        cost.first_scorecard = Some(first_scorecard::measure(workbook, work).await?);
    }
    eprintln!("building the grader");
    let grader = cargo::binary(&cargo::build(workbook, &["grader"], false).await?, "grader")?;
    let solutions = workbook.join("solutions");
    eprintln!("grading solutions/{exercise} once, untimed, to bring the build folder up to date");
    grading::grade_one(&grader, &solutions, cli.exercise).await?;
    if cli.watch {
        cost.after_save = watch::measure(&grader, workbook, work).await?;
    }
    eprintln!("grading solutions/{exercise}, just edited, with the warm build folder");
    let edited = work.join("edited");
    class::copy_with_note(&solutions.join(&exercise), &edited.join(&exercise), "just edited")?;
    cost.warm_seconds = Some(grading::grade_one(&grader, &edited, cli.exercise).await?);
    eprintln!("grading it again without the containment, to see what the containment costs");
    let uncontained = ["--without-containment"];
    cost.uncontained_seconds =
        Some(grading::grade_one_with(&grader, &edited, cli.exercise, &uncontained).await?);

    let one_exercise = [exercise];
    for jobs in jobs_to_compare(default_jobs, cores) {
        eprintln!("grading a class of {} with grader batch -j {jobs}", cli.class_size);
        let class = grading::Class {
            exercises: &one_exercise,
            only: Some(cli.exercise),
            mix: Mix::Alternating,
            size: cli.class_size,
            label: format!("one-j{jobs}"),
        };
        cost.batches.push(grading::grade_class(&grader, workbook, &class, jobs, work).await?);
    }
    if cli.full_class_size > 0 {
        eprintln!("grading {} full submissions with grader batch", cli.full_class_size);
        let every_exercise: Vec<String> =
            grader::course::EXERCISES.iter().map(|exercise| exercise.dir_name()).collect();
        let class = grading::Class {
            exercises: &every_exercise,
            only: None,
            mix: Mix::SolutionsOnly,
            size: cli.full_class_size,
            label: format!("full-j{default_jobs}"),
        };
        cost.full_batch =
            Some(grading::grade_class(&grader, workbook, &class, default_jobs, work).await?);
    }
    if cli.full_class_size > 0 {
        eprintln!("grading one full submission as Gradescope's autograder would");
        cost.gradescope_seconds = Some(grading::gradescope_run(&grader, workbook, work).await?);
    }
    if cli.similarity_class_size > 0 {
        cost.similarity = Some(similarity_cost(cli, workbook, work)?);
    }
    Ok(cost)
}

/// `--watch` after a save, per exercise, alone.
async fn watch_cost(workbook: &Path, work: &Path) -> Result<GraderCost> {
    eprintln!("building the grader");
    let grader = cargo::binary(&cargo::build(workbook, &["grader"], false).await?, "grader")?;
    let after_save = watch::measure(&grader, workbook, work).await?;
    Ok(GraderCost { after_save, ..GraderCost::default() })
}

fn similarity_cost(cli: &Cli, workbook: &Path, work: &Path) -> Result<similarity::SimilarityCost> {
    let size = cli.similarity_class_size.max(2);
    eprintln!("comparing a generated class of {size} full submissions for similarity");
    similarity::measure(workbook, work, size)
}

/// The `-j` values a class is graded at: one at a time (what the others gain against), the
/// grader's default, and the machine's cores when the memory made the default smaller.
fn jobs_to_compare(default_jobs: usize, cores: usize) -> Vec<usize> {
    let mut jobs = vec![1, default_jobs, cores];
    jobs.sort_unstable();
    jobs.dedup();
    jobs
}

fn target_dir(workbook: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workbook.join("target"), PathBuf::from)
}

/// The folder of exercise `number`, e.g. `02-view-cache`.
fn exercise_folder(number: u32) -> Result<String> {
    let exercise = grader::course::select(Some(&number.to_string()))?;
    Ok(exercise[0].dir_name())
}

/// Fails with an install hint when `tool` is not on PATH.
fn on_path(tool: &str) -> Result<()> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    if std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()) {
        return Ok(());
    }
    let (apt, brew) = if tool == "wrk" { ("wrk", "wrk") } else { ("redis-server", "redis") };
    bail!(
        "{tool} is not on PATH; the benchmark needs it. Install it with \
         `sudo apt-get install -y {apt}` (Debian/Ubuntu) or `brew install {brew}` (macOS)."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_job_is_the_baseline_and_the_cores_get_a_batch_when_the_default_differs() {
        assert_eq!(jobs_to_compare(2, 2), [1, 2]);
        assert_eq!(jobs_to_compare(2, 8), [1, 2, 8]);
        assert_eq!(jobs_to_compare(1, 1), [1]);
    }

    #[test]
    fn the_flags_parse() {
        let cli = Cli::try_parse_from(["bench", "--only-grading", "--first-scorecard"]).unwrap();
        assert!(cli.only_grading && cli.first_scorecard);
        assert_eq!(cli.full_class_size, 3);
        assert!(Cli::try_parse_from(["bench", "--only-grading", "--no-grading"]).is_err());
        let cli = Cli::try_parse_from(["bench", "--only-similarity"]).unwrap();
        assert!(cli.only_similarity && cli.similarity_class_size == 500);
        assert!(Cli::try_parse_from(["bench", "--only-similarity", "--no-grading"]).is_err());
    }
}
