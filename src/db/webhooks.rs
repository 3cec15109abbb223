//! Merchant webhook endpoints, the event outbox, and the delivery queue the outbox worker claims from.
//!
//! An event is queued by [`enqueue`] on the transaction of the change it reports and written when
//! it commits (`db::tx`), together with one `webhook_deliveries` row per subscribed endpoint, so an
//! event exists exactly when its change does. The worker ([`crate::services::outbox`]) then claims due deliveries with [`claim_due`] and
//! records each round's outcomes with [`record`].

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::rows::{self, Hidden, Stored};
use super::tx::{Queued, Tx, exec_tx};
use super::{Db, DbError, DbResult, Page, on_db};
use crate::domain::ids::{self, prefix};

/// Delivery states, as stored in `webhook_deliveries.status`.
pub mod status {
    /// Waiting for its first or next attempt.
    pub const PENDING: &str = "PENDING";
    /// The endpoint answered 2xx.
    pub const DELIVERED: &str = "DELIVERED";
    /// Given up: retries ran out, or the endpoint was disabled.
    pub const FAILED: &str = "FAILED";
}

/// A URL of a company that receives signed events.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub id: String,
    pub company_id: String,
    pub url: String,
    /// The event types sent here; empty means every type (`db::tx` applies the rule).
    pub event_types: Vec<String>,
    pub secret: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: String,
    company_id: String,
    url: String,
    event_types: String,
    secret: String,
    description: Option<String>,
    enabled: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<EndpointRow> for Endpoint {
    type Error = DbError;

    fn try_from(r: EndpointRow) -> DbResult<Endpoint> {
        let event_types = serde_json::from_str(&r.event_types)
            .map_err(|e| DbError::Corrupt(format!("webhook_endpoints.event_types of {}: {e}", r.id)))?;
        Ok(Endpoint {
            id: r.id,
            company_id: r.company_id,
            url: r.url,
            event_types,
            secret: r.secret,
            description: r.description,
            enabled: r.enabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const ENDPOINT_COLUMNS: &str = "id, company_id, url, event_types, secret, description, enabled, created_at, updated_at";

impl Stored for EndpointRow {
    const TABLE: &'static str = "webhook_endpoints";
    const COLUMNS: &'static str = ENDPOINT_COLUMNS;
}

pub async fn insert_endpoint(db: &Db, e: &Endpoint) -> DbResult<()> {
    let sql = "INSERT INTO webhook_endpoints (id, company_id, url, event_types, secret, description, enabled, \
               created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    let event_types = serde_json::to_string(&e.event_types).map_err(|err| DbError::Corrupt(err.to_string()))?;
    let mut tx = db.begin().await?;
    exec_tx!(
        &mut tx,
        sqlx::query(sql)
            .bind(&e.id)
            .bind(&e.company_id)
            .bind(&e.url)
            .bind(&event_types)
            .bind(&e.secret)
            .bind(&e.description)
            .bind(e.enabled)
            .bind(e.created_at)
            .bind(e.updated_at)
    )?;
    bump_cache_version(&mut tx, &e.company_id).await?;
    tx.commit().await
}

/// Every instance's endpoints in memory (`db::tx::Endpoints`) for `company_id` are stale now.
async fn bump_cache_version(tx: &mut Tx, company_id: &str) -> DbResult<()> {
    let sql = "UPDATE companies SET cache_version = cache_version + 1 WHERE id = $1";
    exec_tx!(tx, sqlx::query(sql).bind(company_id))?;
    Ok(())
}

pub async fn get_endpoint(db: &Db, company_id: &str, id: &str) -> DbResult<Option<Endpoint>> {
    rows::get::<EndpointRow>(db, company_id, id).await?.map(Endpoint::try_from).transpose()
}

/// Endpoints of `company_id`, newest first, enabled and disabled alike (`page.include_archived`
/// does not apply: a disabled endpoint is still one the merchant wants to see).
pub async fn list_endpoints(db: &Db, company_id: &str, page: &Page) -> DbResult<Vec<Endpoint>> {
    let rows = rows::page::<EndpointRow>(db, company_id, page, Hidden::Nothing, &[]).await?;
    rows.into_iter().map(Endpoint::try_from).collect()
}

/// Disable an endpoint: it gets no new deliveries, and the ones still pending for it are given
/// up in the same transaction, so nothing is sent to a URL the merchant switched off.
/// Disabling again changes nothing. Returns the endpoint as it is now.
pub async fn disable_endpoint(db: &Db, company_id: &str, id: &str, now: DateTime<Utc>) -> DbResult<Option<Endpoint>> {
    let mut tx = db.begin().await?;
    let disable = "UPDATE webhook_endpoints SET enabled = $3, updated_at = $4 \
                   WHERE company_id = $1 AND id = $2 AND enabled = $5";
    let changed = exec_tx!(&mut tx, sqlx::query(disable).bind(company_id).bind(id).bind(false).bind(now).bind(true))?;
    if changed == 1 {
        bump_cache_version(&mut tx, company_id).await?;
        let cancel = "UPDATE webhook_deliveries SET status = $3, last_error = $4, locked_until = NULL, updated_at = $5 \
                      WHERE company_id = $1 AND endpoint_id = $2 AND status = $6";
        exec_tx!(
            &mut tx,
            sqlx::query(cancel)
                .bind(company_id)
                .bind(id)
                .bind(status::FAILED)
                .bind("endpoint disabled")
                .bind(now)
                .bind(status::PENDING)
        )?;
    }
    tx.commit().await?;
    get_endpoint(db, company_id, id).await
}

/// The envelope every event is sent in; field order is the order merchants see.
#[derive(Serialize)]
struct Envelope<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    created: i64,
    company_id: &'a str,
    data: serde_json::Value,
}

/// Record an event of `company_id` with one delivery per enabled endpoint subscribed to
/// `event_type`, as part of `tx` (the transaction of the change the event reports): written when
/// `tx` commits, together with every other event it raised (see `db::tx`). Returns the event id.
///
/// The payload is serialized once here and sent byte for byte on every attempt, so a signature
/// always covers exactly what is stored.
pub fn enqueue(
    tx: &mut Tx,
    company_id: &str,
    event_type: &str,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> DbResult<String> {
    let event_id = ids::new_id(prefix::EVENT, now);
    let envelope = Envelope { id: &event_id, event_type, created: now.timestamp(), company_id, data };
    let payload = serde_json::to_string(&envelope).map_err(|e| DbError::Corrupt(format!("event payload: {e}")))?;
    tx.queue(Queued {
        id: event_id.clone(),
        company_id: company_id.to_string(),
        event_type: event_type.to_string(),
        payload,
        at: now,
    });
    Ok(event_id)
}

/// A delivery claimed by one worker: everything needed to send it and to schedule what follows.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Due {
    pub id: String,
    pub company_id: String,
    /// Attempts made before this one.
    pub attempts: i32,
    pub endpoint_id: String,
    pub url: String,
    pub secret: String,
    pub event_id: String,
    pub event_type: String,
    /// The event as stored: the exact bytes to send and sign.
    pub payload: String,
    pub event_created_at: DateTime<Utc>,
}

/// Claim up to `limit` deliveries due at `now`, each for `lease`, and return them.
///
/// Several workers (threads, or Kasse processes sharing one PostgreSQL) may call this at once;
/// each delivery goes to exactly one of them. One UPDATE takes the due rows with a
/// compare-and-set on `locked_until`: on PostgreSQL a second UPDATE of the same row waits for the
/// first to commit and re-checks its WHERE against the new row (so it skips it), on SQLite writes
/// are serialized. Only rows this call changed are returned.
/// A worker that dies holding a claim loses it when the lease runs out, and the delivery is
/// attempted again: delivery is at least once, never silently dropped.
pub async fn claim_due(db: &Db, now: DateTime<Utc>, limit: i64, lease: Duration) -> DbResult<Vec<Due>> {
    let claim = "UPDATE webhook_deliveries SET locked_until = $5 \
                 WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                     WHERE d.status = $1 AND d.next_attempt_at <= $2 \
                     AND (d.locked_until IS NULL OR d.locked_until < $2) AND e.enabled = $3 \
                     ORDER BY d.next_attempt_at LIMIT $4) \
                 AND status = $1 AND (locked_until IS NULL OR locked_until < $2) RETURNING id";
    let claimed: Vec<(String,)> = on_db!(db, |pool| sqlx::query_as(claim)
        .bind(status::PENDING)
        .bind(now)
        .bind(true)
        .bind(limit)
        .bind(now + lease)
        .fetch_all(pool)
        .await)?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let select = format!(
        "SELECT d.id, d.company_id, d.attempts, d.endpoint_id, e.url, e.secret, d.event_id, \
         ev.event_type, ev.payload, ev.created_at AS event_created_at \
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         JOIN outbox_events ev ON ev.id = d.event_id WHERE d.id IN ({}) ORDER BY d.next_attempt_at",
        super::placeholders(1, claimed.len())
    );
    Ok(on_db!(db, |pool| {
        let mut q = sqlx::query_as::<_, Due>(&select);
        for (id,) in &claimed {
            q = q.bind(id);
        }
        q.fetch_all(pool).await
    })?)
}

/// What one attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempted {
    /// The endpoint answered 2xx.
    Delivered { http_status: u16 },
    /// Another answer (`http_status`), or none at all; `next` says what follows.
    Failed { http_status: Option<u16>, error: String, next: Next },
}

/// Record the outcomes of a round of attempts (each with the time it ended), in one transaction:
/// each counts its attempt, releases its claim, and is delivered, scheduled again or given up.
pub async fn record(db: &Db, outcomes: &[(String, Attempted, DateTime<Utc>)]) -> DbResult<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let delivered = "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, last_status = $3, \
                     last_error = NULL, delivered_at = $4, locked_until = NULL, updated_at = $4 \
                     WHERE id = $1 AND status = $5";
    let failed = "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, last_status = $3, \
                  last_error = $4, next_attempt_at = COALESCE($5, next_attempt_at), locked_until = NULL, \
                  updated_at = $6 WHERE id = $1 AND status = $7";
    let mut tx = db.begin().await?;
    for (id, outcome, now) in outcomes {
        let now = *now;
        match outcome {
            Attempted::Delivered { http_status } => {
                exec_tx!(
                    &mut tx,
                    sqlx::query(delivered)
                        .bind(id)
                        .bind(status::DELIVERED)
                        .bind(i32::from(*http_status))
                        .bind(now)
                        .bind(status::PENDING)
                )?;
            }
            Attempted::Failed { http_status, error, next } => {
                let (new_status, next_attempt_at) = match next {
                    Next::RetryAt(at) => (status::PENDING, Some(*at)),
                    Next::Dead => (status::FAILED, None),
                };
                // An endpoint's error text is arbitrary: keep it short and storable (PostgreSQL refuses NUL).
                let error: String = error.chars().filter(|c| *c != '\0').take(500).collect();
                exec_tx!(
                    &mut tx,
                    sqlx::query(failed)
                        .bind(id)
                        .bind(new_status)
                        .bind(http_status.map(i32::from))
                        .bind(&error)
                        .bind(next_attempt_at)
                        .bind(now)
                        .bind(status::PENDING)
                )?;
            }
        }
    }
    tx.commit().await
}

/// What follows a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// Give up: the delivery becomes FAILED and is never attempted again.
    Dead,
}

/// A delivery as stored, for inspection (tests, operators).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Delivery {
    pub id: String,
    pub company_id: String,
    pub event_id: String,
    pub endpoint_id: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Every delivery of one event of `company_id`, oldest first.
pub async fn deliveries_of_event(db: &Db, company_id: &str, event_id: &str) -> DbResult<Vec<Delivery>> {
    let sql = "SELECT id, company_id, event_id, endpoint_id, status, attempts, next_attempt_at, locked_until, \
               last_status, last_error, delivered_at, created_at, updated_at FROM webhook_deliveries \
               WHERE company_id = $1 AND event_id = $2 ORDER BY id";
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Delivery>(sql).bind(company_id).bind(event_id).fetch_all(pool).await)?)
}

/// The stored payload of an event of `company_id`: the exact bytes every delivery sends.
pub async fn event_payload(db: &Db, company_id: &str, event_id: &str) -> DbResult<Option<String>> {
    let sql = "SELECT payload FROM outbox_events WHERE company_id = $1 AND id = $2";
    let row: Option<(String,)> =
        on_db!(db, |pool| sqlx::query_as(sql).bind(company_id).bind(event_id).fetch_optional(pool).await)?;
    Ok(row.map(|(p,)| p))
}
