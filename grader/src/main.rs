//! `cargo run -p grader`: grade the workbook's exercises and print a scorecard.

mod compile;
mod contract;
mod criteria;
mod grade;
mod inspect;
mod probe;
mod redis_server;
mod report;
mod sandbox;
mod scorecard;
mod service;
mod workbook;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// Grades the Caching & Performance workbook: builds each exercise, runs it against a private
/// Redis, probes it over HTTP and prints a scorecard.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
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

    /// The longest a build may take, in seconds (the first one compiles every dependency).
    #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
    build_timeout: u64,
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

#[tokio::main]
async fn main() -> ExitCode {
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
    // Ctrl-C drops the grading future, and with it every process and folder it owns.
    tokio::select! {
        code = run(cli) => code,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("interrupted: stopped every process the grader started");
            ExitCode::from(130)
        }
    }
}

async fn run(cli: Cli) -> ExitCode {
    match grade(&cli).await {
        Ok(report) => {
            match cli.format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&report).expect("a report serialises")
                ),
                Format::Text => {
                    print!("{}", scorecard::render(&report, owo_colors::Stream::Stdout))
                }
            }
            ExitCode::from(if report.all_passed() { ALL_PASSED } else { SOME_FAILED })
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(GRADING_FAILED)
        }
    }
}

async fn grade(cli: &Cli) -> anyhow::Result<report::Report> {
    let exercises = workbook::select(workbook::exercises()?, cli.exercise.as_deref())?;
    let submission = cli.path.clone().unwrap_or_else(|| workbook::root().join("exercises"));
    let options = grade::Options {
        submission,
        exercises,
        seed: cli.seed.unwrap_or_else(random_seed),
        redis_url: cli.redis_url.clone().filter(|url| !url.is_empty()),
        build_timeout: Duration::from_secs(cli.build_timeout),
        check_timeout: Duration::from_secs(90),
        progress: true,
    };
    grade::run(&options).await
}

/// A seed for a fresh run: different every time, printed so it can be replayed.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) % 1_000_000
}
