//! The results of a grading run: what `--format json` prints and the scorecard shows.

pub mod sanitise;
pub mod scorecard;

use serde::{Deserialize, Serialize};

use crate::criteria::{Category, Criterion, Failure, Symptom};
use crate::run::diagnostics::Warning;

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub score: u32,
    pub max_score: u32,
    /// Replays the run's randomised data with `--seed`.
    pub seed: u64,
    /// Which Redis the run used.
    pub redis: String,
    /// Which database the services used (empty in batch reports: always SQLite there).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub database: String,
    /// What kept the student's processes in check (filled in by the grading run).
    #[serde(default)]
    pub isolation: String,
    pub exercises: Vec<ExerciseReport>,
}

/// How far grading an exercise got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Built, started and probed.
    Graded,
    /// The submission has no folder for this exercise: nothing to build.
    Missing,
    /// The code does not compile; `details` holds the compiler's errors.
    BuildFailed,
    /// The service crashed or never answered `/health`; `details` holds its output.
    DidNotStart,
    /// Batch grading: the submission's time ran out before this exercise was graded.
    TimedOut,
    /// Batch grading: the submission could not be read (a broken archive, no exercises).
    Invalid,
}

/// Why an exercise was not graded: every [`Stage`] but `Graded`, so that a report of an
/// exercise never graded cannot claim it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotGraded {
    Missing,
    BuildFailed,
    DidNotStart,
    TimedOut,
    Invalid,
}

impl NotGraded {
    /// The stage the report records.
    pub fn stage(self) -> Stage {
        match self {
            NotGraded::Missing => Stage::Missing,
            NotGraded::BuildFailed => Stage::BuildFailed,
            NotGraded::DidNotStart => Stage::DidNotStart,
            NotGraded::TimedOut => Stage::TimedOut,
            NotGraded::Invalid => Stage::Invalid,
        }
    }

