//! Checkout sessions: created by the API or a link, opened by token, completed exactly once.
//!
//! Every status change is a compare-and-set on `status` (see `domain::checkout`), and a payment
//! attempt first takes `paying_until`, so that concurrent submits, reloads and provider
//! callbacks converge on one result.

use chrono::{DateTime, Utc};

use sqlx::{FromRow, Row};

use super::billing::Payment;
use super::companies::Company;
use super::rows::{self, Hidden, Stored};
use super::tx::{Tx, exec_tx, on_tx};
use super::{Db, DbResult, Page, exec_db, on_db};
use crate::domain::checkout::Status;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CheckoutSession {
    pub id: String,
    pub company_id: String,
    pub token: String,
    /// CHECKOUT (seed 000), SESSION (seed 001) or LINK.
    pub source: String,
    pub link_id: Option<String>,
    pub status: String,
    pub customer_id: Option<String>,
    pub currency: String,
    /// `domain::order::Order` as JSON.
    pub order_spec: String,
    /// `services::checkout::Options` as JSON.
    pub options: String,
    /// `domain::order::Entered` as JSON.
    pub entered: String,
    /// Fields echoed in the seed-001 response, JSON.
    pub extra: String,
    pub metadata: String,
    pub locale: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub paying_until: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub subscription_id: Option<String>,
    pub invoice_id: Option<String>,
    pub payment_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `domain::redemption::Redemption` as JSON: the codes this order counts (see migration 0008).
    pub redemption_counted: Option<String>,
    /// The company's `cache_version` when the session was read together with its company
    /// ([`by_token_with_company`]): lets pricing trust the in-memory pricings. Not a column.
    #[sqlx(default)]
    pub cache_version: Option<i64>,
}

impl CheckoutSession {
    /// The status; an unknown stored value reads as EXPIRED, which locks the session safely.
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Expired)
    }
}

// The session read beside its contract (a signing page).
super::rows::joined_row!(CheckoutSession, "s",
    id: String, company_id: String, token: String, source: String, link_id: Option<String>, status: String,
    customer_id: Option<String>, currency: String, order_spec: String, options: String, entered: String, extra: String,
    metadata: String, locale: Option<String>, expires_at: Option<DateTime<Utc>>, paying_until: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>, subscription_id: Option<String>, invoice_id: Option<String>,
    payment_id: Option<String>, created_at: DateTime<Utc>, updated_at: DateTime<Utc>,
    redemption_counted: Option<String>; computed: cache_version: Option<i64>,
);

const COLUMNS: &str = "id, company_id, token, source, link_id, status, customer_id, currency, order_spec, options, \
     entered, extra, metadata, locale, expires_at, paying_until, completed_at, subscription_id, invoice_id, payment_id, \
     created_at, updated_at, redemption_counted";

impl Stored for CheckoutSession {
    const TABLE: &'static str = "checkout_sessions";
    const COLUMNS: &'static str = COLUMNS;
}

/// `status IN ('CREATED', 'AWAITING_PAYMENT')`: the statuses a change to `to` may start from.
fn from_clause(to: Status) -> String {
    let list: Vec<String> = Status::sources(to).iter().map(|s| format!("'{}'", s.as_str())).collect();
    format!("status IN ({})", list.join(", "))
}

pub async fn insert(db: &Db, s: &CheckoutSession) -> DbResult<()> {
    let mut tx = db.begin().await?;
    insert_in(&mut tx, s).await?;
    tx.commit().await
}

/// [`insert`] inside the caller's transaction (a contract and its session are made together).
pub async fn insert_in(tx: &mut Tx, s: &CheckoutSession) -> DbResult<()> {
    let sql = format!(
        "INSERT INTO checkout_sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
         $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
    );
    exec_tx!(
        tx,
        sqlx::query(&sql)
            .bind(&s.id)
            .bind(&s.company_id)
            .bind(&s.token)
            .bind(&s.source)
            .bind(&s.link_id)
            .bind(&s.status)
            .bind(&s.customer_id)
            .bind(&s.currency)
            .bind(&s.order_spec)
            .bind(&s.options)
            .bind(&s.entered)
            .bind(&s.extra)
            .bind(&s.metadata)
            .bind(&s.locale)
            .bind(s.expires_at)
            .bind(s.paying_until)
            .bind(s.completed_at)
            .bind(&s.subscription_id)
            .bind(&s.invoice_id)
            .bind(&s.payment_id)
            .bind(s.created_at)
            .bind(s.updated_at)
            .bind(&s.redemption_counted)
    )?;
    Ok(())
}

