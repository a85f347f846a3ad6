//! What a student waits for in `grader --watch` after a save: the build, the first verdict
//! and the whole scorecard, per exercise.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::process::Command;

use crate::class;
use crate::processes::Interactive;

/// The first grade of a watch may compile the dependencies.
const FIRST_GRADE: Duration = Duration::from_secs(3600);
/// A grade after a save: one crate's build and the checks.
const AFTER_SAVE: Duration = Duration::from_secs(600);

/// One exercise's wait after a save, in seconds from the save.
#[derive(Debug, Clone, PartialEq)]
pub struct AfterSave {
    /// e.g. `02-view-cache`.
    pub exercise: String,
    /// To the grader's `grading` line: the build is done.
    pub built: f64,
    /// To the first criterion's verdict.
    pub first_verdict: f64,
    /// To the scorecard's `Total` line.
    pub scorecard: f64,
}

impl AfterSave {
    /// From the end of the build to the first verdict.
    pub fn first_verdict_after_build(&self) -> f64 {
        self.first_verdict - self.built
    }
}

/// Watches a copy of each exercise's reference solution, saves an edit once the first grade is
/// done, and times what follows.
pub async fn measure(grader: &Path, workbook: &Path, work: &Path) -> Result<Vec<AfterSave>> {
    let mut waits = Vec::new();
    for exercise in grader::course::EXERCISES {
        let name = exercise.dir_name();
        eprintln!("watching solutions/{name}, then saving an edit");
        let submission = work.join("watch").join(&name);
        class::copy_with_note(
            &workbook.join("solutions").join(&name),
            &submission.join(&name),
            "watched",
        )?;
        waits.push(after_save(grader, &submission, exercise.number, &name).await?);
    }
    Ok(waits)
}

async fn after_save(
    grader: &Path,
    submission: &Path,
    number: u32,
    name: &str,
) -> Result<AfterSave> {
    let mut command = Command::new(grader);
    command.arg("--watch").arg("--path").arg(submission).args([&number.to_string(), "--seed", "1"]);
    let mut watch = Interactive::spawn(command)?;
    let prompt = |line: &str| line.starts_with("Watching ");
    watch.line_where(prompt, FIRST_GRADE).await.context("the first grade")?;

    let lib = submission.join(name).join("src/lib.rs");
    let mut text = std::fs::read_to_string(&lib)?;
    text.push_str("// saved by the benchmark\n");
    let saved = Instant::now();
    std::fs::write(&lib, text)?;
    let since_save = || saved.elapsed().as_secs_f64();

    watch.line_where(|line| line.starts_with("grading "), AFTER_SAVE).await?;
    let built = since_save();
    let verdict =
        |line: &str| ["✓", "✗", "!"].iter().any(|mark| line.trim_start().starts_with(mark));
    watch.line_where(verdict, AFTER_SAVE).await.context("no verdict after the save")?;
    let first_verdict = since_save();
    watch.line_where(|line| line.starts_with("Total "), AFTER_SAVE).await?;
    let scorecard = since_save();
    watch.line_where(prompt, AFTER_SAVE).await?;
    watch.type_line("q").await?;
    Ok(AfterSave { exercise: name.to_owned(), built, first_verdict, scorecard })
}
