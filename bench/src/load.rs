//! What one load run measured, whichever tool produced it.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    pub requests_per_second: f64,
    /// Median latency.
    pub p50: Duration,
    pub p99: Duration,
    /// Failed requests, when the tool counts them (wrk: non-2xx/3xx answers and socket errors).
    pub errors: Option<u64>,
}

impl Load {
    /// The median of several runs, figure by figure (for an even count, the upper middle), and
    /// the errors of all of them.
    pub fn median(runs: &[Load]) -> Load {
        fn middle<T: PartialOrd + Copy>(mut values: Vec<T>) -> T {
            values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            values[values.len() / 2]
        }
        Load {
            requests_per_second: middle(runs.iter().map(|run| run.requests_per_second).collect()),
            p50: middle(runs.iter().map(|run| run.p50).collect()),
            p99: middle(runs.iter().map(|run| run.p99).collect()),
            errors: runs.iter().map(|run| run.errors).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(requests_per_second: f64, p99_ms: u64, errors: Option<u64>) -> Load {
        let p99 = Duration::from_millis(p99_ms);
        Load { requests_per_second, p50: p99 / 4, p99, errors }
    }

    #[test]
    fn the_median_is_taken_figure_by_figure_and_errors_add_up() {
        let median = Load::median(&[
            run(900.0, 30, Some(1)),
            run(100.0, 90, Some(0)),
            run(500.0, 10, Some(2)),
        ]);
        assert_eq!(median.requests_per_second, 500.0);
        assert_eq!(median.p99, Duration::from_millis(30));
        assert_eq!(median.p50, Duration::from_micros(7_500));
        assert_eq!(median.errors, Some(3));
    }

    #[test]
    fn errors_stay_unknown_when_the_tool_does_not_count_them() {
        let median = Load::median(&[run(1.0, 1, None), run(2.0, 2, None)]);
        assert_eq!(median.requests_per_second, 2.0);
        assert_eq!(median.errors, None);
    }
}
