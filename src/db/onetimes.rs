//! One-time billables (charges a merchant adds to a customer's account) and the payment
//! methods customers saved at checkout for later charges.

use chrono::{DateTime, Utc};

use super::tx::{Tx, exec_tx, on_tx};
use super::{Db, DbResult, on_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Billable {
    pub id: String,
    pub company_id: String,
    pub customer_id: String,
    /// The billables of one request share a batch and are invoiced together.
    pub batch_id: String,
    /// IMMEDIATE or NEXT.
    pub kind: String,
    pub name: String,
    pub currency: String,
    pub aggregate: i64,
    pub product_pricing_id: Option<String>,
    /// JSON as given, or None.
    pub custom_price: Option<String>,
    pub quantity_config: Option<String>,
    pub sort_order: i64,
    pub auto_charges: bool,
    /// The priced invoice lines of this billable, JSON array.
    pub lines: String,
    /// The batch's discount lines (on its first billable only), JSON array.
    pub discounts: String,
    pub subtotal: i64,
    pub discount_total: i64,
    pub metadata: String,
    pub notes: Option<String>,
    pub invoice_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const BILLABLE_COLUMNS: &str = "id, company_id, customer_id, batch_id, kind, name, currency, aggregate, \
     product_pricing_id, custom_price, quantity_config, sort_order, auto_charges, lines, discounts, subtotal, \
     discount_total, metadata, notes, invoice_id, created_at, updated_at";

pub async fn insert_billable(tx: &mut Tx, b: &Billable) -> DbResult<()> {
    let sql = format!(
        "INSERT INTO onetime_billables ({BILLABLE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
    );
    exec_tx!(
        tx,
        sqlx::query(&sql)
            .bind(&b.id)
            .bind(&b.company_id)
            .bind(&b.customer_id)
            .bind(&b.batch_id)
            .bind(&b.kind)
            .bind(&b.name)
            .bind(&b.currency)
            .bind(b.aggregate)
            .bind(&b.product_pricing_id)
            .bind(&b.custom_price)
            .bind(&b.quantity_config)
            .bind(b.sort_order)
            .bind(b.auto_charges)
            .bind(&b.lines)
            .bind(&b.discounts)
            .bind(b.subtotal)
            .bind(b.discount_total)
            .bind(&b.metadata)
            .bind(&b.notes)
            .bind(&b.invoice_id)
            .bind(b.created_at)
            .bind(b.updated_at)
    )?;
    Ok(())
}

/// A customer's billables still waiting for an invoice, in one currency, in the order they
/// were created (batch by batch, each in its sort order).
fn pending_sql() -> String {
    format!(
        "SELECT {BILLABLE_COLUMNS} FROM onetime_billables WHERE customer_id = $1 AND currency = $2 \
         AND invoice_id IS NULL ORDER BY batch_id, sort_order, id"
    )
}

/// The billables of [`pending_sql`], for pricing a checkout.
pub async fn pending(db: &Db, customer_id: &str, currency: &str) -> DbResult<Vec<Billable>> {
    let sql = pending_sql();
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Billable>(&sql).bind(customer_id).bind(currency).fetch_all(pool).await)?)
}

/// [`pending`] inside a transaction (the explicit invoice reads and claims in one).
pub async fn pending_in(tx: &mut Tx, customer_id: &str, currency: &str) -> DbResult<Vec<Billable>> {
    let sql = pending_sql();
    Ok(on_tx!(tx, |conn| sqlx::query_as::<_, Billable>(&sql).bind(customer_id).bind(currency).fetch_all(conn).await)?)
}

/// The currencies a customer has billables waiting in.
pub async fn pending_currencies(db: &Db, customer_id: &str) -> DbResult<Vec<String>> {
    let sql = "SELECT DISTINCT currency FROM onetime_billables WHERE customer_id = $1 AND invoice_id IS NULL \
               ORDER BY currency";
    let rows: Vec<(String,)> = on_db!(db, |pool| sqlx::query_as(sql).bind(customer_id).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

/// Put waiting billables on `invoice_id`: each one only if it is still waiting. Returns how
/// many were claimed, so the caller can refuse an invoice that lost one to another.
pub async fn claim(tx: &mut Tx, ids: &[String], invoice_id: &str, now: DateTime<Utc>) -> DbResult<usize> {
    let mut claimed = 0;
    for id in ids {
        let sql = "UPDATE onetime_billables SET invoice_id = $2, updated_at = $3 WHERE id = $1 AND invoice_id IS NULL";
        let n = exec_tx!(tx, sqlx::query(sql).bind(id).bind(invoice_id).bind(now))?;
        claimed += usize::try_from(n).unwrap_or(0);
    }
    Ok(claimed)
}

/// The billables of one batch (one request), in their sort order.
pub async fn batch(db: &Db, batch_id: &str) -> DbResult<Vec<Billable>> {
    let sql = format!("SELECT {BILLABLE_COLUMNS} FROM onetime_billables WHERE batch_id = $1 ORDER BY sort_order, id");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Billable>(&sql).bind(batch_id).fetch_all(pool).await)?)
}

/// A payment method a customer saved at checkout, as the provider knows it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PaymentMethod {
    pub id: String,
    pub company_id: String,
    pub customer_id: String,
    pub provider: String,
    pub provider_ref: String,
    /// The provider's customer the method belongs to (Stripe's cus_…), when it has one.
    pub provider_customer_ref: Option<String>,
    pub brand: String,
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
    pub checkout_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

const METHOD_COLUMNS: &str = "id, company_id, customer_id, provider, provider_ref, provider_customer_ref, brand, \
                              last4, exp_month, exp_year, checkout_id, created_at";

pub async fn insert_method(tx: &mut Tx, m: &PaymentMethod) -> DbResult<()> {
    let sql = format!(
        "INSERT INTO payment_methods ({METHOD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    exec_tx!(
        tx,
        sqlx::query(&sql)
            .bind(&m.id)
            .bind(&m.company_id)
            .bind(&m.customer_id)
            .bind(&m.provider)
            .bind(&m.provider_ref)
            .bind(&m.provider_customer_ref)
            .bind(&m.brand)
            .bind(&m.last4)
            .bind(m.exp_month)
            .bind(m.exp_year)
            .bind(&m.checkout_id)
            .bind(m.created_at)
    )?;
    Ok(())
}

/// The payment method a customer saved last with `provider`.
pub async fn latest_method(db: &Db, customer_id: &str, provider: &str) -> DbResult<Option<PaymentMethod>> {
    let sql = format!(
        "SELECT {METHOD_COLUMNS} FROM payment_methods WHERE customer_id = $1 AND provider = $2 ORDER BY id DESC LIMIT 1"
    );
    Ok(on_db!(db, |pool| sqlx::query_as::<_, PaymentMethod>(&sql)
        .bind(customer_id)
        .bind(provider)
        .fetch_optional(pool)
        .await)?)
}
