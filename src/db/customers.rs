//! Customers of a company: contact, organisation, external identifier (alias) and address.

use chrono::{DateTime, Utc};

use super::rows::{self, Hidden, Stored};
use super::tx::{Tx, exec_tx};
use super::{Db, DbResult, Page, on_db};

#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub struct Customer {
    pub id: String,
    pub company_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub org_name: Option<String>,
    /// The merchant's own id for this customer, unique per company; usable wherever an id is.
    pub identifier: Option<String>,
    pub phone: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub address_city: Option<String>,
    pub address_state: Option<String>,
    pub address_postal_code: Option<String>,
    pub address_country: Option<String>,
    /// A JSON object of string values.
    pub metadata: String,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, company_id, email, name, org_name, identifier, phone, address_line1, address_line2, \
     address_city, address_state, address_postal_code, address_country, metadata, archived_at, created_at, updated_at";

// The customer read beside its invoice (the hosted invoice's bill-to).
super::rows::joined_row!(Customer, "cu",
    id: String, company_id: String, email: Option<String>, name: Option<String>, org_name: Option<String>,
    identifier: Option<String>, phone: Option<String>, address_line1: Option<String>, address_line2: Option<String>,
    address_city: Option<String>, address_state: Option<String>, address_postal_code: Option<String>,
    address_country: Option<String>, metadata: String, archived_at: Option<DateTime<Utc>>, created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
);

impl Stored for Customer {
    const TABLE: &'static str = "customers";
    const COLUMNS: &'static str = COLUMNS;
}

/// Insert inside `tx`: fulfilment creates the customer in the same transaction as the rest.
pub async fn insert(tx: &mut Tx, c: &Customer) -> DbResult<()> {
    let sql = format!(
        "INSERT INTO customers ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17)"
    );
    exec_tx!(
        tx,
        sqlx::query(&sql)
            .bind(&c.id)
            .bind(&c.company_id)
            .bind(&c.email)
            .bind(&c.name)
            .bind(&c.org_name)
            .bind(&c.identifier)
            .bind(&c.phone)
            .bind(&c.address_line1)
            .bind(&c.address_line2)
            .bind(&c.address_city)
            .bind(&c.address_state)
            .bind(&c.address_postal_code)
            .bind(&c.address_country)
            .bind(&c.metadata)
            .bind(c.archived_at)
            .bind(c.created_at)
            .bind(c.updated_at)
    )?;
    Ok(())
}

/// A customer by id or by the merchant's identifier (alias). An id wins over an identifier
/// (identifiers may not start with `cus_`, but rows may predate that rule).
pub async fn get(db: &Db, company_id: &str, id_or_identifier: &str) -> DbResult<Option<Customer>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM customers WHERE company_id = $1 AND (id = $2 OR identifier = $2) \
         ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END LIMIT 1"
    );
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Customer>(&sql)
        .bind(company_id)
        .bind(id_or_identifier)
        .fetch_optional(pool)
        .await)?)
}

pub async fn list(db: &Db, company_id: &str, page: &Page, email: Option<&str>) -> DbResult<Vec<Customer>> {
    rows::page(db, company_id, page, Hidden::Archived, &[("email", email)]).await
}

/// Archive the customer `id_or_identifier` names, resolved exactly as [`get`] does.
pub async fn archive(
    db: &Db,
    company_id: &str,
    id_or_identifier: &str,
    now: DateTime<Utc>,
) -> DbResult<Option<Customer>> {
    let Some(customer) = get(db, company_id, id_or_identifier).await? else { return Ok(None) };
    rows::archive_get(db, company_id, &customer.id, now).await
}

/// Customers by id (one query for a page of contracts).
pub async fn by_ids(db: &Db, company_id: &str, ids: &[&str]) -> DbResult<Vec<Customer>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM customers WHERE company_id = $1 AND id IN ({})",
        super::placeholders(2, ids.len())
    );
    Ok(on_db!(db, |pool| {
        let mut q = sqlx::query_as::<_, Customer>(&sql).bind(company_id);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(pool).await
    })?)
}

/// The provider's handle for customer `id` (Stripe's cus_…), once mirrored.
pub async fn provider_ref(db: &Db, id: &str) -> DbResult<Option<String>> {
    let sql = "SELECT provider_customer_ref FROM customers WHERE id = $1";
    let row = on_db!(db, |pool| sqlx::query_as::<_, (Option<String>,)>(sql).bind(id).fetch_optional(pool).await)?;
    Ok(row.and_then(|(r,)| r))
}

/// Remember the provider's handle for customer `id`; the first one stays (a concurrent
/// mirror of the same customer loses, and its Stripe Customer is simply unused).
pub async fn set_provider_ref(db: &Db, id: &str, reference: &str, now: DateTime<Utc>) -> DbResult<()> {
    let sql = "UPDATE customers SET provider_customer_ref = $2, updated_at = $3 \
               WHERE id = $1 AND provider_customer_ref IS NULL";
    on_db!(db, |pool| sqlx::query(sql).bind(id).bind(reference).bind(now).execute(pool).await.map(|_| ()))?;
    Ok(())
}
