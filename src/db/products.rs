//! Products: the things a company sells; prices live on product pricings.

use chrono::{DateTime, Utc};

use super::{Db, DbResult, Page, on_db};

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

const COLUMNS: &str = "id, company_id, name, description, external_id, archived_at, created_at, updated_at";

pub async fn insert(db: &Db, p: &Product) -> DbResult<()> {
    let sql = "INSERT INTO products (id, company_id, name, description, external_id, archived_at, created_at, \
               updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    on_db!(db, |pool| sqlx::query(sql)
        .bind(&p.id)
        .bind(&p.company_id)
        .bind(&p.name)
        .bind(&p.description)
        .bind(&p.external_id)
        .bind(p.archived_at)
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get(db: &Db, company_id: &str, id: &str) -> DbResult<Option<Product>> {
    let sql = format!("SELECT {COLUMNS} FROM products WHERE company_id = $1 AND id = $2");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Product>(&sql).bind(company_id).bind(id).fetch_optional(pool).await)?)
}

pub async fn list(db: &Db, company_id: &str, page: &Page) -> DbResult<Vec<Product>> {
    let sql = format!("SELECT {COLUMNS} FROM products {} ", Page::WHERE_ORDER_LIMIT);
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Product>(&sql)
        .bind(company_id)
        .bind(&page.cursor)
        .bind(page.include_archived)
        .bind(page.fetch_limit())
        .fetch_all(pool)
        .await)?)
}

/// Archive once; archiving again keeps the first timestamp. Returns the row as it is now.
pub async fn archive(db: &Db, company_id: &str, id: &str, now: DateTime<Utc>) -> DbResult<Option<Product>> {
    let sql = "UPDATE products SET archived_at = COALESCE(archived_at, $3), updated_at = $3 \
               WHERE company_id = $1 AND id = $2";
    on_db!(db, |pool| sqlx::query(sql)
        .bind(company_id)
        .bind(id)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    get(db, company_id, id).await
}

/// Products of `company_id` among `ids`, in one query.
pub async fn get_many(db: &Db, company_id: &str, ids: &[String]) -> DbResult<Vec<Product>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM products WHERE company_id = $1 AND id IN ({})",
        super::placeholders(2, ids.len())
    );
    Ok(on_db!(db, |pool| {
        let mut q = sqlx::query_as::<_, Product>(&sql).bind(company_id);
        for id in ids {
            q = q.bind(id);
        }
        q.fetch_all(pool).await
    })?)
}
