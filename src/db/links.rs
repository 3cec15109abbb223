//! Reusable checkout links: a slug that starts a fresh checkout session for every visitor.

use chrono::{DateTime, Utc};

use super::{Db, DbResult, Page, on_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CheckoutLink {
    pub id: String,
    pub company_id: String,
    pub slug: String,
    pub name: String,
    pub enabled: bool,
    /// `domain::link::LinkSpec` as JSON.
    pub spec: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, company_id, slug, name, enabled, spec, created_at, updated_at";

/// Insert; a slug already taken (by any company: slugs are global URLs) fails with `DbError::Unique`.
pub async fn insert(db: &Db, l: &CheckoutLink) -> DbResult<()> {
    let sql = format!("INSERT INTO checkout_links ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    on_db!(db, |pool| sqlx::query(&sql)
        .bind(&l.id)
        .bind(&l.company_id)
        .bind(&l.slug)
        .bind(&l.name)
        .bind(l.enabled)
        .bind(&l.spec)
        .bind(l.created_at)
        .bind(l.updated_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Replace the changeable fields of a link.
pub async fn update(db: &Db, l: &CheckoutLink) -> DbResult<()> {
    let sql = "UPDATE checkout_links SET slug = $3, name = $4, enabled = $5, spec = $6, updated_at = $7 \
               WHERE company_id = $1 AND id = $2";
    on_db!(db, |pool| sqlx::query(sql)
        .bind(&l.company_id)
        .bind(&l.id)
        .bind(&l.slug)
        .bind(&l.name)
        .bind(l.enabled)
        .bind(&l.spec)
        .bind(l.updated_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get(db: &Db, company_id: &str, id: &str) -> DbResult<Option<CheckoutLink>> {
    let sql = format!("SELECT {COLUMNS} FROM checkout_links WHERE company_id = $1 AND id = $2");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, CheckoutLink>(&sql).bind(company_id).bind(id).fetch_optional(pool).await)?)
}

/// A link by id alone, for signed preview links.
pub async fn by_id(db: &Db, id: &str) -> DbResult<Option<CheckoutLink>> {
    let sql = format!("SELECT {COLUMNS} FROM checkout_links WHERE id = $1");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, CheckoutLink>(&sql).bind(id).fetch_optional(pool).await)?)
}

pub async fn by_slug(db: &Db, slug: &str) -> DbResult<Option<CheckoutLink>> {
    let sql = format!("SELECT {COLUMNS} FROM checkout_links WHERE slug = $1");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, CheckoutLink>(&sql).bind(slug).fetch_optional(pool).await)?)
}

pub async fn list(db: &Db, company_id: &str, page: &Page) -> DbResult<Vec<CheckoutLink>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM checkout_links WHERE company_id = $1 AND ($2 IS NULL OR id < $2) \
         AND (enabled OR $3) ORDER BY id DESC LIMIT $4"
    );
    Ok(on_db!(db, |pool| sqlx::query_as::<_, CheckoutLink>(&sql)
        .bind(company_id)
        .bind(&page.cursor)
        .bind(page.include_archived)
        .bind(page.fetch_limit())
        .fetch_all(pool)
        .await)?)
}
