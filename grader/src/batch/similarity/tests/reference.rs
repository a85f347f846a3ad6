//! Reports cached in Redis.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

/// The key of a report of `owner`.
pub fn report_key(prefix: &str, owner: i64, name: &str) -> String {
    format!("{prefix}:report:{owner}:{name}")
}

/// Returns the cached report, or computes and stores it for `ttl` seconds.
pub async fn cached_report(
    connection: &mut ConnectionManager,
    prefix: &str,
    owner: i64,
    name: &str,
    ttl: u64,
    compute: impl std::future::Future<Output = anyhow::Result<String>>,
) -> anyhow::Result<String> {
    let key = report_key(prefix, owner, name);
    let cached: Option<String> = connection.get(&key).await?;
    if let Some(report) = cached {
        return Ok(report);
    }
    let report = compute.await?;
    // One command sets the value and its TTL together.
    let _: () = connection.set_ex(&key, &report, ttl).await?;
    Ok(report)
}

/// Forgets every cached report of `owner`.
pub async fn forget_reports(
    connection: &mut ConnectionManager,
    prefix: &str,
    owner: i64,
) -> anyhow::Result<()> {
    let pattern = format!("{prefix}:report:{owner}:*");
    let mut keys = Vec::new();
    {
        // SCAN walks the keys a batch at a time; KEYS would block Redis.
        let mut iter: redis::AsyncIter<String> = connection.scan_match(&pattern).await?;
        while let Some(key) = iter.next_item().await {
            keys.push(key?);
        }
    }
    if !keys.is_empty() {
        let _: () = connection.del(keys).await?;
    }
    Ok(())
}

/// Counts a report's views.
pub async fn count_view(
    connection: &mut ConnectionManager,
    prefix: &str,
    name: &str,
) -> anyhow::Result<u64> {
    let key = format!("{prefix}:views:{name}");
    let views: u64 = connection.incr(&key, 1).await?;
    Ok(views)
}
