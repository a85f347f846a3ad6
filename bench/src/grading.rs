//! The grader's own cost: one student's grade with a warm build folder, and generated classes
//! graded with `grader batch`. (A new student's cold start is `first_scorecard`.)

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::process::Command;

use crate::class::{self, Mix, Origin, Student};
use crate::processes;

/// The longest one measurement may take: a class of full submissions builds six exercises each.
const TIMEOUT: Duration = Duration::from_secs(3 * 3600);

/// The seed of every grade, so that each run of the benchmark grades alike.
const SEED: &str = "1";

/// Grades `exercise` (by number) in the folder `submission` and returns the seconds it took.
/// The submission must earn full marks.
pub async fn grade_one(grader: &Path, submission: &Path, exercise: u32) -> Result<f64> {
    grade_one_with(grader, submission, exercise, &[]).await
}

/// Like [`grade_one`], with the grader's `extra` options (e.g. `--without-containment`).
pub async fn grade_one_with(
    grader: &Path,
    submission: &Path,
    exercise: u32,
    extra: &[&str],
) -> Result<f64> {
    let mut command = Command::new(grader);
    command.arg("--path").arg(submission).args([&exercise.to_string(), "--seed", SEED]);
    command.args(extra);
    let started = Instant::now();
    processes::run(command, TIMEOUT)
        .await
        .context("grading a reference solution failed: it should earn full marks")?;
    Ok(started.elapsed().as_secs_f64())
}

/// What grading a class cost.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchCost {
    pub submissions: usize,
    /// From the start of `grader batch` to its end.
    pub wall_seconds: f64,
    /// How many submissions `grader batch` graded at once (its `-j`).
    pub jobs: usize,
    /// Wall time per submission at that `-j`: what one more student costs.
    pub seconds_per_submission: f64,
    /// Submissions whose score was the one their origin calls for.
    pub as_expected: usize,
}

/// A class to generate and grade.
pub struct Class<'a> {
    /// The exercises each student hands in, by folder name.
    pub exercises: &'a [String],
    /// `grader batch --exercise`: the number of a one-exercise class's exercise; `None` grades
    /// every exercise.
    pub only: Option<u32>,
    pub mix: Mix,
    pub size: usize,
    /// Names the class's folders and goes into its notes, e.g. `one-j2`.
    pub label: String,
}

/// Generates `class` in `work` and grades it with `grader batch -j jobs`.
pub async fn grade_class(
    grader: &Path,
    workbook: &Path,
    class: &Class<'_>,
    jobs: usize,
    work: &Path,
) -> Result<BatchCost> {
    let class_dir = work.join(format!("class-{}", class.label));
    let out = work.join(format!("class-{}-grades", class.label));
    let students = class::generate(
        workbook,
        class.exercises,
        class.mix,
        class.size,
        &class_dir,
        &class.label,
    )?;
    let mut command = Command::new(grader);
    command.arg("batch").arg(&class_dir).arg("--out").arg(&out).args(["--seed", SEED]);
    if let Some(exercise) = class.only {
        command.args(["--exercise", &exercise.to_string()]);
    }
    command.args(["--jobs", &jobs.to_string()]);
    // The benchmark's own generated class: trusted, and measurable on macOS too.
    command.arg("--allow-unsandboxed");
    let started = Instant::now();
    processes::run(command, TIMEOUT)
        .await
        .with_context(|| format!("grader batch of the class {} failed", class.label))?;
    let wall_seconds = started.elapsed().as_secs_f64();

    let mut as_expected = 0;
    for student in &students {
        as_expected += usize::from(read_result(&out, student)?);
    }
    Ok(BatchCost {
        submissions: class.size,
        wall_seconds,
        jobs,
        seconds_per_submission: per_submission(wall_seconds, class.size),
        as_expected,
    })
}

/// One full submission (every reference solution) graded as Gradescope grades it: the
/// bundle's `run_autograder` on a fresh `GRADESCOPE_ROOT`, after the warm-up its `setup.sh`
/// runs (done here by the classes graded before). Returns the seconds; the result must be
/// full marks.
pub async fn gradescope_run(grader: &Path, workbook: &Path, work: &Path) -> Result<f64> {
    let bundle = work.join("gradescope-bundle");
    let mut command = Command::new(grader);
    command.arg("gradescope-bundle").arg(&bundle).arg("--allow-unsandboxed");
    processes::run(command, TIMEOUT).await.context("grader gradescope-bundle failed")?;
    let root = work.join("gradescope-root");
    let submission = root.join("submission").join("exercises");
    for exercise in grader::course::EXERCISES.iter().map(|exercise| exercise.dir_name()) {
        class::copy_with_note(
            &workbook.join("solutions").join(&exercise),
            &submission.join(&exercise),
            "handed in on Gradescope",
        )?;
    }
    let mut command = Command::new(bundle.join("run_autograder"));
    command.env("GRADESCOPE_ROOT", &root).env("GRADER", grader).env_remove("REDIS_URL");
    let started = Instant::now();
    processes::run(command, TIMEOUT).await.context("run_autograder failed")?;
    let seconds = started.elapsed().as_secs_f64();
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("results").join("results.json"))?)?;
    let max: f64 = results["tests"]
        .as_array()
        .map(|tests| tests.iter().filter_map(|test| test["max_score"].as_f64()).sum())
        .unwrap_or_default();
    anyhow::ensure!(
        results["score"].as_f64() == Some(max) && max > 0.0,
        "the reference solutions scored {} of {max} on Gradescope's run",
        results["score"]
    );
    Ok(seconds)
}

/// Whether a student's score is the one their origin calls for.
fn read_result(out: &Path, student: &Student) -> Result<bool> {
    let dir = out.join("students").join(&student.name);
    let read = |file: &str| -> Result<serde_json::Value> {
        let path = dir.join(file);
        let bytes = std::fs::read(&path)
            .with_context(|| format!("grader batch wrote no {}", path.display()))?;
        Ok(serde_json::from_slice(&bytes)?)
    };
    let result = read("result.json")?;
    let (score, max) = (result["score"].as_u64(), result["max_score"].as_u64());
    let expected = match student.origin {
        Origin::Solution => score.is_some() && score == max,
        Origin::Starter => score == Some(0),
    };
    Ok(expected)
}

/// Wall time per submission. Not the mean of each submission's own time: with `-j 2` two
/// submissions share the machine, and each takes about twice the class's throughput.
pub fn per_submission(wall_seconds: f64, submissions: usize) -> f64 {
    wall_seconds / submissions.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cost_per_submission_is_the_wall_time_shared_out() {
        assert_eq!(per_submission(100.0, 20), 5.0);
        assert_eq!(per_submission(7.0, 0), 7.0);
    }

    #[test]
    fn a_starter_must_score_zero_and_a_solution_full_marks() {
        let out = tempfile::tempdir().unwrap();
        let write = |name: &str, score: u32| {
            let dir = out.path().join("students").join(name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("meta.json"), r#"{"seconds": 12.5}"#).unwrap();
            let result = format!(r#"{{"score": {score}, "max_score": 23}}"#);
            std::fs::write(dir.join("result.json"), result).unwrap();
        };
        write("student-01", 23);
        write("student-02", 4);
        let student = |name: &str, origin| Student { name: name.to_owned(), origin };

        assert!(read_result(out.path(), &student("student-01", Origin::Solution)).unwrap());
        assert!(!read_result(out.path(), &student("student-02", Origin::Starter)).unwrap());
        assert!(read_result(out.path(), &student("student-03", Origin::Starter)).is_err());
    }
}
