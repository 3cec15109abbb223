//! Product pricings (plans: a product, a currency, and its priced items) and their items.
//!
//! A pricing and its items are written together and never edited afterwards, like Stripe's
//! prices: a price change is a new pricing, so quotes and past invoices never shift under
//! anyone. Only the name and the archived flag of a pricing change.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, Utc};

use super::rows::{self, Hidden, Stored};
use super::tx::exec_tx;
use super::{Db, DbResult, Page, on_db, placeholders};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProductPricing {
    pub id: String,
    pub company_id: String,
    pub product_id: String,
    pub name: String,
    pub currency: String,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One priced item of a pricing. `model_config` is the JSON of the model's parameters,
/// owned and interpreted by `api::price_spec`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ItemPricing {
    pub id: String,
    pub company_id: String,
    pub product_pricing_id: String,
    pub position: i32,
    pub name: String,
    pub unit_label: Option<String>,
    pub pricing_model: String,
    pub model_config: String,
    pub period_unit: Option<String>,
    pub period_count: Option<i32>,
    pub included_units: i64,
    pub minimum_spend: Option<i64>,
    pub metered: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A pricing with its items in position order.
#[derive(Clone, Debug)]
pub struct PricingWithItems {
    pub pricing: ProductPricing,
    pub items: Vec<ItemPricing>,
}

const COLUMNS: &str = "id, company_id, product_id, name, currency, archived_at, created_at, updated_at";

impl Stored for ProductPricing {
    const TABLE: &'static str = "product_pricings";
    const COLUMNS: &'static str = COLUMNS;
}
const ITEM_COLUMNS: &str = "id, company_id, product_pricing_id, position, name, unit_label, pricing_model, \
     model_config, period_unit, period_count, included_units, minimum_spend, metered, created_at, updated_at";

pub async fn insert(db: &Db, p: &PricingWithItems) -> DbResult<()> {
    let mut tx = db.begin().await?;
    let sql = "INSERT INTO product_pricings (id, company_id, product_id, name, currency, archived_at, created_at, \
               updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    let pr = &p.pricing;
    exec_tx!(
        &mut tx,
        sqlx::query(sql)
            .bind(&pr.id)
            .bind(&pr.company_id)
            .bind(&pr.product_id)
            .bind(&pr.name)
            .bind(&pr.currency)
            .bind(pr.archived_at)
            .bind(pr.created_at)
            .bind(pr.updated_at)
    )?;
    let sql = format!(
        "INSERT INTO item_pricings ({ITEM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
         $14, $15)"
    );
    for it in &p.items {
        exec_tx!(
            &mut tx,
            sqlx::query(&sql)
                .bind(&it.id)
                .bind(&it.company_id)
                .bind(&it.product_pricing_id)
                .bind(it.position)
                .bind(&it.name)
                .bind(&it.unit_label)
                .bind(&it.pricing_model)
                .bind(&it.model_config)
                .bind(&it.period_unit)
                .bind(it.period_count)
                .bind(it.included_units)
                .bind(it.minimum_spend)
                .bind(it.metered)
                .bind(it.created_at)
                .bind(it.updated_at)
        )?;
    }
    tx.commit().await
}

/// The pricings of `company_id` among `ids`, with their items: two queries whatever the count.
/// Ids that are unknown or belong to another company are simply absent from the result.
pub async fn get_many(db: &Db, company_id: &str, ids: &[String]) -> DbResult<Vec<PricingWithItems>> {
    let pricings = rows::get_many(db, company_id, ids).await?;
    attach_items(db, company_id, pricings).await
}

pub async fn get(db: &Db, company_id: &str, id: &str) -> DbResult<Option<PricingWithItems>> {
    Ok(get_many(db, company_id, &[id.to_string()]).await?.into_iter().next())
}

