//! What a completed checkout creates: subscriptions, invoices (with gap-free numbers) and
//! payments, plus promo-code redemptions. Writes happen inside the fulfilment transaction.

use chrono::{DateTime, Datelike, Utc};

use sqlx::{FromRow, Row};

use super::companies::Company;
use super::customers::Customer;
use super::rows::{self, Hidden, Stored};
use super::tx::{Tx, exec_tx, on_tx};
use super::{Db, DbResult, exec_db, on_db};
use crate::domain::billing::PaymentStatus;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Subscription {
    pub id: String,
    pub company_id: String,
    pub customer_id: String,
    pub checkout_id: Option<String>,
    /// ACTIVE or TRIALING.
    pub status: String,
    pub currency: String,
    pub started_at: DateTime<Utc>,
    pub trial_ends_at: Option<DateTime<Utc>>,
    pub next_charge_at: Option<DateTime<Utc>>,
    pub term_ends_at: Option<DateTime<Utc>>,
    pub billing_day_anchor: Option<i32>,
    /// Items, quantities, discounts and the recurring charges, JSON.
    pub details: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Invoice {
    pub id: String,
    pub company_id: String,
    pub customer_id: String,
    pub subscription_id: Option<String>,
    pub checkout_id: Option<String>,
    /// `INV-2026-000123`: per company, unique and gap-free.
    pub number: String,
    /// Opens the hosted invoice page.
    pub token: String,
    /// OPEN, PAID or VOID.
    pub status: String,
    pub currency: String,
    pub subtotal: i64,
    pub discount_total: i64,
    pub total: i64,
    pub amount_due: i64,
    /// Lines and discount lines, JSON.
    pub lines: String,
    pub payment_instructions: Option<String>,
    /// The merchant's notes to the customer (one-time charges), shown on the hosted page.
    pub notes: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    /// While in the future, a payment from the hosted invoice page is in flight.
    pub paying_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Payment {
    pub id: String,
    pub company_id: String,
    pub checkout_id: Option<String>,
    pub invoice_id: Option<String>,
    pub provider: String,
    pub provider_ref: Option<String>,
    /// PROCESSING, REQUIRES_ACTION, SUCCEEDED, PENDING (settles later) or FAILED.
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A payment method to keep once this payment succeeds (`SavedMethod` as JSON): a card the
    /// customer agreed to save whose bank wants them to confirm first.
    pub keep_method: Option<String>,
}

// The checkout's newest payment, read with the session when the customer submits its page.
super::rows::joined_row!(Payment, "pa",
    id: String, company_id: String, checkout_id: Option<String>, invoice_id: Option<String>, provider: String,
    provider_ref: Option<String>, status: String, amount: i64, currency: String, failure_reason: Option<String>,
    created_at: DateTime<Utc>, updated_at: DateTime<Utc>, keep_method: Option<String>,
);

const SUBSCRIPTION_COLUMNS: &str = "id, company_id, customer_id, checkout_id, status, currency, started_at, \
     trial_ends_at, next_charge_at, term_ends_at, billing_day_anchor, details, created_at, updated_at";
const INVOICE_COLUMNS: &str = "id, company_id, customer_id, subscription_id, checkout_id, number, token, status, \
     currency, subtotal, discount_total, total, amount_due, lines, payment_instructions, notes, issued_at, due_at, \
     paid_at, paying_until, created_at, updated_at";
const PAYMENT_COLUMNS: &str = "id, company_id, checkout_id, invoice_id, provider, provider_ref, status, amount, \
     currency, failure_reason, created_at, updated_at, keep_method";

impl Stored for Subscription {
    const TABLE: &'static str = "subscriptions";
    const COLUMNS: &'static str = SUBSCRIPTION_COLUMNS;
}

impl Stored for Invoice {
    const TABLE: &'static str = "invoices";
    const COLUMNS: &'static str = INVOICE_COLUMNS;
}

impl Stored for Payment {
    const TABLE: &'static str = "payments";
    const COLUMNS: &'static str = PAYMENT_COLUMNS;
}

/// The next invoice number of `company_id`. Taken inside the transaction that creates the
/// invoice: a rollback gives the number back, and the counter row's lock serializes
/// concurrent creators, so numbers are unique and gap-free.
pub async fn next_invoice_number(tx: &mut Tx, company_id: &str, now: DateTime<Utc>) -> DbResult<String> {
    let sql = "INSERT INTO company_counters (company_id, name, value) VALUES ($1, 'invoice', 1) \
               ON CONFLICT (company_id, name) DO UPDATE SET value = company_counters.value + 1 RETURNING value";
    let (n,): (i64,) = on_tx!(tx, |conn| sqlx::query_as(sql).bind(company_id).fetch_one(conn).await)?;
    Ok(format!("INV-{}-{n:06}", now.year()))
}

pub async fn insert_subscription(tx: &mut Tx, s: &Subscription) -> DbResult<()> {
    let sql = format!(
        "INSERT INTO subscriptions ({SUBSCRIPTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
         $13, $14)"
    );
    exec_tx!(
        tx,
        sqlx::query(&sql)
            .bind(&s.id)
            .bind(&s.company_id)
            .bind(&s.customer_id)
            .bind(&s.checkout_id)
            .bind(&s.status)
            .bind(&s.currency)
            .bind(s.started_at)
            .bind(s.trial_ends_at)
            .bind(s.next_charge_at)
            .bind(s.term_ends_at)
            .bind(s.billing_day_anchor)
            .bind(&s.details)
            .bind(s.created_at)
            .bind(s.updated_at)
    )?;
    Ok(())
}

pub async fn insert_invoice(tx: &mut Tx, i: &Invoice) -> DbResult<()> {
    let sql = format!(
        "INSERT INTO invoices ({INVOICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
         $15, $16, $17, $18, $19, $20, $21, $22)"
    );
    exec_tx!(
        tx,
        sqlx::query(&sql)
            .bind(&i.id)
            .bind(&i.company_id)
            .bind(&i.customer_id)
            .bind(&i.subscription_id)
            .bind(&i.checkout_id)
            .bind(&i.number)
            .bind(&i.token)
            .bind(&i.status)
            .bind(&i.currency)
            .bind(i.subtotal)
            .bind(i.discount_total)
            .bind(i.total)
            .bind(i.amount_due)
            .bind(&i.lines)
            .bind(&i.payment_instructions)
            .bind(&i.notes)
            .bind(i.issued_at)
            .bind(i.due_at)
            .bind(i.paid_at)
            .bind(i.paying_until)
            .bind(i.created_at)
            .bind(i.updated_at)
    )?;
    Ok(())
}