    /// What every criterion of the exercise is told.
    pub fn reason(self) -> &'static str {
        match self {
            NotGraded::Missing => "not graded: the exercise is not in the submission",
            NotGraded::BuildFailed => "not graded: the exercise did not build",
            NotGraded::DidNotStart => "not graded: the service did not start",
            NotGraded::TimedOut => "not graded: the submission ran out of time",
            NotGraded::Invalid => "not graded: the submission could not be read",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExerciseReport {
    /// The folder name, e.g. `01-redis-setup`.
    pub id: String,
    pub title: String,
    pub score: u32,
    pub max_score: u32,
    pub stage: Stage,
    /// Compiler errors, or the output of a service that crashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// What the student should know beyond the criteria, e.g. that their `Cargo.toml` was
    /// ignored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The compiler's warnings about the student's crate, as rustc rendered them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compiler_warnings: Vec<Warning>,
    pub criteria: Vec<CriterionReport>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Failed,
    /// The grader could not decide (its own Redis failed, a feature was unavailable).
    Error,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CriterionReport {
    pub id: String,
    pub title: String,
    pub category: Category,
    pub score: u32,
    pub max_score: u32,
    pub status: Status,
    /// Empty when passed; otherwise what was expected and what was observed.
    pub message: String,
    pub hint: String,
    /// What else may explain a failure, e.g. a compiler warning about a future never awaited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The service's own words while the check ran (a panic message and its location), when
    /// the check saw it fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_output: Option<String>,
    /// What kind of failure the check saw: `None` for a pass or an error. Kept in memory only,
    /// for [`CriterionReport::a_neighbour_may_explain`]; the JSON files carry the hint it
    /// chose, and a report read back from them has `None` here.
    #[serde(skip)]
    pub symptom: Option<Symptom>,
}

impl CriterionReport {
    pub fn new(criterion: &Criterion, outcome: Result<(), Failure>) -> Self {
        let (status, message, symptom) = match outcome {
            Ok(()) => (Status::Passed, String::new(), None),
            Err(Failure::Failed { expected, observed, symptom }) => {
                (Status::Failed, format!("expected {expected}; observed {observed}"), Some(symptom))
            }
            Err(Failure::Error(message)) => (Status::Error, message, None),
        };
        Self {
            id: criterion.id.to_owned(),
            title: criterion.title.to_owned(),
            category: criterion.category,
            score: if status == Status::Passed { criterion.points } else { 0 },
            max_score: criterion.points,
            status,
            message,
            hint: criterion.hint_for(symptom.unwrap_or_default()).to_owned(),
            notes: Vec::new(),
            service_output: None,
            symptom,
        }
    }

    /// Whether another submission graded at the same time may explain that this criterion did
    /// not pass, so that a batch at `-j 2` or more checks it again alone. The checks judge by
    /// counts and ratios measured within one run, never by an absolute time: a wrong answer or
    /// a key outside the prefix is the same alone. A neighbour's load can only make an answer
    /// late or a request fail, keep the grader from checking, or move what the performance
    /// criteria measure (ratios of times, concurrency), unless the check also counted what
    /// went wrong (a hit that queried the database: nothing was cached).
    pub fn a_neighbour_may_explain(&self) -> bool {
        match self.status {
            Status::Passed => false,
            Status::Error => true,
            // A symptom not known (a report read back from JSON): looked at again, not guessed.
            Status::Failed => match self.symptom {
                None => true,
                Some(symptom) if symptom.no_answer() => true,
                Some(symptom) if symptom.found_in_content() => false,
                Some(_) => self.category == Category::Performance,
            },
        }
    }
}

impl ExerciseReport {
    pub fn new(
        id: String,
        title: String,
        stage: Stage,
        details: Option<String>,
        criteria: Vec<CriterionReport>,
    ) -> Self {
        Self {
            score: criteria.iter().map(|c| c.score).sum(),
            max_score: criteria.iter().map(|c| c.max_score).sum(),
            id,
            title,
            stage,
            details,
            warnings: Vec::new(),
            compiler_warnings: Vec::new(),
            criteria,
        }
    }
}

impl ExerciseReport {
    /// Keeps only the criteria `keep` accepts (a run with `--only`), scores included.
    pub fn retain_criteria(&mut self, keep: impl Fn(&str) -> bool) {
        self.criteria.retain(|criterion| keep(&criterion.id));
        self.score = self.criteria.iter().map(|c| c.score).sum();
        self.max_score = self.criteria.iter().map(|c| c.max_score).sum();
    }

    /// Shows the compiler's warnings, and puts those that make code silently do nothing (a
    /// future never awaited, a result dropped) next to every failed criterion: they are the
    /// likeliest explanation of a failure whose evidence looks impossible.
    pub fn add_compiler_warnings(&mut self, warnings: Vec<Warning>) {
        let silent: Vec<String> = warnings
            .iter()
            .filter(|warning| warning.explains_silent_failures())
            .map(|warning| {
                let why = if warning.message.contains("Future") {
                    "a future does nothing until it is `.await`ed"
                } else {
                    "an error dropped unread goes unnoticed"
                };
                format!("the compiler warned: {}; {why}", warning.summary())
            })
            .collect();
        for criterion in &mut self.criteria {
            if criterion.status == Status::Failed {
                criterion.notes.extend(silent.iter().cloned());
            }
        }
        self.compiler_warnings.extend(warnings);
    }
}

impl Report {
    pub fn new(seed: u64, redis: String, exercises: Vec<ExerciseReport>) -> Self {
        Self {
            score: exercises.iter().map(|e| e.score).sum(),
            max_score: exercises.iter().map(|e| e.max_score).sum(),
            seed,
            redis,
            database: String::new(),
            isolation: String::new(),
            exercises,
        }
    }

    /// The criteria that did not pass, in exercises that were graded, for a reason a
    /// neighbour's load may explain ([`CriterionReport::a_neighbour_may_explain`]), as
    /// (exercise id, criterion id).
    pub fn worth_a_second_look(&self) -> Vec<(String, String)> {
        self.exercises
            .iter()
            .filter(|exercise| exercise.stage == Stage::Graded)
            .flat_map(|exercise| {
                exercise
                    .criteria
                    .iter()
                    .filter(|criterion| criterion.a_neighbour_may_explain())
                    .map(|criterion| (exercise.id.clone(), criterion.id.clone()))
            })
            .collect()
    }

    /// Replaces each criterion that `second` checked again, in an exercise it graded, with
    /// that second verdict, and counts the scores again.
    pub fn take_second_look(&mut self, second: &Report) {
        for looked in second.exercises.iter().filter(|e| e.stage == Stage::Graded) {
            let Some(exercise) = self.exercises.iter_mut().find(|e| e.id == looked.id) else {
                continue;
            };
            for verdict in &looked.criteria {
                if let Some(first) = exercise.criteria.iter_mut().find(|c| c.id == verdict.id) {
                    *first = verdict.clone();
                }
            }
            exercise.score = exercise.criteria.iter().map(|c| c.score).sum();
        }
        self.score = self.exercises.iter().map(|e| e.score).sum();
    }

    /// Every criterion passed.
    pub fn all_passed(&self) -> bool {
        self.exercises
            .iter()
            .flat_map(|exercise| &exercise.criteria)
            .all(|criterion| criterion.status == Status::Passed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::criteria::{Because, fail};

    fn graded(id: &str, outcomes: &[(&Criterion, Result<(), Failure>)]) -> ExerciseReport {
        let criteria = outcomes
            .iter()
            .map(|(criterion, outcome)| CriterionReport::new(criterion, outcome.clone()))
            .collect();
        ExerciseReport::new(id.to_owned(), id.to_owned(), Stage::Graded, None, criteria)
    }

    /// A failure a neighbour's load may cause: no answer in time.
    fn late() -> Result<(), Failure> {
        Err(fail("an answer", "none within 5 s").because(Symptom::Timeout))
    }

    #[test]
    fn only_failures_a_neighbour_may_explain_get_a_second_look() {
        let specs = crate::criteria::registry();
        let every = || specs.iter().flat_map(|spec| &spec.criteria);
        let content = every().find(|c| c.category != Category::Performance).unwrap();
        let performance = every().find(|c| c.category == Category::Performance).unwrap();
        let failed = |symptom| Err(fail("a", "b").because(symptom));
        let looked_at =
            |criterion, outcome| CriterionReport::new(criterion, outcome).a_neighbour_may_explain();

        assert!(!looked_at(content, Ok(())));
        assert!(looked_at(content, Err(Failure::Error("the grader's Redis".to_owned()))));
        for symptom in [Symptom::Timeout, Symptom::ServiceError] {
            assert!(looked_at(content, failed(symptom)), "{symptom:?}");
        }
        assert!(!looked_at(content, failed(Symptom::Unclassified)));
        // A performance criterion measures times and concurrency: a failure may be load...
        assert!(looked_at(performance, failed(Symptom::Unclassified)));
        // ...unless the check counted what was wrong, which no load changes.
        for symptom in [Symptom::NothingCached, Symptom::OutsidePrefix, Symptom::OneProcessOnly] {
            assert!(!looked_at(content, failed(symptom)), "{symptom:?}");
            assert!(!looked_at(performance, failed(symptom)), "{symptom:?}");
        }
        // Read back from JSON, a failure has lost its symptom: looked at rather than guessed.
        let written = CriterionReport::new(content, failed(Symptom::Unclassified));
        let read: CriterionReport =
            serde_json::from_str(&serde_json::to_string(&written).unwrap()).unwrap();
        assert!(read.a_neighbour_may_explain());
    }

    #[test]
    fn a_second_look_replaces_only_what_it_checked_and_the_scores_follow() {
        let specs = crate::criteria::registry();
        let [first, second, third, fourth, ..] = &specs[0].criteria[..] else {
            panic!("4 criteria")
        };
        let exercise = specs[0].exercise.dir_name();
        let wrong = Err(fail("a", "b"));
        let mut report = Report::new(
            1,
            String::new(),
            vec![graded(
                &exercise,
                &[(first, late()), (second, late()), (third, Ok(())), (fourth, wrong)],
            )],
        );
        // The wrong answer is the submission's own: not looked at again.
        assert_eq!(
            report.worth_a_second_look(),
            [(exercise.clone(), first.id.to_owned()), (exercise.clone(), second.id.to_owned())]
        );
        let alone = Report::new(
            1,
            String::new(),
            vec![graded(&exercise, &[(first, Ok(())), (second, late())])],
        );
        report.take_second_look(&alone);
        assert_eq!(report.worth_a_second_look(), [(exercise.clone(), second.id.to_owned())]);
        assert_eq!(report.score, first.points + third.points);
        assert_eq!(report.exercises[0].score, report.score);
        let all = [first, second, third, fourth].map(|c| c.points);
        assert_eq!(report.max_score, all.iter().sum::<u32>());
    }
}
