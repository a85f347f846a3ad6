//! The class's figures for the report: which submissions count, their mean and median, each
//! exercise's spread and each criterion's pass rate. Invalid submissions (nothing could be
//! read) and grader errors are counted apart, never as zeros.

use super::meta::{Meta, Outcome};
use crate::report::{Report, Status};

/// Below this share of the points a student is flagged.
pub const THRESHOLD_PERCENT: f64 = 50.0;

/// The students whose submission was read and graded (timed-out ones included: what finished
/// counts), with their result.
pub fn counted(students: &[(Meta, Option<Report>)]) -> Vec<(&Meta, &Report)> {
    students
        .iter()
        .filter(|(meta, _)| matches!(meta.outcome, Outcome::Graded | Outcome::TimedOut))
        .filter_map(|(meta, report)| Some((meta, report.as_ref()?)))
        .collect()
}

/// A report's score as a share of its points.
pub fn percent(report: &Report) -> f64 {
    report.score as f64 * 100.0 / report.max_score.max(1) as f64
}

/// Mean, median, extremes and standard deviation of some figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub mean: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// The population standard deviation.
    pub deviation: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let mean = sorted.iter().sum::<f64>() / n as f64;
        // An even count has two middles: the median is their mean.
        let median =
            if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
        let variance = sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        Some(Self { mean, median, min: sorted[0], max: sorted[n - 1], deviation: variance.sqrt() })
    }
}

/// How often one criterion passed among the counted submissions.
#[derive(Debug, Clone, PartialEq)]
pub struct PassRate {
    pub exercise: String,
    pub criterion: String,
    pub title: String,
    pub passed: usize,
    pub attempts: usize,
}

impl PassRate {
    pub fn percent(&self) -> f64 {
        self.passed as f64 * 100.0 / self.attempts.max(1) as f64
    }
}

/// Every criterion's pass rate, lowest first (ties in registry order): what the class found
/// hardest comes first.
pub fn pass_rates(counted: &[(&Meta, &Report)]) -> Vec<PassRate> {
    let mut rates: Vec<PassRate> = Vec::new();
    for (_, report) in counted {
        for exercise in &report.exercises {
            for criterion in &exercise.criteria {
                let at = rates
                    .iter()
                    .position(|r| r.exercise == exercise.id && r.criterion == criterion.id);
                let at = at.unwrap_or_else(|| {
                    rates.push(PassRate {
                        exercise: exercise.id.clone(),
                        criterion: criterion.id.clone(),
                        title: criterion.title.clone(),
                        passed: 0,
                        attempts: 0,
                    });
                    rates.len() - 1
                });
                rates[at].passed += usize::from(criterion.status == Status::Passed);
                rates[at].attempts += 1;
            }
        }
    }
    rates.sort_by(|a, b| a.percent().total_cmp(&b.percent()));
    rates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middles() {
        let spread = Spread::of(&[10.0, 40.0, 20.0, 100.0]).unwrap();
        assert_eq!(spread.median, 30.0);
        assert_eq!((spread.min, spread.max, spread.mean), (10.0, 100.0, 42.5));
        assert_eq!(Spread::of(&[3.0, 1.0, 2.0]).unwrap().median, 2.0);
        assert_eq!(Spread::of(&[2.0, 4.0]).unwrap().deviation, 1.0);
        assert!(Spread::of(&[]).is_none());
    }
}