/// Record a payment attempt before asking the provider, so its id can be the idempotency key.
pub async fn insert_payment(db: &Db, p: &Payment) -> DbResult<()> {
    let sql = format!(
        "INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    exec_db!(
        db,
        sqlx::query(&sql)
            .bind(&p.id)
            .bind(&p.company_id)
            .bind(&p.checkout_id)
            .bind(&p.invoice_id)
            .bind(&p.provider)
            .bind(&p.provider_ref)
            .bind(&p.status)
            .bind(p.amount)
            .bind(&p.currency)
            .bind(&p.failure_reason)
            .bind(p.created_at)
            .bind(p.updated_at)
            .bind(&p.keep_method)
    )?;
    Ok(())
}

/// Remember `method` (JSON) to keep once payment `id` succeeds, while it waits for the customer.
pub async fn set_keep_method(db: &Db, id: &str, method: &str, now: DateTime<Utc>) -> DbResult<()> {
    let sql = "UPDATE payments SET keep_method = $2, updated_at = $3 WHERE id = $1";
    exec_db!(db, sqlx::query(sql).bind(id).bind(method).bind(now))?;
    Ok(())
}

/// Record that an attempt still in flight (processing or awaiting the customer) failed, with
/// its reason; false when it had already ended.
pub async fn fail_payment(db: &Db, id: &str, reason: &str, now: DateTime<Utc>) -> DbResult<bool> {
    use crate::domain::billing::PaymentStatus::{Failed, Processing, RequiresAction};
    set_payment_status(db, id, &[Processing, RequiresAction], Failed, None, Some(reason), now).await
}

