//! What a check decides: pass, fail with evidence, or could not check.
//!
//! A leaf module: the probe, the checks, the grading run and the reports all speak these types.

/// Why a check did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The service did not do what the criterion asks: what we expected, what we saw, and
    /// what kind of failure that is (it picks the hint).
    Failed { expected: String, observed: String, symptom: Symptom },
    /// The grader itself could not check (its Redis failed, a feature is unavailable).
    Error(String),
}

/// The kind of failure a check observed, so that the scorecard can give the hint that fits the
/// evidence (see `Criterion::hints`) instead of one hint for every way a criterion can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Symptom {
    /// Nothing more specific is known: the criterion's general hint.
    #[default]
    Unclassified,
    /// The service gave no answer in time.
    Timeout,
    /// A request failed outright: the connection was reset or refused (often a panic).
    ServiceError,
    /// The service cached nothing at all.
    NothingCached,
    /// The service used keys, or a pattern, outside its `prefix:version:` namespace.
    OutsidePrefix,
    /// A change showed on the instance of the service that made it, not on another instance:
    /// what should carry it lives in one process's memory.
    OneProcessOnly,
}

impl Symptom {
    /// The service gave no answer, in time or at all, rather than a wrong one: its own output
    /// may say why, and so may a machine busy with something else.
    pub fn no_answer(self) -> bool {
        matches!(self, Symptom::Timeout | Symptom::ServiceError)
    }

    /// What the check found wrong is in the service's state or its answers (nothing cached,
    /// keys outside the prefix, a change kept in one process), which no machine's load
    /// changes.
    pub fn found_in_content(self) -> bool {
        matches!(self, Symptom::NothingCached | Symptom::OutsidePrefix | Symptom::OneProcessOnly)
    }
}

/// Naming the [`Symptom`] of a failure, on a [`Failure`] or on a [`Verdict`]-like result.
pub trait Because {
    /// The same failure, classified as `symptom`; a pass or an error is left as it is.
    fn because(self, symptom: Symptom) -> Self;
}

impl Because for Failure {
    fn because(self, symptom: Symptom) -> Self {
        match self {
            Failure::Failed { expected, observed, .. } => {
                Failure::Failed { expected, observed, symptom }
            }
            error => error,
        }
    }
}

impl<T> Because for Result<T, Failure> {
    fn because(self, symptom: Symptom) -> Self {
        self.map_err(|failure| failure.because(symptom))
    }
}

/// The outcome of one check.
pub type Verdict = Result<(), Failure>;

/// Passes when `condition` holds; otherwise fails with what was expected and what was seen.
pub fn expect(
    condition: bool,
    expected: impl Into<String>,
    observed: impl Into<String>,
) -> Verdict {
    if condition { Ok(()) } else { Err(fail(expected, observed)) }
}

/// Fails unconditionally.
pub fn fail(expected: impl Into<String>, observed: impl Into<String>) -> Failure {
    Failure::Failed {
        expected: expected.into(),
        observed: observed.into(),
        symptom: Symptom::Unclassified,
    }
}

impl From<redis::RedisError> for Failure {
    fn from(err: redis::RedisError) -> Self {
        // BUSY is the service's doing: one of its scripts holds the server.
        if err.code() == Some("BUSY") {
            return fail("Redis to answer the grader", BUSY_SCRIPT);
        }
        Failure::Error(format!("the grader's own Redis connection failed: {err}"))
    }
}

/// What the grader saw when a script of the service's kept Redis busy.
pub const BUSY_SCRIPT: &str = "Redis answered BUSY: a Lua script of the service's ran for over a \
                               second and held the server, so the grader stopped it; a script \
                               must end quickly (no loop waiting on Redis, which a script \
                               never sees change)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn because_classifies_failures_and_leaves_passes_and_errors_alone() {
        let failed = expect(false, "a", "b").because(Symptom::Timeout);
        assert!(matches!(failed, Err(Failure::Failed { symptom: Symptom::Timeout, .. })));
        assert_eq!(expect(true, "a", "b").because(Symptom::Timeout), Ok(()));
        let error = Failure::Error("the grader's Redis".to_owned());
        assert_eq!(error.clone().because(Symptom::Timeout), error);
    }
}
