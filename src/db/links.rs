//! Reusable checkout links: a slug that starts a fresh checkout session for every visitor.

use chrono::{DateTime, Utc};

use super::rows::{self, Hidden, Stored};
use super::{Db, DbResult, Page, exec_db};

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

impl Stored for CheckoutLink {
    const TABLE: &'static str = "checkout_links";
    const COLUMNS: &'static str = COLUMNS;
}

/// Insert; a slug already taken (by any company: slugs are global URLs) fails with `DbError::Unique`.
pub async fn insert(db: &Db, l: &CheckoutLink) -> DbResult<()> {
    let sql = format!("INSERT INTO checkout_links ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    exec_db!(
        db,
        sqlx::query(&sql)
            .bind(&l.id)
            .bind(&l.company_id)
            .bind(&l.slug)
            .bind(&l.name)
            .bind(l.enabled)
            .bind(&l.spec)
            .bind(l.created_at)
            .bind(l.updated_at)
    )?;
    Ok(())
}

/// Replace the changeable fields of a link.
pub async fn update(db: &Db, l: &CheckoutLink) -> DbResult<()> {
    let sql = "UPDATE checkout_links SET slug = $3, name = $4, enabled = $5, spec = $6, updated_at = $7 \
               WHERE company_id = $1 AND id = $2";
    exec_db!(
        db,
        sqlx::query(sql)
            .bind(&l.company_id)
            .bind(&l.id)
            .bind(&l.slug)
            .bind(&l.name)
            .bind(l.enabled)
            .bind(&l.spec)
            .bind(l.updated_at)
    )?;
    Ok(())
}

pub async fn get(db: &Db, company_id: &str, id: &str) -> DbResult<Option<CheckoutLink>> {
    rows::get(db, company_id, id).await
}

/// A link by id alone, for signed preview links.
pub async fn by_id(db: &Db, id: &str) -> DbResult<Option<CheckoutLink>> {
    rows::by(db, "id", id).await
}

pub async fn by_slug(db: &Db, slug: &str) -> DbResult<Option<CheckoutLink>> {
    rows::by(db, "slug", slug).await
}

pub async fn list(db: &Db, company_id: &str, page: &Page) -> DbResult<Vec<CheckoutLink>> {
    rows::page(db, company_id, page, Hidden::Disabled, &[]).await
}
