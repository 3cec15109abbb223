//! Stored results of `Idempotency-Key` requests: claim a key, record its response, replay it.

use chrono::{DateTime, Duration, Utc};

use sqlx::Row as _;

use super::companies::Company;
use super::{Db, DbResult, exec_db, on_db};

/// How long a finished result is kept (and replayed). The API promises at least 24 hours.
pub const RETENTION: Duration = Duration::hours(24);
/// A claim older than this without a result belongs to a request that died with its process;
/// a retry may take it over rather than being told "in flight" forever.
pub const STALE_CLAIM: Duration = Duration::minutes(5);

/// What a request finds when it presents its key.
#[derive(Debug, PartialEq)]
pub enum Claim {
    /// The key is ours: run the request, then [`complete`] or [`release`] it.
    Acquired,
    /// The same request ran before: answer exactly this.
    Replay { status: u16, body: Vec<u8> },
    /// The key was used with another request (method, path or body differ).
    Mismatch,
    /// The first request with this key is still running.
    InFlight,
}

/// A key as stored.
#[derive(Clone, sqlx::FromRow)]
pub struct Row {
    request_hash: String,
    state: String,
    response_status: Option<i32>,
    response_body: Option<Vec<u8>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

// A key read beside the company its API key opens (`company_and_key`).
super::rows::joined_row!(Row, "ik",
    request_hash: String, state: String, response_status: Option<i32>, response_body: Option<Vec<u8>>,
    created_at: DateTime<Utc>, updated_at: DateTime<Utc>,
);

/// The company an unrevoked API key opens, and what `idem_key` already holds for it, in one
/// query: an idempotent POST's authentication and key lookup in one round trip.
pub async fn company_and_key(db: &Db, api_key: &str, idem_key: &str) -> DbResult<Option<(Company, Option<Row>)>> {
    let sql = format!(
        "SELECT {}, {} FROM api_keys k JOIN companies co ON co.id = k.company_id \
         LEFT JOIN idempotency_keys ik ON ik.company_id = co.id AND ik.idem_key = $2 \
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
        Company::JOINED_COLUMNS,
        Row::JOINED_COLUMNS
    );
    let hash = super::companies::hash_key(api_key);
    let row = on_db!(db, |pool| match sqlx::query(&sql).bind(&hash).bind(idem_key).fetch_optional(pool).await {
        Ok(Some(row)) => (|| {
            let stored = match row.try_get::<Option<String>, _>("ik_state")? {
                Some(_) => Some(Row::from_joined(&row)?),
                None => None,
            };
            Ok(Some((Company::from_joined(&row)?, stored)))
        })(),
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    })?;
    Ok(row)
}

/// The claim: ($1 company, $2 key, $3 request hash, $4 now); changes no row when the key exists.
pub const CLAIM: &str = "INSERT INTO idempotency_keys (company_id, idem_key, request_hash, state, created_at, \
                         updated_at) VALUES ($1, $2, $3, 'running', $4, $4) ON CONFLICT (company_id, idem_key) DO NOTHING";
/// The answer of a claimed key: ($1 company, $2 key, $3 status, $4 body, $5 now).
pub const COMPLETE: &str = "UPDATE idempotency_keys SET state = 'done', response_status = $3, response_body = $4, \
                            updated_at = $5 WHERE company_id = $1 AND idem_key = $2";
/// A claim taken back: ($1 company, $2 key).
pub const RELEASE: &str = "DELETE FROM idempotency_keys WHERE company_id = $1 AND idem_key = $2 AND state = 'running'";
/// A finished answer stored at once (in the transaction of the work it answers, or alone for a
/// request that wrote nothing); changes no row when the key was taken meanwhile:
/// ($1 company, $2 key, $3 request hash, $4 status, $5 body, $6 now).
pub const ANSWERED: &str = "INSERT INTO idempotency_keys (company_id, idem_key, request_hash, state, response_status, \
                        response_body, created_at, updated_at) VALUES ($1, $2, $3, 'done', $4, $5, $6, $6) \
                        ON CONFLICT (company_id, idem_key) DO NOTHING";

pub async fn claim(db: &Db, company_id: &str, key: &str, request_hash: &str, now: DateTime<Utc>) -> DbResult<Claim> {
    let inserted = exec_db!(db, sqlx::query(CLAIM).bind(company_id).bind(key).bind(request_hash).bind(now))?;
    if inserted == 1 {
        return Ok(Claim::Acquired);
    }
    Ok(existing(db, company_id, key, request_hash, now).await?.unwrap_or(Claim::InFlight))
}

/// What a key already stored means for this request, without claiming it (`None`: nobody has
/// it). An expired result, or a stale claim of the same request, is taken over (`Acquired`).
pub async fn existing(
    db: &Db,
    company_id: &str,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
) -> DbResult<Option<Claim>> {
    let select = "SELECT request_hash, state, response_status, response_body, created_at, updated_at \
                  FROM idempotency_keys WHERE company_id = $1 AND idem_key = $2";
    let row =
        on_db!(db, |pool| sqlx::query_as::<_, Row>(select).bind(company_id).bind(key).fetch_optional(pool).await)?;
    judge(db, company_id, key, request_hash, row, now).await
}

/// What the stored `row` of a key (if any) means for this request, as [`existing`] says.
pub async fn judge(
    db: &Db,
    company_id: &str,
    key: &str,
    request_hash: &str,
    row: Option<Row>,
    now: DateTime<Utc>,
) -> DbResult<Option<Claim>> {
    let Some(row) = row else {
        return Ok(None);
    };
    let expired = row.created_at < now - RETENTION;
    let stale = row.state == "running" && row.updated_at < now - STALE_CLAIM;
    if expired || (stale && row.request_hash == request_hash) {
        return take_over(db, company_id, key, request_hash, row.updated_at, now).await.map(Some);
    }
    if row.request_hash != request_hash {
        return Ok(Some(Claim::Mismatch));
    }
    Ok(Some(match (row.state.as_str(), row.response_status, row.response_body) {
        ("done", Some(status), Some(body)) => Claim::Replay { status: u16::try_from(status).unwrap_or(500), body },
        _ => Claim::InFlight,
    }))
}

/// Store the answer of a request that never claimed its key (it wrote nothing, or its writes
/// were rolled back). False when the key was taken meanwhile.
pub async fn answered(
    db: &Db,
    company_id: &str,
    key: &str,
    request_hash: &str,
    status: u16,
    body: &[u8],
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let n = exec_db!(
        db,
        sqlx::query(ANSWERED)
            .bind(company_id)
            .bind(key)
            .bind(request_hash)
            .bind(i32::from(status))
            .bind(body)
            .bind(now)
    )?;
    Ok(n == 1)
}

/// Compare-and-set on `updated_at`, so two retries cannot both take over one stale claim.
async fn take_over(
    db: &Db,
    company_id: &str,
    key: &str,
    request_hash: &str,
    seen_updated_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DbResult<Claim> {
    let sql = "UPDATE idempotency_keys SET request_hash = $3, state = 'running', response_status = NULL, \
               response_body = NULL, created_at = $4, updated_at = $4 \
               WHERE company_id = $1 AND idem_key = $2 AND updated_at = $5";
    let n =
        exec_db!(db, sqlx::query(sql).bind(company_id).bind(key).bind(request_hash).bind(now).bind(seen_updated_at))?;
    Ok(if n == 1 { Claim::Acquired } else { Claim::InFlight })
}

/// Record the response of the request that holds the claim.
pub async fn complete(
    db: &Db,
    company_id: &str,
    key: &str,
    status: u16,
    body: &[u8],
    now: DateTime<Utc>,
) -> DbResult<()> {
    exec_db!(db, sqlx::query(COMPLETE).bind(company_id).bind(key).bind(i32::from(status)).bind(body).bind(now))?;
    Ok(())
}

/// Forget a claim whose request failed on our side, so the client can retry with the same key.
pub async fn release(db: &Db, company_id: &str, key: &str) -> DbResult<()> {
    exec_db!(db, sqlx::query(RELEASE).bind(company_id).bind(key))?;
    Ok(())
}

/// Delete results past their retention; returns how many went.
pub async fn purge(db: &Db, now: DateTime<Utc>) -> DbResult<u64> {
    let sql = "DELETE FROM idempotency_keys WHERE created_at < $1";
    let cutoff = now - RETENTION;
    Ok(exec_db!(db, sqlx::query(sql).bind(cutoff))?)
}
