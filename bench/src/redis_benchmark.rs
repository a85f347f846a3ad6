//! The Redis limit: `redis-benchmark` sending `GET` for a cached value, at the same
//! concurrency as the HTTP load.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use crate::load::Load;
use crate::processes;

/// `GET key` from `connections` clients on `threads` threads (as many as wrk uses, so that
/// the client is not the bottleneck), `requests` times in all.
pub async fn get(
    port: u16,
    key: &str,
    connections: usize,
    threads: usize,
    requests: u64,
) -> Result<Load> {
    let mut command = Command::new("redis-benchmark");
    command
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-c", &connections.to_string(), "--threads", &threads.to_string()])
        .args(["-n", &requests.to_string(), "--csv"])
        .args(["GET", key]);
    let output = processes::run(command, Duration::from_secs(300))
        .await
        .context("redis-benchmark failed (it comes with redis-server: `sudo apt-get install -y redis-server`)")?;
    parse_csv(&output).with_context(|| format!("unexpected redis-benchmark output:\n{output}"))
}

/// Reads the first result of `redis-benchmark --csv`: a header row, then one row per test.
pub fn parse_csv(csv: &str) -> Result<Load> {
    let mut rows = csv.lines().filter(|line| !line.trim().is_empty()).map(|line| {
        line.split(',').map(|field| field.trim().trim_matches('"')).collect::<Vec<_>>()
    });
    let header = rows.next().context("no header row")?;
    let row = rows.next().context("no result row")?;
    let field = |name: &str| -> Result<f64> {
        let at = header.iter().position(|column| *column == name);
        let Some(value) = at.and_then(|at| row.get(at)) else { bail!("no {name} column") };
        value.parse().with_context(|| format!("{name} is not a number: {value:?}"))
    };
    let milliseconds = |ms: f64| Duration::from_nanos((ms * 1e6).round() as u64);
    Ok(Load {
        requests_per_second: field("rps")?,
        p50: milliseconds(field("p50_latency_ms")?),
        p99: milliseconds(field("p99_latency_ms")?),
        errors: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_first_test_of_the_csv() {
        let csv = r#""test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"GET bench:page","20855.06","0.373","0.072","0.367","0.647","0.759","4.119"
"#;
        let load = parse_csv(csv).unwrap();
        assert_eq!(load.requests_per_second, 20855.06);
        assert_eq!(load.p50, Duration::from_micros(367));
        assert_eq!(load.p99, Duration::from_micros(759));
    }

    #[test]
    fn output_without_results_is_refused() {
        let err = parse_csv("\"test\",\"rps\"\n").unwrap_err().to_string();
        assert!(err.contains("no result row"), "{err}");
    }
}