/// Move a payment from one of `from` to `to`; false when it was not in one of them (someone
/// else settled it). `failure_reason` and `provider_ref` are kept when given.
pub async fn set_payment_status(
    db: &Db,
    id: &str,
    from: &[PaymentStatus],
    to: PaymentStatus,
    provider_ref: Option<&str>,
    failure_reason: Option<&str>,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let from: Vec<String> = from.iter().map(|s| format!("'{}'", s.as_str())).collect();
    let sql = format!(
        "UPDATE payments SET status = $2, provider_ref = COALESCE($3, provider_ref), failure_reason = $4, \
         updated_at = $5 WHERE id = $1 AND status IN ({})",
        from.join(", ")
    );
    let n =
        exec_db!(db, sqlx::query(&sql).bind(id).bind(to.as_str()).bind(provider_ref).bind(failure_reason).bind(now))?;
    Ok(n == 1)
}

/// Claim the answer to a waiting challenge (REQUIRES_ACTION → PROCESSING): a second click or tab
/// finds it claimed and takes nothing.
pub async fn claim_challenge(db: &Db, id: &str, now: DateTime<Utc>) -> DbResult<bool> {
    set_payment_status(db, id, &[PaymentStatus::RequiresAction], PaymentStatus::Processing, None, None, now).await
}

/// Tie a payment to the invoice fulfilment created (inside the fulfilment transaction).
pub async fn attach_payment(tx: &mut Tx, id: &str, invoice_id: &str, status: &str, now: DateTime<Utc>) -> DbResult<()> {
    let sql = "UPDATE payments SET invoice_id = $2, status = $3, updated_at = $4 WHERE id = $1";
    exec_tx!(tx, sqlx::query(sql).bind(id).bind(invoice_id).bind(status).bind(now))?;
    Ok(())
}

/// The customer a payment is from: its invoice's, else its checkout's (null for a checkout by
/// a customer not known yet).
pub async fn customer_of_payment(tx: &mut Tx, p: &Payment) -> DbResult<Option<String>> {
    let sql = "SELECT COALESCE((SELECT customer_id FROM invoices WHERE id = $1), \
               (SELECT customer_id FROM checkout_sessions WHERE id = $2))";
    let (customer,): (Option<String>,) =
        on_tx!(tx, |conn| sqlx::query_as(sql).bind(&p.invoice_id).bind(&p.checkout_id).fetch_one(conn).await)?;
    Ok(customer)
}

pub async fn get_payment(db: &Db, id: &str) -> DbResult<Option<Payment>> {
    rows::by(db, "id", id).await
}

pub async fn get_invoice(db: &Db, company_id: &str, id: &str) -> DbResult<Option<Invoice>> {
    rows::get(db, company_id, id).await
}

/// Invoices of a company, newest first, optionally of one status and one customer.
pub async fn list_invoices(
    db: &Db,
    company_id: &str,
    page: &super::Page,
    status: Option<&str>,
    customer_id: Option<&str>,
) -> DbResult<Vec<Invoice>> {
    rows::page(db, company_id, page, Hidden::Nothing, &[("status", status), ("customer_id", customer_id)]).await
}