pub async fn by_token(db: &Db, token: &str) -> DbResult<Option<CheckoutSession>> {
    rows::by(db, "token", token).await
}

/// The session behind `token` and its company, in one query: what every hosted page starts from.
pub async fn by_token_with_company(db: &Db, token: &str) -> DbResult<Option<(CheckoutSession, Company)>> {
    with_company(db, "s.token = $1", &[token]).await
}

/// What a customer's submit of the page starts from: the session, its company, and the
/// session's newest payment attempt, in one query. Paying takes the payment lock only while that
/// attempt is still the newest ([`lock_for_payment`]), so the read cannot go stale.
pub async fn by_token_for_submit(
    db: &Db,
    token: &str,
) -> DbResult<Option<(CheckoutSession, Company, Option<Payment>)>> {
    let sql = format!(
        "SELECT {}, co.cache_version AS cache_version, {}, {} FROM checkout_sessions s \
         JOIN companies co ON co.id = s.company_id \
         LEFT JOIN payments pa ON pa.id = (SELECT MAX(id) FROM payments WHERE checkout_id = s.id) WHERE s.token = $1",
        session_columns(),
        Company::JOINED_COLUMNS,
        Payment::JOINED_COLUMNS
    );
    let row = on_db!(db, |pool| match sqlx::query(&sql).bind(token).fetch_optional(pool).await {
        Ok(Some(row)) => (|| {
            let session = CheckoutSession::from_row(&row)?;
            let company = Company::from_joined(&row)?;
            let payment = match row.try_get::<Option<String>, _>("pa_id")? {
                Some(_) => Some(Payment::from_joined(&row)?),
                None => None,
            };
            Ok(Some((session, company, payment)))
        })(),
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    })?;
    Ok(row)
}

/// The session's columns as `s.column`, for a join.
fn session_columns() -> String {
    COLUMNS.split(", ").map(|c| format!("s.{}", c.trim())).collect::<Vec<_>>().join(", ")
}

/// Session `id` of `company_id` and the company, in one query (a contract's page).
pub async fn get_with_company(db: &Db, company_id: &str, id: &str) -> DbResult<Option<(CheckoutSession, Company)>> {
    with_company(db, "s.company_id = $1 AND s.id = $2", &[company_id, id]).await
}

async fn with_company(db: &Db, filter: &str, binds: &[&str]) -> DbResult<Option<(CheckoutSession, Company)>> {
    let sql = format!(
        "SELECT {}, co.cache_version AS cache_version, {} FROM checkout_sessions s \
         JOIN companies co ON co.id = s.company_id WHERE {filter}",
        session_columns(),
        Company::JOINED_COLUMNS
    );
    let row = on_db!(db, |pool| {
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = q.bind(*b);
        }
        match q.fetch_optional(pool).await {
            Ok(Some(row)) => {
                CheckoutSession::from_row(&row).and_then(|s| Ok((s, Company::from_joined(&row)?))).map(Some)
            }
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        }
    })?;
    Ok(row)
}

/// A session by id alone, for signed preview links (the signature stands in for the tenant check).
pub async fn by_id(db: &Db, id: &str) -> DbResult<Option<CheckoutSession>> {
    rows::by(db, "id", id).await
}

pub async fn get(db: &Db, company_id: &str, id: &str) -> DbResult<Option<CheckoutSession>> {
    rows::get(db, company_id, id).await
}

