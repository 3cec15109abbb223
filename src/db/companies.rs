//! Companies (tenants) and their API keys; keys are stored only as SHA-256 hashes.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{Db, DbResult, exec_db, on_db};
use crate::domain::ids::{self, prefix};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Company {
    pub id: String,
    pub name: String,
    pub legal_name: Option<String>,
    pub currency: String,
    pub brand_color: Option<String>,
    pub logo_url: Option<String>,
    pub support_email: Option<String>,
    /// `sandbox` or `stripe`: who collects this company's card payments.
    pub payment_provider: String,
    /// Stripe checkouts in euros also offer SEPA Direct Debit (activated in the Stripe account).
    pub sepa_debit: bool,
    /// Bumped when one of its product pricings changes: whether a cached pricing is current
    /// (see `db::pricings::Cache`).
    pub cache_version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct NewCompany<'a> {
    pub name: &'a str,
    pub currency: &'a str,
    pub legal_name: Option<&'a str>,
    pub brand_color: Option<&'a str>,
    pub logo_url: Option<&'a str>,
    pub support_email: Option<&'a str>,
}

const COMPANY_COLUMNS: &str = "id, name, legal_name, currency, brand_color, logo_url, support_email, payment_provider, sepa_debit, \
     cache_version, created_at, updated_at";

// The company read beside the row a page starts from (its session, its invoice).
super::rows::joined_row!(Company, "co",
    id: String, name: String, legal_name: Option<String>, currency: String, brand_color: Option<String>,
    logo_url: Option<String>, support_email: Option<String>, payment_provider: String, sepa_debit: bool,
    cache_version: i64, created_at: DateTime<Utc>, updated_at: DateTime<Utc>,
);

pub async fn create(db: &Db, new: &NewCompany<'_>, now: DateTime<Utc>) -> DbResult<Company> {
    let id = ids::new_id(prefix::COMPANY, now);
    let sql = "INSERT INTO companies (id, name, legal_name, currency, brand_color, logo_url, support_email, \
               created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)";
    exec_db!(
        db,
        sqlx::query(sql)
            .bind(&id)
            .bind(new.name)
            .bind(new.legal_name)
            .bind(new.currency)
            .bind(new.brand_color)
            .bind(new.logo_url)
            .bind(new.support_email)
            .bind(now)
    )?;
    Ok(Company {
        id,
        name: new.name.to_string(),
        legal_name: new.legal_name.map(str::to_string),
        currency: new.currency.to_string(),
        brand_color: new.brand_color.map(str::to_string),
        logo_url: new.logo_url.map(str::to_string),
        support_email: new.support_email.map(str::to_string),
        payment_provider: "sandbox".into(),
        sepa_debit: false,
        cache_version: 0,
        created_at: now,
        updated_at: now,
    })
}

pub async fn get(db: &Db, id: &str) -> DbResult<Option<Company>> {
    let sql = format!("SELECT {COMPANY_COLUMNS} FROM companies WHERE id = $1");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Company>(&sql).bind(id).fetch_optional(pool).await)?)
}

/// The company named `name`, oldest first: how `kasse demo` finds the merchant it seeded before.
pub async fn find_by_name(db: &Db, name: &str) -> DbResult<Option<Company>> {
    let sql = format!("SELECT {COMPANY_COLUMNS} FROM companies WHERE name = $1 ORDER BY id LIMIT 1");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Company>(&sql).bind(name).fetch_optional(pool).await)?)
}

/// Every company's `(id, payment_provider)`: what the start-up check needs.
pub async fn providers(db: &Db) -> DbResult<Vec<(String, String)>> {
    let sql = "SELECT id, payment_provider FROM companies ORDER BY id";
    Ok(on_db!(db, |pool| sqlx::query_as::<_, (String, String)>(sql).fetch_all(pool).await)?)
}

/// Choose who collects a company's card payments (`sandbox` or `stripe`); false when no such company.
pub async fn set_payment_provider(db: &Db, id: &str, provider: &str, now: DateTime<Utc>) -> DbResult<bool> {
    set_payment_methods(db, id, provider, false, now).await
}

/// [`set_payment_provider`], and whether Stripe also offers SEPA Direct Debit for euros.
pub async fn set_payment_methods(
    db: &Db,
    id: &str,
    provider: &str,
    sepa_debit: bool,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let sql = "UPDATE companies SET payment_provider = $2, sepa_debit = $4, updated_at = $3 WHERE id = $1";
    let n = exec_db!(db, sqlx::query(sql).bind(id).bind(provider).bind(now).bind(sepa_debit))?;
    Ok(n == 1)
}

/// The SHA-256 of an API key, hex-encoded: the only form in which a key is stored.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Mint a new API key for `company_id`. The plain key is returned once and never stored.
pub async fn create_api_key(db: &Db, company_id: &str, now: DateTime<Utc>) -> DbResult<String> {
    let key = format!("ksk_{}", ids::token());
    let sql = "INSERT INTO api_keys (id, company_id, key_hash, key_prefix, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $5)";
    exec_db!(
        db,
        sqlx::query(sql)
            .bind(ids::new_id(prefix::API_KEY, now))
            .bind(company_id)
            .bind(hash_key(&key))
            .bind(&key[..12])
            .bind(now)
    )?;
    Ok(key)
}

/// Store a key chosen elsewhere (the demo keeps one stable key so its printed `curl` keeps working).
pub async fn ensure_api_key(db: &Db, company_id: &str, key: &str, now: DateTime<Utc>) -> DbResult<()> {
    let sql = "INSERT INTO api_keys (id, company_id, key_hash, key_prefix, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (key_hash) DO NOTHING";
    exec_db!(
        db,
        sqlx::query(sql)
            .bind(ids::new_id(prefix::API_KEY, now))
            .bind(company_id)
            .bind(hash_key(key))
            .bind(key.get(..12).unwrap_or(key))
            .bind(now)
    )?;
    Ok(())
}

/// The company an unrevoked API key belongs to.
pub async fn company_for_key(db: &Db, key: &str) -> DbResult<Option<Company>> {
    let sql = "SELECT c.id, c.name, c.legal_name, c.currency, c.brand_color, c.logo_url, c.support_email, c.payment_provider, \
               c.sepa_debit, c.cache_version, c.created_at, c.updated_at FROM api_keys k JOIN companies c ON c.id = k.company_id \
               WHERE k.key_hash = $1 AND k.revoked_at IS NULL";
    let hash = hash_key(key);
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Company>(sql).bind(&hash).fetch_optional(pool).await)?)
}
