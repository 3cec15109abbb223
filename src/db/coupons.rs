//! Coupons (reusable discount definitions) and the promo codes customers type to redeem them.

use chrono::{DateTime, Utc};

use super::rows::{self, Hidden, Stored};
use super::tx::{Tx, exec_tx};
use super::{Db, DbResult, Page, on_db, placeholders};
use crate::domain::redemption::Redemption;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Coupon {
    pub id: String,
    pub company_id: String,
    pub name: String,
    /// `PERCENT` or `AMOUNT`.
    pub discount_type: String,
    /// A decimal fraction (`"0.2"` = 20 %), for `PERCENT`.
    pub percent: Option<String>,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub cap: Option<i64>,
    /// `ALL`, `PRODUCT`, `PRODUCT_PRICING`, `ITEM_PRICING`.
    pub scope_type: String,
    pub scope_id: Option<String>,
    /// `ONCE`, `FOREVER`, `REPEATING`.
    pub duration: String,
    pub duration_periods: Option<i32>,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_redemptions: Option<i32>,
    pub times_redeemed: i32,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PromoCode {
    pub id: String,
    pub company_id: String,
    pub coupon_id: String,
    /// As the merchant wrote it.
    pub code: String,
    /// Upper-cased: codes match case-insensitively and are unique per company that way.
    pub code_key: String,
    pub max_redemptions: Option<i32>,
    pub times_redeemed: i32,
    pub expires_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct CouponWithCodes {
    pub coupon: Coupon,
    pub promo_codes: Vec<PromoCode>,
}

const COLUMNS: &str = "id, company_id, name, discount_type, percent, amount, currency, cap, scope_type, scope_id, \
     duration, duration_periods, expires_at, max_redemptions, times_redeemed, archived_at, created_at, updated_at";

impl Stored for Coupon {
    const TABLE: &'static str = "coupons";
    const COLUMNS: &'static str = COLUMNS;
}
const CODE_COLUMNS: &str = "id, company_id, coupon_id, code, code_key, max_redemptions, times_redeemed, expires_at, \
     archived_at, created_at, updated_at";

/// The key a promo code is matched by.
pub fn code_key(code: &str) -> String {
    code.trim().to_uppercase()
}

/// Insert a coupon with its codes in one transaction. A code already used by this company
/// fails the whole insert with `DbError::Unique`.
pub async fn insert(db: &Db, c: &CouponWithCodes) -> DbResult<()> {
    let mut tx = db.begin().await?;
    let sql = format!(
        "INSERT INTO coupons ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18)"
    );
    let cp = &c.coupon;
    exec_tx!(
        &mut tx,
        sqlx::query(&sql)
            .bind(&cp.id)
            .bind(&cp.company_id)
            .bind(&cp.name)
            .bind(&cp.discount_type)
            .bind(&cp.percent)
            .bind(cp.amount)
            .bind(&cp.currency)
            .bind(cp.cap)
            .bind(&cp.scope_type)
            .bind(&cp.scope_id)
            .bind(&cp.duration)
            .bind(cp.duration_periods)
            .bind(cp.expires_at)
            .bind(cp.max_redemptions)
            .bind(cp.times_redeemed)
            .bind(cp.archived_at)
            .bind(cp.created_at)
            .bind(cp.updated_at)
    )?;
    let sql = format!("INSERT INTO promo_codes ({CODE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)");
    for pc in &c.promo_codes {
        exec_tx!(
            &mut tx,
            sqlx::query(&sql)
                .bind(&pc.id)
                .bind(&pc.company_id)
                .bind(&pc.coupon_id)
                .bind(&pc.code)
                .bind(&pc.code_key)
                .bind(pc.max_redemptions)
                .bind(pc.times_redeemed)
                .bind(pc.expires_at)
                .bind(pc.archived_at)
                .bind(pc.created_at)
                .bind(pc.updated_at)
        )?;
    }
    tx.commit().await
}

pub async fn get(db: &Db, company_id: &str, id: &str) -> DbResult<Option<CouponWithCodes>> {
    Ok(get_many(db, company_id, &[id.to_string()]).await?.into_iter().next())
}

/// Coupons of `company_id` among `ids`, with their codes, in two queries.
pub async fn get_many(db: &Db, company_id: &str, ids: &[String]) -> DbResult<Vec<CouponWithCodes>> {
    let coupons = rows::get_many(db, company_id, ids).await?;
    attach_codes(db, company_id, coupons).await
}

pub async fn list(db: &Db, company_id: &str, page: &Page) -> DbResult<Vec<CouponWithCodes>> {
    let coupons = rows::page(db, company_id, page, Hidden::Archived, &[]).await?;
    attach_codes(db, company_id, coupons).await
}

async fn attach_codes(db: &Db, company_id: &str, coupons: Vec<Coupon>) -> DbResult<Vec<CouponWithCodes>> {
    if coupons.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {CODE_COLUMNS} FROM promo_codes WHERE company_id = $1 AND coupon_id IN ({}) ORDER BY id",
        placeholders(2, coupons.len())
    );
    let codes = on_db!(db, |pool| {
        let mut q = sqlx::query_as::<_, PromoCode>(&sql).bind(company_id);
        for c in &coupons {
            q = q.bind(&c.id);
        }
        q.fetch_all(pool).await
    })?;
    Ok(coupons
        .into_iter()
        .map(|coupon| {
            let promo_codes = codes.iter().filter(|pc| pc.coupon_id == coupon.id).cloned().collect();
            CouponWithCodes { coupon, promo_codes }
        })
        .collect())
}

/// A promo code and its coupon, found by the code a customer typed (any case): one query.
pub async fn find_code(db: &Db, company_id: &str, code: &str) -> DbResult<Option<(PromoCode, Coupon)>> {
    let sql = format!("SELECT {CODE_COLUMNS} FROM promo_codes WHERE company_id = $1 AND code_key = $2");
    let key = code_key(code);
    let promo =
        on_db!(db, |pool| sqlx::query_as::<_, PromoCode>(&sql).bind(company_id).bind(&key).fetch_optional(pool).await)?;
    let Some(promo) = promo else { return Ok(None) };
    let sql = format!("SELECT {COLUMNS} FROM coupons WHERE company_id = $1 AND id = $2");
    let coupon = on_db!(db, |pool| sqlx::query_as::<_, Coupon>(&sql)
        .bind(company_id)
        .bind(&promo.coupon_id)
        .fetch_optional(pool)
        .await)?;
    Ok(coupon.map(|c| (promo, c)))
}

/// Archive a coupon and, with it, every one of its promo codes.
pub async fn archive(db: &Db, company_id: &str, id: &str, now: DateTime<Utc>) -> DbResult<Option<CouponWithCodes>> {
    let mut tx = db.begin().await?;
    for sql in [
        "UPDATE coupons SET archived_at = COALESCE(archived_at, $3), updated_at = $3 WHERE company_id = $1 AND id = $2",
        "UPDATE promo_codes SET archived_at = COALESCE(archived_at, $3), updated_at = $3 \
         WHERE company_id = $1 AND coupon_id = $2",
    ] {
        exec_tx!(&mut tx, sqlx::query(sql).bind(company_id).bind(id).bind(now))?;
    }
    tx.commit().await?;
    get(db, company_id, id).await
}

/// Count `redemption` for checkout `session_id`, under every limit, in the caller's transaction:
/// the session must count nothing yet, and each promo code and coupon must still be below its
/// `max_redemptions`. False when any of that fails; the caller then rolls back, so nothing is
/// counted (the limit itself is the guard: two orders can never both take the last redemption).
pub async fn count_redemption(
    tx: &mut Tx,
    session_id: &str,
    redemption: &Redemption,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let sql = "UPDATE checkout_sessions SET redemption_counted = $2 WHERE id = $1 AND redemption_counted IS NULL";
    let json = redemption.to_json();
    let n = exec_tx!(tx, sqlx::query(sql).bind(session_id).bind(&json))?;
    if n != 1 {
        return Ok(false);
    }
    if let Some(id) = &redemption.promo_code_id {
        let sql = "UPDATE promo_codes SET times_redeemed = times_redeemed + 1, updated_at = $2 \
                   WHERE id = $1 AND (max_redemptions IS NULL OR times_redeemed < max_redemptions)";
        let n = exec_tx!(tx, sqlx::query(sql).bind(id).bind(now))?;
        if n != 1 {
            return Ok(false);
        }
    }
    for id in &redemption.coupon_ids {
        let sql = "UPDATE coupons SET times_redeemed = times_redeemed + 1, updated_at = $2 \
                   WHERE id = $1 AND (max_redemptions IS NULL OR times_redeemed < max_redemptions)";
        let n = exec_tx!(tx, sqlx::query(sql).bind(id).bind(now))?;
        if n != 1 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Give back what checkout `session_id` counts, if it still counts exactly `redemption` (a
/// compare-and-set: a second release, or one racing a new count, changes nothing). True when given back.
pub async fn release_redemption(
    tx: &mut Tx,
    session_id: &str,
    redemption: &Redemption,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let sql = "UPDATE checkout_sessions SET redemption_counted = NULL WHERE id = $1 AND redemption_counted = $2";
    let json = redemption.to_json();
    let n = exec_tx!(tx, sqlx::query(sql).bind(session_id).bind(&json))?;
    if n != 1 {
        return Ok(false);
    }
    if let Some(id) = &redemption.promo_code_id {
        let sql = "UPDATE promo_codes SET times_redeemed = times_redeemed - 1, updated_at = $2 \
                   WHERE id = $1 AND times_redeemed > 0";
        exec_tx!(tx, sqlx::query(sql).bind(id).bind(now))?;
    }
    for id in &redemption.coupon_ids {
        let sql = "UPDATE coupons SET times_redeemed = times_redeemed - 1, updated_at = $2 \
                   WHERE id = $1 AND times_redeemed > 0";
        exec_tx!(tx, sqlx::query(sql).bind(id).bind(now))?;
    }
    Ok(true)
}
