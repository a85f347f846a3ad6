//! Load from `wrk`, the HTTP load generator, and what its `--latency` report says.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use crate::load::Load;
use crate::processes;

/// How hard to push: the same for every server in the table.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub connections: usize,
    pub threads: usize,
    pub duration: Duration,
}

pub async fn run(url: &str, settings: Settings) -> Result<Load> {
    let mut command = Command::new("wrk");
    command
        .arg(format!("--threads={}", settings.threads))
        .arg(format!("--connections={}", settings.connections))
        .arg(format!("--duration={}s", settings.duration.as_secs()))
        .arg("--latency")
        .arg(url);
    let output =
        processes::run(command, settings.duration + Duration::from_secs(30)).await.context(
            "wrk failed (install it with `sudo apt-get install -y wrk` or `brew install wrk`)",
        )?;
    parse(&output).with_context(|| format!("unexpected wrk output:\n{output}"))
}

/// Reads the figures of a `wrk --latency` report.
pub fn parse(report: &str) -> Result<Load> {
    let mut load = Load {
        requests_per_second: f64::NAN,
        p50: Duration::ZERO,
        p99: Duration::ZERO,
        errors: Some(0),
    };
    let mut errors = 0;
    let (mut p50, mut p99) = (None, None);
    for line in report.lines().map(str::trim) {
        if let Some(rate) = line.strip_prefix("Requests/sec:") {
            load.requests_per_second = rate.trim().parse().context("Requests/sec")?;
        } else if let Some(time) = line.strip_prefix("50%") {
            p50 = Some(duration(time.trim())?);
        } else if let Some(time) = line.strip_prefix("99%") {
            p99 = Some(duration(time.trim())?);
        } else if let Some(count) = line.strip_prefix("Non-2xx or 3xx responses:") {
            errors += count.trim().parse::<u64>().context("Non-2xx count")?;
        } else if let Some(counts) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 3, write 0, timeout 12"
            for part in counts.split(',') {
                let count = part.split_whitespace().last().context("a socket error count")?;
                errors += count.parse::<u64>().context("a socket error count")?;
            }
        }
    }
    if load.requests_per_second.is_nan() {
        bail!("no Requests/sec line");
    }
    match (p50, p99) {
        (Some(p50), Some(p99)) => Ok(Load { p50, p99, errors: Some(errors), ..load }),
        _ => bail!("no latency distribution (was wrk run with --latency?)"),
    }
}

/// `123.45us`, `1.20ms`, `2.00s` or `1.50m`, as wrk prints times.
fn duration(text: &str) -> Result<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic()).context("a time without a unit")?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().with_context(|| format!("not a time: {text:?}"))?;
    let nanos_per_unit = match unit {
        "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        _ => bail!("unknown time unit in {text:?}"),
    };
    Ok(Duration::from_nanos((number * nanos_per_unit).round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "\
Running 3s test @ http://127.0.0.1:18081/count/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.98ms   26.28ms 453.35ms   97.44%
    Req/Sec     1.24k   371.54     1.92k    66.67%
  Latency Distribution
     50%  850.00us
     75%    9.22ms
     90%   14.27ms
     99%  110.46ms
  7421 requests in 3.01s, 2.10MB read
  Socket errors: connect 0, read 2, write 0, timeout 5
  Non-2xx or 3xx responses: 3
Requests/sec:   2461.68
Transfer/sec:    714.07KB
";

    #[test]
    fn reads_rate_percentiles_and_errors() {
        let load = parse(REPORT).unwrap();
        assert_eq!(load.requests_per_second, 2461.68);
        assert_eq!(load.p50, Duration::from_micros(850));
        assert_eq!(load.p99, Duration::from_micros(110_460));
        assert_eq!(load.errors, Some(10));
    }

    #[test]
    fn a_report_without_latency_distribution_is_refused() {
        let without = REPORT.replace("50%", "x").replace("99%", "y");
        let err = parse(&without).unwrap_err().to_string();
        assert!(err.contains("--latency"), "{err}");
    }

    #[test]
    fn times_in_every_unit() {
        assert_eq!(duration("2.00s").unwrap(), Duration::from_secs(2));
        assert_eq!(duration("1.50m").unwrap(), Duration::from_secs(90));
        assert!(duration("3.0parsecs").is_err());
    }
}
