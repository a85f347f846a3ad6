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