/// Move an OPEN invoice to PAID (nothing left due) or VOID inside `tx`; false when it was not
/// OPEN any more. Compare-and-set, so a payment and a void racing each other cannot both win.
/// Only the payment attempt holding the invoice's lock passes `lock_holder`; anyone else waits
/// for a payment in flight to end (false while it runs).
pub async fn close_invoice(tx: &mut Tx, id: &str, to: &str, lock_holder: bool, now: DateTime<Utc>) -> DbResult<bool> {
    let sql = "UPDATE invoices SET status = $2, updated_at = $3, paying_until = NULL, \
               amount_due = CASE WHEN $2 = 'PAID' THEN 0 ELSE amount_due END, \
               paid_at = CASE WHEN $2 = 'PAID' THEN $3 ELSE paid_at END \
               WHERE id = $1 AND status = 'OPEN' AND ($4 OR paying_until IS NULL OR paying_until < $3)";
    let n = exec_tx!(tx, sqlx::query(sql).bind(id).bind(to).bind(now).bind(lock_holder))?;
    Ok(n == 1)
}

/// A hosted invoice and what its page shows around it, read in one query.
pub struct InvoicePage {
    pub invoice: Invoice,
    pub company: Company,
    /// `None` when the customer row is gone.
    pub customer: Option<Customer>,
    /// The newest attempt for the amount due that waits for the customer's bank.
    pub waiting_payment_id: Option<String>,
    /// The newest succeeded payment: (id, amount).
    pub paid_by: Option<(String, i64)>,
}

/// The invoice behind `token` with its company, its customer and the payments its page names,
/// in one query: what the hosted invoice page starts from.
pub async fn invoice_page(db: &Db, token: &str) -> DbResult<Option<InvoicePage>> {
    let columns: Vec<String> = INVOICE_COLUMNS.split(", ").map(|c| format!("i.{}", c.trim())).collect();
    let sql = format!(
        "SELECT {}, {}, {}, \
         (SELECT MAX(p.id) FROM payments p WHERE p.invoice_id = i.id AND p.status = 'REQUIRES_ACTION' \
          AND p.amount = i.amount_due) AS waiting_payment_id, \
         ps.id AS paid_payment_id, ps.amount AS paid_amount \
         FROM invoices i JOIN companies co ON co.id = i.company_id \
         LEFT JOIN customers cu ON cu.company_id = i.company_id AND cu.id = i.customer_id \
         LEFT JOIN payments ps ON ps.id = (SELECT MAX(p.id) FROM payments p WHERE p.invoice_id = i.id \
          AND p.status = 'SUCCEEDED') \
         WHERE i.token = $1",
        columns.join(", "),
        Company::JOINED_COLUMNS,
        Customer::JOINED_COLUMNS
    );
    let row = on_db!(db, |pool| match sqlx::query(&sql).bind(token).fetch_optional(pool).await {
        Ok(Some(row)) => (|| {
            let customer = match row.try_get::<Option<String>, _>("cu_id")? {
                Some(_) => Some(Customer::from_joined(&row)?),
                None => None,
            };
            let paid_id: Option<String> = row.try_get("paid_payment_id")?;
            let paid_amount: Option<i64> = row.try_get("paid_amount")?;
            Ok(Some(InvoicePage {
                invoice: Invoice::from_row(&row)?,
                company: Company::from_joined(&row)?,
                customer,
                waiting_payment_id: row.try_get("waiting_payment_id")?,
                paid_by: paid_id.zip(paid_amount),
            }))
        })(),
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    })?;
    Ok(row)
}

