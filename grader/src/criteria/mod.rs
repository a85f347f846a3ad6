//! The criteria registry: every point the grader can award, with the check that decides it.
//!
//! Each exercise module lists its criteria in checklist order; the scorecard, the JSON output
//! and the book's tables are all produced from these lists.

pub mod browser;
mod fragment_cache;
// The grader's view of Redis lives with the testbed that owns the connection; checks read it.
pub use crate::run::inspect;
mod invalidation;
mod low_level_cache;
pub mod probe;
mod query_optimisation;
mod redis_setup;
pub mod verdict;
mod view_cache;
mod xss;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::course::Exercise;

pub use self::probe::Probe;
pub use self::verdict::{Because, Failure, Symptom, Verdict, expect, fail};

/// What kind of quality a criterion measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Caching,
    Invalidation,
    Performance,
    Resilience,
    Security,
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = serde_json::to_value(self).expect("a category serialises");
        write!(f, "{}", name.as_str().unwrap_or_default())
    }
}

/// A check: probes the running service and decides one criterion.
pub type Check =
    for<'a, 't> fn(&'a mut Probe<'t>) -> Pin<Box<dyn Future<Output = Verdict> + Send + 'a>>;

/// One line of the scorecard.
pub struct Criterion {
    pub id: &'static str,
    pub title: &'static str,
    pub category: Category,
    pub points: u32,
    /// What to look at when the criterion fails.
    pub hint: &'static str,
    /// Hints for particular kinds of failure, preferred to `hint` when the check observed
    /// that [`Symptom`].
    pub hints: &'static [(Symptom, &'static str)],
    pub check: Check,
}

impl Criterion {
    /// The hint that fits a failure of kind `symptom`: its own, else the general one.
    pub fn hint_for(&self, symptom: Symptom) -> &'static str {
        self.hints.iter().find(|(fits, _)| *fits == symptom).map_or(self.hint, |(_, hint)| hint)
    }
}

/// An exercise's criteria.
pub struct ExerciseSpec {
    /// The exercise these criteria grade, from the course catalogue ([`course::EXERCISES`]).
    pub exercise: Exercise,
    /// `WORKBOOK_QUERY_DELAY_MS` for this exercise's service: a slow database, for exercises
    /// whose checks need a cache miss to be measurably dearer than a hit, or concurrent
    /// requests to overlap one computation. Zero elsewhere, so grading stays quick.
    pub query_delay_ms: u64,
    /// Whether a check compares the submission with the reference solution in the same run
    /// ([`Probe::reference`]): the grading run builds it before the checks start, so that no
    /// check spends its time limit on a build.
    pub needs_reference: bool,
    pub criteria: Vec<Criterion>,
}

impl ExerciseSpec {
    /// The points of every criterion together.
    pub fn max_score(&self) -> u32 {
        self.criteria.iter().map(|criterion| criterion.points).sum()
    }
}

/// Every exercise the grader knows, in checklist order.
pub fn registry() -> Vec<ExerciseSpec> {
    vec![
        redis_setup::spec(),
        view_cache::spec(),
        low_level_cache::spec(),
        invalidation::spec(),
        fragment_cache::spec(),
        query_optimisation::spec(),
    ]
}

/// The criteria of `exercise`. Every exercise of the catalogue has them (`criteria::tests`):
/// an exercise without is the grader's error, never one to leave out in silence.
pub fn spec_of<'a>(
    specs: &'a [ExerciseSpec],
    exercise: &Exercise,
) -> anyhow::Result<&'a ExerciseSpec> {
    specs
        .iter()
        .find(|spec| spec.exercise == *exercise)
        .ok_or_else(|| anyhow::anyhow!("the grader has no criteria for {}", exercise.dir_name()))
}

/// Turns an `async fn(&mut Probe<'_>) -> Verdict` into a [`Check`].
macro_rules! check {
    ($function:path) => {
        |probe| Box::pin($function(probe))
    };
}
pub(crate) use check;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criterion_ids_are_unique_and_well_formed() {
        for spec in registry() {
            let mut ids: Vec<&str> = spec.criteria.iter().map(|c| c.id).collect();
            assert!(ids.iter().all(|id| id.chars().all(|c| c.is_ascii_lowercase() || c == '-')));
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), spec.criteria.len(), "duplicate id in {}", spec.exercise.slug);
            assert!(spec.criteria.iter().all(|c| c.points > 0 && !c.hint.is_empty()));
        }
    }

    use crate::course;

    #[test]
    fn the_registry_follows_the_course_catalogue() {
        let registered: Vec<Exercise> = registry().iter().map(|spec| spec.exercise).collect();
        let catalogue: Vec<Exercise> = course::EXERCISES.to_vec();
        assert_eq!(registered, catalogue);
    }
}
