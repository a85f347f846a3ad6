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
    let full_key = report_key(prefix, owner, name);
    let stored: Option<String> = redis::cmd("GET").arg(&full_key).query_async(conn).await?;
    match stored {
        Some(text) => Ok(text),
        None => {
            let fresh = compute.await?;
            // SET with EX: the value never lives without its expiry.
            redis::cmd("SET")
                .arg(&full_key)
                .arg(&fresh)
                .arg("EX")
                .arg(ttl)
                .query_async::<()>(conn)
                .await?;
            Ok(fresh)
        }
    }
}

/// Forgets every cached report of `owner`.
pub async fn forget_reports(
    conn: &mut ConnectionManager,
    prefix: &str,
    owner: i64,
) -> anyhow::Result<()> {
    let pattern = format!("{}:report:{}:*", prefix, owner);
    let mut cursor: u64 = 0;
    loop {
        let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(100)
            .query_async(conn)
            .await?;
        // UNLINK frees the memory in the background.
        for chunk in found.chunks(50) {
            redis::cmd("UNLINK").arg(chunk).query_async::<()>(conn).await?;
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
    Ok(())
}

/// Counts a report's views.
pub async fn count_view(
    conn: &mut ConnectionManager,
    prefix: &str,
    name: &str,
) -> anyhow::Result<u64> {
    let views_key = [prefix, "views", name].join(":");
    let total = redis::cmd("INCR").arg(views_key).query_async::<u64>(conn).await?;
    Ok(total)
}
