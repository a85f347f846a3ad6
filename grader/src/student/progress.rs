//! The student's progress: the last result of each exercise, kept between runs in a small file
//! the grader owns (`target/grader/progress.json`), never in the student's code.
//!
//! Only runs on the workbook's own `exercises/` record progress: grading `--path solutions` says
//! nothing about the student's work.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::fs::write_atomically;
use crate::report::{ExerciseReport, Stage, Status};

/// The last result of every exercise graded so far, by folder name.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Progress {
    #[serde(default)]
    pub exercises: BTreeMap<String, Record>,
}

/// The last result of one exercise.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub score: u32,
    pub max_score: u32,
    pub stage: Stage,
    /// When it was graded, in seconds since the Unix epoch.
    pub graded_at: u64,
    /// Each criterion's status, by id.
    pub criteria: BTreeMap<String, Status>,
}

impl Record {
    fn of(report: &ExerciseReport) -> Self {
        Self {
            score: report.score,
            max_score: report.max_score,
            stage: report.stage,
            graded_at: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            criteria: report.criteria.iter().map(|c| (c.id.clone(), c.status)).collect(),
        }
    }

    /// Whether criterion `id` passed (a criterion added since this grade has not).
    pub fn passed(&self, id: &str) -> bool {
        self.criteria.get(id) == Some(&Status::Passed)
    }
}

/// Where the grader keeps the student's progress and the copies `grader reset` makes.
#[derive(Debug, Clone)]
pub struct StateDir(pub PathBuf);

impl StateDir {
    pub fn progress_file(&self) -> PathBuf {
        self.0.join("progress.json")
    }

    pub fn backups(&self) -> PathBuf {
        self.0.join("backups")
    }

    /// The progress so far; empty before the first grade.
    pub fn load(&self) -> Result<Progress> {
        let path = self.progress_file();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Progress::default());
            }
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
        serde_json::from_str(&text).with_context(|| {
            format!("{} is not a progress file; delete it to start afresh", path.display())
        })
    }

    /// Keeps the results of `reports` as the last results of their exercises.
    pub fn record(&self, reports: &[ExerciseReport]) -> Result<()> {
        self.update(|progress| {
            for report in reports {
                progress.exercises.insert(report.id.clone(), Record::of(report));
            }
        })
    }

    /// Forgets the results of exercise `id` (after a reset, they describe code that is gone).
    pub fn forget(&self, id: &str) -> Result<()> {
        self.update(|progress| {
            progress.exercises.remove(id);
        })
    }

    /// Reads, changes and writes the progress file, one grader at a time (a watch session and
    /// a run in another terminal must not lose each other's results).
    fn update(&self, change: impl FnOnce(&mut Progress)) -> Result<()> {
        std::fs::create_dir_all(&self.0)
            .with_context(|| format!("cannot create {}", self.0.display()))?;
        let lock = File::create(self.0.join("progress.lock"))?;
        lock.lock()?;
        let mut progress = self.load()?;
        change(&mut progress);
        let text = serde_json::to_string_pretty(&progress).expect("progress serialises");
        write_atomically(&self.progress_file(), text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CriterionReport;

    fn report(id: &str, statuses: &[(&str, Status)]) -> ExerciseReport {
        let criteria = statuses
            .iter()
            .map(|(criterion, status)| CriterionReport {
                id: (*criterion).to_owned(),
                title: String::new(),
                category: crate::criteria::Category::Caching,
                score: if *status == Status::Passed { 2 } else { 0 },
                max_score: 2,
                status: *status,
                message: String::new(),
                hint: String::new(),
                notes: Vec::new(),
                service_output: None,
                symptom: None,
            })
            .collect();
        ExerciseReport::new(id.to_owned(), String::new(), Stage::Graded, None, criteria)
    }

    #[test]
    fn results_are_kept_per_exercise_and_replaced_by_later_ones() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir(dir.path().join("grader"));
        assert!(state.load().unwrap().exercises.is_empty());

        state.record(&[report("01-redis-setup", &[("a", Status::Failed)])]).unwrap();
        state.record(&[report("02-view-cache", &[("b", Status::Passed)])]).unwrap();
        state.record(&[report("01-redis-setup", &[("a", Status::Passed)])]).unwrap();

        let progress = state.load().unwrap();
        assert!(progress.exercises["01-redis-setup"].passed("a"));
        assert_eq!(progress.exercises["02-view-cache"].score, 2);
        assert!(!progress.exercises["02-view-cache"].passed("added-later"));

        state.forget("01-redis-setup").unwrap();
        assert!(!state.load().unwrap().exercises.contains_key("01-redis-setup"));
    }

    #[test]
    fn a_damaged_file_is_reported_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir(dir.path().to_owned());
        std::fs::write(state.progress_file(), "{ half a").unwrap();
        let err = state.record(&[report("01-redis-setup", &[])]).unwrap_err();
        assert!(format!("{err:#}").contains("delete it to start afresh"), "{err:#}");
        assert_eq!(std::fs::read_to_string(state.progress_file()).unwrap(), "{ half a");
    }
}
