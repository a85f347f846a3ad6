//! What a check decides: pass, fail with evidence, or could not check.
//!
//! A leaf module: the probe, the checks, the grading run and the reports all speak these types.

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
    Failure::Failed { expected: expected.into(), observed: observed.into() }
}

impl From<redis::RedisError> for Failure {
    fn from(err: redis::RedisError) -> Self {
        Failure::Error(format!("the grader's own Redis connection failed: {err}"))
    }
}
