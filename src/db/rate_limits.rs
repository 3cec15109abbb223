//! Fixed-window attempt counters shared by every instance (`rate_limits`).

use chrono::{DateTime, Duration, Utc};

use super::{Db, DbResult, exec_db, on_db};

/// Count one attempt under `key` in its window of `window` (a fresh window when the last one
/// is over); the count so far and when the window began. One atomic upsert, so instances
/// racing on one key never lose a hit.
pub async fn hit(db: &Db, key: &str, now: DateTime<Utc>, window: Duration) -> DbResult<(i64, DateTime<Utc>)> {
    let sql = "INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1) \
               ON CONFLICT (key) DO UPDATE SET \
               hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END, \
               window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END \
               RETURNING CAST(hits AS BIGINT), window_start";
    let stale = now - window;
    Ok(on_db!(db, |pool| sqlx::query_as::<_, (i64, DateTime<Utc>)>(sql)
        .bind(key)
        .bind(now)
        .bind(stale)
        .fetch_one(pool)
        .await)?)
}

/// Delete the windows that began before `before` (the sweeper); how many.
pub async fn forget_before(db: &Db, before: DateTime<Utc>) -> DbResult<u64> {
    let sql = "DELETE FROM rate_limits WHERE window_start < $1";
    Ok(exec_db!(db, sqlx::query(sql).bind(before))?)
}
