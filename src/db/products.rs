//! Products: the things a company sells; prices live on product pricings.

use chrono::{DateTime, Utc};

use super::rows::{self, Hidden, Stored};
use super::{Db, DbResult, Page, exec_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Product {
    pub id: String,
    pub company_id: String,
    pub name: String,
    pub description: Option<String>,
    pub external_id: Option<String>,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Stored for Product {
    const TABLE: &'static str = "products";
    const COLUMNS: &'static str = "id, company_id, name, description, external_id, archived_at, created_at, updated_at";
}

pub async fn insert(db: &Db, p: &Product) -> DbResult<()> {
    let sql = "INSERT INTO products (id, company_id, name, description, external_id, archived_at, created_at, \
               updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    exec_db!(
        db,
        sqlx::query(sql)
            .bind(&p.id)
            .bind(&p.company_id)
            .bind(&p.name)
            .bind(&p.description)
            .bind(&p.external_id)
            .bind(p.archived_at)
            .bind(p.created_at)
            .bind(p.updated_at)
    )?;
    Ok(())
}

pub async fn get(db: &Db, company_id: &str, id: &str) -> DbResult<Option<Product>> {
    rows::get(db, company_id, id).await
}

pub async fn list(db: &Db, company_id: &str, page: &Page) -> DbResult<Vec<Product>> {
    rows::page(db, company_id, page, Hidden::Archived, &[]).await
}

/// Archive once; archiving again keeps the first timestamp. Returns the row as it is now.
pub async fn archive(db: &Db, company_id: &str, id: &str, now: DateTime<Utc>) -> DbResult<Option<Product>> {
    rows::archive_get(db, company_id, id, now).await
}

/// Products of `company_id` among `ids`, in one query.
pub async fn get_many(db: &Db, company_id: &str, ids: &[String]) -> DbResult<Vec<Product>> {
    rows::get_many(db, company_id, ids).await
}
