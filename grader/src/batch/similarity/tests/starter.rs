//! Reports cached in Redis.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

/// The key of a report of `owner`.
pub fn report_key(prefix: &str, owner: i64, name: &str) -> String {
    format!("{prefix}:report:{owner}:{name}")
}

/// Returns the cached report, or computes and stores it for `ttl` seconds.
pub async fn cached_report(
    conn: &mut ConnectionManager,
    prefix: &str,
    owner: i64,
    name: &str,
    ttl: u64,
    compute: impl std::future::Future<Output = anyhow::Result<String>>,
) -> anyhow::Result<String> {
    // TODO: look the report up in Redis first, and store what you compute.
    let _ = (conn, prefix, owner, name, ttl);
    compute.await
}

/// Forgets every cached report of `owner`.
pub async fn forget_reports(
    conn: &mut ConnectionManager,
    prefix: &str,
    owner: i64,
) -> anyhow::Result<()> {
    // TODO: delete the keys of every report of `owner`, without KEYS.
    let _ = (conn, prefix, owner);
    Ok(())
}

/// Counts a report's views.
pub async fn count_view(
    conn: &mut ConnectionManager,
    prefix: &str,
    name: &str,
) -> anyhow::Result<u64> {
    // TODO: one atomic command.
    let _ = (conn, prefix, name);
    Ok(0)
}