/// Sessions of a company, newest first, optionally of one status, one customer, one source.
pub async fn list(
    db: &Db,
    company_id: &str,
    page: &Page,
    status: Option<&str>,
    customer_id: Option<&str>,
    source: Option<&str>,
) -> DbResult<Vec<CheckoutSession>> {
    let filters = [("status", status), ("customer_id", customer_id), ("source", source)];
    rows::page(db, company_id, page, Hidden::Nothing, &filters).await
}

/// Keep what the customer entered, while the session is open. False when it no longer is.
pub async fn save_entered(db: &Db, id: &str, entered: &str, now: DateTime<Utc>) -> DbResult<bool> {
    let sql = format!(
        "UPDATE checkout_sessions SET entered = $2, updated_at = $3 WHERE id = $1 AND {}",
        from_clause(Status::AwaitingPayment)
    );
    let n = exec_db!(db, sqlx::query(&sql).bind(id).bind(entered).bind(now))?;
    Ok(n == 1)
}

/// What an attempt to pay knew when it asked for the payment lock.
pub struct Paying<'a> {
    /// What the customer entered (`domain::order::Entered` as JSON), kept with the lock: the
    /// reconciler completes a paid order from it if this process dies after the charge.
    pub entered: &'a str,
    /// The session's newest payment attempt as read with the session (`by_token_for_submit`).
    pub newest_payment: Option<&'a str>,
}

/// Take the payment lock until `until`: only one attempt at a time may charge. Moves the session
/// to AWAITING_PAYMENT and keeps what was entered. False when another attempt holds the lock,
/// the session closed, or an attempt newer than `paying.newest_payment` was made meanwhile (a
/// second tab that paid and let go between our read and now).
pub async fn lock_for_payment(
    db: &Db,
    id: &str,
    paying: &Paying<'_>,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> DbResult<bool> {
    let sql = format!(
        "UPDATE checkout_sessions SET paying_until = $3, status = 'AWAITING_PAYMENT', entered = $4, updated_at = $2 \
         WHERE id = $1 AND {} AND (paying_until IS NULL OR paying_until < $2) \
         AND COALESCE((SELECT MAX(p.id) FROM payments p WHERE p.checkout_id = $1), '') = $5",
        from_clause(Status::AwaitingPayment)
    );
    let newest = paying.newest_payment.unwrap_or_default();
    let n = exec_db!(db, sqlx::query(&sql).bind(id).bind(now).bind(until).bind(paying.entered).bind(newest))?;
    Ok(n == 1)
}

/// Whether one of the customer's checkouts is being paid right now (its payment lock is held).
pub async fn customer_paying(db: &Db, customer_id: &str, now: DateTime<Utc>) -> DbResult<bool> {
    let sql = "SELECT COUNT(*) FROM checkout_sessions WHERE customer_id = $1 AND paying_until > $2";
    let (n,): (i64,) = on_db!(db, |pool| sqlx::query_as(sql).bind(customer_id).bind(now).fetch_one(pool).await)?;
    Ok(n > 0)
}

/// Give the payment lock back after an attempt that did not complete the session.
pub async fn release_payment_lock(db: &Db, id: &str, now: DateTime<Utc>) -> DbResult<()> {
    let sql = "UPDATE checkout_sessions SET paying_until = NULL, updated_at = $2 WHERE id = $1";
    exec_db!(db, sqlx::query(sql).bind(id).bind(now))?;
    Ok(())
}

/// Move an open session to a final status inside `tx`. False when it was no longer open:
/// someone else completed, expired or cancelled it first. Expiring or cancelling also waits
/// for a payment in progress (`paying_until`), so money is never taken for a closed session.
pub async fn finish(tx: &mut Tx, id: &str, to: Status, now: DateTime<Utc>) -> DbResult<bool> {
    let unlocked = if to == Status::Completed { "" } else { " AND (paying_until IS NULL OR paying_until < $3)" };
    let sql = format!(
        "UPDATE checkout_sessions SET status = $2, paying_until = NULL, updated_at = $3, \
         completed_at = CASE WHEN $2 = 'COMPLETED' THEN $3 ELSE completed_at END WHERE id = $1 AND {}{unlocked}",
        from_clause(to)
    );
    let n = exec_tx!(tx, sqlx::query(&sql).bind(id).bind(to.as_str()).bind(now))?;
    Ok(n == 1)
}