pub async fn list(db: &Db, company_id: &str, page: &Page, product_id: Option<&str>) -> DbResult<Vec<PricingWithItems>> {
    let pricings = rows::page(db, company_id, page, Hidden::Archived, &[("product_id", product_id)]).await?;
    attach_items(db, company_id, pricings).await
}

async fn attach_items(db: &Db, company_id: &str, pricings: Vec<ProductPricing>) -> DbResult<Vec<PricingWithItems>> {
    if pricings.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM item_pricings WHERE company_id = $1 AND product_pricing_id IN ({}) \
         ORDER BY product_pricing_id, position",
        placeholders(2, pricings.len())
    );
    let items = on_db!(db, |pool| {
        let mut q = sqlx::query_as::<_, ItemPricing>(&sql).bind(company_id);
        for p in &pricings {
            q = q.bind(&p.id);
        }
        q.fetch_all(pool).await
    })?;
    Ok(pricings
        .into_iter()
        .map(|pricing| {
            let items = items.iter().filter(|i| i.product_pricing_id == pricing.id).cloned().collect();
            PricingWithItems { pricing, items }
        })
        .collect())
}

/// Archive a pricing (once; again keeps the first time) and bump its company's
/// `cache_version` in the same transaction, so no instance sells it from memory afterwards.
pub async fn archive(db: &Db, company_id: &str, id: &str, now: DateTime<Utc>) -> DbResult<Option<PricingWithItems>> {
    let mut tx = db.begin().await?;
    let archive = "UPDATE product_pricings SET archived_at = $3, updated_at = $3 \
                   WHERE company_id = $1 AND id = $2 AND archived_at IS NULL";
    if exec_tx!(&mut tx, sqlx::query(archive).bind(company_id).bind(id).bind(now))? == 1 {
        let bump = "UPDATE companies SET cache_version = cache_version + 1 WHERE id = $1";
        exec_tx!(&mut tx, sqlx::query(bump).bind(company_id))?;
    }
    tx.commit().await?;
    get(db, company_id, id).await
}

/// Pricings kept in memory, keyed by id. A pricing never changes but for its archived flag,
/// and archiving bumps the company's `cache_version`: an entry is used only by a reader that
/// knows the company's current version (read with the page's own rows) and only when it was
/// read under that version, so every instance sees an archive on its next request.
#[derive(Default)]
pub struct Cache {
    entries: RwLock<HashMap<String, (i64, Arc<PricingWithItems>)>>,
}

/// Entries kept at most; a full cache starts over (pricings are few, and reading one is cheap).
const CACHE_LIMIT: usize = 10_000;

impl Cache {
    /// The pricings of `company_id` among `ids`, as of `cache_version`: from memory where they
    /// were read under that version, the rest in one round of [`get_many`].
    pub async fn get_many(
        &self,
        db: &Db,
        company_id: &str,
        cache_version: i64,
        ids: &[String],
    ) -> DbResult<Vec<PricingWithItems>> {
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
            for id in ids {
                match entries.get(id) {
                    Some((version, p)) if *version == cache_version && p.pricing.company_id == company_id => {
                        found.push(PricingWithItems::clone(p));
                    }
                    _ => missing.push(id.clone()),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let fresh = get_many(db, company_id, &missing).await?;
        {
            let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
            if entries.len() + fresh.len() > CACHE_LIMIT {
                entries.clear();
            }
            for p in &fresh {
                entries.insert(p.pricing.id.clone(), (cache_version, Arc::new(p.clone())));
            }
        }
        found.extend(fresh);
        Ok(found)
    }
}

/// Whether `id` is an item pricing of `company_id`.
pub async fn item_exists(db: &Db, company_id: &str, id: &str) -> DbResult<bool> {
    let sql = "SELECT id FROM item_pricings WHERE company_id = $1 AND id = $2";
    let found: Option<(String,)> =
        on_db!(db, |pool| sqlx::query_as(sql).bind(company_id).bind(id).fetch_optional(pool).await)?;
    Ok(found.is_some())
}
