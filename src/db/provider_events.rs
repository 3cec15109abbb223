//! Events from payment providers (Stripe webhooks): each stored once by the provider's id, so a
//! redelivery is recognised, and marked handled once acted on.

use chrono::{DateTime, Utc};

use super::tx::{Tx, exec_tx};
use super::{Db, DbResult, exec_db, on_db};

/// What storing an event found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// First delivery: act on it.
    New,
    /// Seen before but never finished (a crash mid-way): act on it again; handling is idempotent.
    Unhandled,
    /// Seen and handled: answer 200 and do nothing.
    Handled,
}

pub struct NewEvent<'a> {
    pub id: &'a str,
    pub provider: &'a str,
    pub kind: &'a str,
    pub object_id: Option<&'a str>,
    pub payment_id: Option<&'a str>,
    pub payload: &'a str,
}

pub async fn store(db: &Db, e: &NewEvent<'_>, now: DateTime<Utc>) -> DbResult<Stored> {
    let sql = "INSERT INTO provider_events (id, provider, type, object_id, payment_id, payload, received_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING";
    let inserted = exec_db!(
        db,
        sqlx::query(sql)
            .bind(e.id)
            .bind(e.provider)
            .bind(e.kind)
            .bind(e.object_id)
            .bind(e.payment_id)
            .bind(e.payload)
            .bind(now)
    )?;
    if inserted == 1 {
        return Ok(Stored::New);
    }
    let sql = "SELECT handled_at FROM provider_events WHERE id = $1";
    let row =
        on_db!(db, |pool| sqlx::query_as::<_, (Option<DateTime<Utc>>,)>(sql).bind(e.id).fetch_optional(pool).await)?;
    Ok(match row {
        Some((Some(_),)) => Stored::Handled,
        _ => Stored::Unhandled,
    })
}

/// Mark event `id` handled, inside the transaction that did its work; false when another
/// delivery finished it first (then that transaction's work must not be repeated).
pub async fn mark_handled(tx: &mut Tx, id: &str, now: DateTime<Utc>) -> DbResult<bool> {
    let sql = "UPDATE provider_events SET handled_at = $2 WHERE id = $1 AND handled_at IS NULL";
    let n = exec_tx!(tx, sqlx::query(sql).bind(id).bind(now))?;
    Ok(n == 1)
}
