//! The criteria registry: every point the grader can award, with the check that decides it.
//!
//! Each exercise module lists its criteria in checklist order; the scorecard, the JSON output
//! and the book's tables are all produced from these lists.

mod fragment_cache;
mod low_level_cache;
mod query_optimisation;
mod redis_setup;
mod view_cache;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::probe::Probe;

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

/// Why a check did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The service did not do what the criterion asks: what we expected and what we saw.
    Failed { expected: String, observed: String },
    /// The grader itself could not check (its Redis failed, a feature is unavailable).
    Error(String),
}

/// The outcome of one check.
pub type Verdict = Result<(), Failure>;

/// A check: probes the running service and decides one criterion.
pub type Check = for<'a> fn(&'a mut Probe) -> Pin<Box<dyn Future<Output = Verdict> + Send + 'a>>;

/// One line of the scorecard.
pub struct Criterion {
    pub id: &'static str,
    pub title: &'static str,
    pub category: Category,
    pub points: u32,
    /// What to look at when the criterion fails.
    pub hint: &'static str,
    pub check: Check,
}

/// An exercise's criteria.
pub struct ExerciseSpec {
    pub slug: &'static str,
    pub title: &'static str,
    /// `WORKBOOK_QUERY_DELAY_MS` for this exercise's service: a slow database, for exercises
    /// whose checks need a cache miss to be measurably dearer than a hit, or concurrent
    /// requests to overlap one computation. Zero elsewhere, so grading stays quick.
    pub query_delay_ms: u64,
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
        fragment_cache::spec(),
        query_optimisation::spec(),
    ]
}

/// Passes when `condition` holds; otherwise fails with what was expected and what was seen.
pub fn expect(
    condition: bool,
    expected: impl Into<String>,
    observed: impl Into<String>,
) -> Verdict {
    if condition {
        Ok(())
    } else {
        Err(Failure::Failed { expected: expected.into(), observed: observed.into() })
    }
}

/// Fails unconditionally.
pub fn fail(expected: impl Into<String>, observed: impl Into<String>) -> Failure {
    Failure::Failed { expected: expected.into(), observed: observed.into() }
}

impl From<redis::RedisError> for Failure {
    fn from(err: redis::RedisError) -> Self {
        Failure::Error(format!("the grader's own Redis connection failed: {err}"))
    }
}

/// Turns an `async fn(&mut Probe) -> Verdict` into a [`Check`].
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
        for exercise in registry() {
            let mut ids: Vec<&str> = exercise.criteria.iter().map(|c| c.id).collect();
            assert!(ids.iter().all(|id| id.chars().all(|c| c.is_ascii_lowercase() || c == '-')));
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), exercise.criteria.len(), "duplicate id in {}", exercise.slug);
            assert!(exercise.criteria.iter().all(|c| c.points > 0 && !c.hint.is_empty()));
        }
    }

    #[test]
    fn every_exercise_folder_has_criteria() {
        let specs = registry();
        for exercise in crate::workbook::exercises().unwrap() {
            assert!(
                specs.iter().any(|spec| spec.slug == exercise.slug),
                "exercise {} has no criteria in the registry",
                exercise.dir_name()
            );
        }
    }
}
