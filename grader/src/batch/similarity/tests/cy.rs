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
    let key = report_key(prefix, owner, name);
    if let Ok(Some(hit)) = conn.get::<_, Option<String>>(&key).await {
        return Ok(hit);
    }
    let computed = compute.await?;
    // A failed write costs only a later miss, so it is logged, not returned.
    let written: redis::RedisResult<()> = redis::pipe()
        .atomic()
        .set(&key, &computed)
        .expire(&key, ttl as i64)
        .query_async(conn)
        .await;
    if let Err(error) = written {
        eprintln!("could not cache {key}: {error}");
    }
    Ok(computed)
}

/// Forgets every cached report of `owner`.
pub async fn forget_reports(
    conn: &mut ConnectionManager,
    prefix: &str,
    owner: i64,
) -> anyhow::Result<()> {
    let glob = format!("{prefix}:report:{owner}:*");
    let mut doomed: Vec<String> = vec![];
    let mut scan = conn.scan_match::<_, String>(glob).await?;
    loop {
        match scan.next_item().await {
            Some(Ok(item)) => doomed.push(item),
            Some(Err(error)) => return Err(error.into()),
            None => break,
        }
    }
    drop(scan);
    for batch in doomed.chunks(100) {
        conn.del::<_, ()>(batch).await?;
    }
    Ok(())
}

/// Counts a report's views.
pub async fn count_view(
    conn: &mut ConnectionManager,
    prefix: &str,
    name: &str,
) -> anyhow::Result<u64> {
    Ok(conn.incr::<_, _, u64>(format!("{prefix}:views:{name}"), 1u64).await?)
}