/// Take an OPEN invoice's payment lock until `until`; false when it is not OPEN or another
/// attempt holds the lock. One attempt at a time, so a double submit never charges twice.
pub async fn lock_invoice(db: &Db, id: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> DbResult<bool> {
    let sql = "UPDATE invoices SET paying_until = $3, updated_at = $2 \
               WHERE id = $1 AND status = 'OPEN' AND (paying_until IS NULL OR paying_until < $2)";
    let n = exec_db!(db, sqlx::query(sql).bind(id).bind(now).bind(until))?;
    Ok(n == 1)
}

/// Give an invoice's payment lock back after an attempt that did not pay it.
pub async fn release_invoice(db: &Db, id: &str, now: DateTime<Utc>) -> DbResult<()> {
    let sql = "UPDATE invoices SET paying_until = NULL, updated_at = $2 WHERE id = $1";
    exec_db!(db, sqlx::query(sql).bind(id).bind(now))?;
    Ok(())
}

/// The payment attempts made for an invoice, oldest first.
pub async fn payments_of_invoice(db: &Db, invoice_id: &str) -> DbResult<Vec<Payment>> {
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE invoice_id = $1 ORDER BY id");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Payment>(&sql).bind(invoice_id).fetch_all(pool).await)?)
}

pub async fn get_subscription(db: &Db, company_id: &str, id: &str) -> DbResult<Option<Subscription>> {
    rows::get(db, company_id, id).await
}

/// Checkout payments that SUCCEEDED and are on no invoice — the order was never written (a
/// crash between the provider's answer and fulfilment) — whose session's payment lock has
/// lapsed and that were last touched before `quiet_since`; not those already reported for refund.
pub async fn succeeded_without_order(
    db: &Db,
    now: DateTime<Utc>,
    quiet_since: DateTime<Utc>,
    limit: i64,
) -> DbResult<Vec<Payment>> {
    let columns: Vec<String> = PAYMENT_COLUMNS.split(", ").map(|c| format!("p.{}", c.trim())).collect();
    let sql = format!(
        "SELECT {} FROM payments p JOIN checkout_sessions s ON s.id = p.checkout_id \
         WHERE p.status = 'SUCCEEDED' AND p.invoice_id IS NULL AND p.requires_refund_at IS NULL \
         AND p.updated_at < $2 AND (s.paying_until IS NULL OR s.paying_until < $1) ORDER BY p.id LIMIT $3",
        columns.join(", ")
    );
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Payment>(&sql)
        .bind(now)
        .bind(quiet_since)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
}

/// A payment of checkout `checkout_id` that took money no order records yet (and that was not
/// reported for refund), read inside `tx`: such a checkout must be completed, never closed.
pub async fn unsettled_success_of_checkout(tx: &mut Tx, checkout_id: &str) -> DbResult<Option<String>> {
    let sql = "SELECT id FROM payments WHERE checkout_id = $1 AND status = 'SUCCEEDED' AND invoice_id IS NULL \
               AND requires_refund_at IS NULL ORDER BY id LIMIT 1";
    let row: Option<(String,)> = on_tx!(tx, |conn| sqlx::query_as(sql).bind(checkout_id).fetch_optional(conn).await)?;
    Ok(row.map(|(id,)| id))
}

/// Mark `payment_id` as reported for refund; false when it already was (report once).
pub async fn flag_requires_refund(tx: &mut Tx, payment_id: &str, now: DateTime<Utc>) -> DbResult<bool> {
    let sql =
        "UPDATE payments SET requires_refund_at = $2, updated_at = $2 WHERE id = $1 AND requires_refund_at IS NULL";
    let n = exec_tx!(tx, sqlx::query(sql).bind(payment_id).bind(now))?;
    Ok(n == 1)
}

/// The payment a provider object (`pi_…`, `seti_…`) belongs to.
pub async fn payment_by_provider_ref(db: &Db, reference: &str) -> DbResult<Option<Payment>> {
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE provider_ref = $1 ORDER BY id DESC LIMIT 1");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Payment>(&sql).bind(reference).fetch_optional(pool).await)?)
}

/// Raise a payment's refunded amount to `amount_refunded` (never above the amount, never
/// down); REFUNDED once all of it went back. False when nothing changed (a repeat).
pub async fn record_refund(tx: &mut Tx, id: &str, amount_refunded: i64, now: DateTime<Utc>) -> DbResult<bool> {
    let sql = "UPDATE payments SET amount_refunded = $2, updated_at = $3, \
               status = CASE WHEN $2 >= amount THEN 'REFUNDED' ELSE status END \
               WHERE id = $1 AND amount_refunded < $2 AND $2 <= amount";
    let n = exec_tx!(tx, sqlx::query(sql).bind(id).bind(amount_refunded).bind(now))?;
    Ok(n == 1)
}