/// What the session counts in its promo codes' and coupons' redemptions, read inside `tx`.
pub async fn redemption_counted(tx: &mut Tx, id: &str) -> DbResult<Option<String>> {
    let sql = "SELECT redemption_counted FROM checkout_sessions WHERE id = $1";
    let row: Option<(Option<String>,)> = on_tx!(tx, |conn| sqlx::query_as(sql).bind(id).fetch_optional(conn).await)?;
    Ok(row.and_then(|(c,)| c))
}

/// What fulfilment created, recorded on the session as it completes.
pub struct Results {
    pub customer_id: String,
    pub subscription_id: Option<String>,
    pub invoice_id: String,
    pub payment_id: Option<String>,
}

/// Complete an open session, recording what fulfilment creates, in one compare-and-set (inside
/// the fulfilment transaction). False when it was no longer open: someone else completed or
/// closed it first.
pub async fn complete(tx: &mut Tx, id: &str, results: &Results, now: DateTime<Utc>) -> DbResult<bool> {
    let sql = format!(
        "UPDATE checkout_sessions SET status = $2, paying_until = NULL, updated_at = $3, completed_at = $3, \
         customer_id = $4, subscription_id = $5, invoice_id = $6, payment_id = $7 WHERE id = $1 AND {}",
        from_clause(Status::Completed)
    );
    let n = exec_tx!(
        tx,
        sqlx::query(&sql)
            .bind(id)
            .bind(Status::Completed.as_str())
            .bind(now)
            .bind(&results.customer_id)
            .bind(&results.subscription_id)
            .bind(&results.invoice_id)
            .bind(&results.payment_id)
    )?;
    Ok(n == 1)
}

/// `session` as [`complete`] left it, without reading it back.
pub fn completed(session: &CheckoutSession, results: Results, now: DateTime<Utc>) -> CheckoutSession {
    CheckoutSession {
        status: Status::Completed.as_str().to_string(),
        paying_until: None,
        updated_at: now,
        completed_at: Some(now),
        customer_id: Some(results.customer_id),
        subscription_id: results.subscription_id,
        invoice_id: Some(results.invoice_id),
        payment_id: results.payment_id,
        ..session.clone()
    }
}

/// Sessions by id (one query for a page of contracts).
pub async fn by_ids(db: &Db, ids: &[&str]) -> DbResult<Vec<CheckoutSession>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {COLUMNS} FROM checkout_sessions WHERE id IN ({})", super::placeholders(1, ids.len()));
    Ok(on_db!(db, |pool| {
        let mut q = sqlx::query_as::<_, CheckoutSession>(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(pool).await
    })?)
}

/// Replace an open session's order and what was entered, inside `tx` (a contract freezing its
/// quantities at the first signature). False when the session is no longer open.
pub async fn set_order_in(
    tx: &mut Tx,
    id: &str,
    order_spec: &str,
    entered: &str,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let sql = format!(
        "UPDATE checkout_sessions SET order_spec = $2, entered = $3, updated_at = $4 WHERE id = $1 AND {}",
        from_clause(Status::AwaitingPayment)
    );
    let n = exec_tx!(tx, sqlx::query(&sql).bind(id).bind(order_spec).bind(entered).bind(now))?;
    Ok(n == 1)
}

/// Open sessions whose `expires_at` has passed: what the sweeper expires.
pub async fn overdue(db: &Db, now: DateTime<Utc>, limit: i64) -> DbResult<Vec<CheckoutSession>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM checkout_sessions WHERE {} AND expires_at IS NOT NULL AND expires_at <= $1 \
         ORDER BY expires_at LIMIT $2",
        from_clause(Status::Expired)
    );
    Ok(on_db!(db, |pool| sqlx::query_as::<_, CheckoutSession>(&sql).bind(now).bind(limit).fetch_all(pool).await)?)
}
