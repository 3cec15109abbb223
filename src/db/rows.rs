//! The query chains every tenant-owned table shares — one row by id, one by a unique key, a
//! page of rows, archiving — written once for any row type that names its table and columns.

use chrono::{DateTime, Utc};
use sqlx::FromRow;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use super::{Db, DbResult, Page, exec_db, on_db, placeholders};

/// A row type stored in one table, readable from either store.
pub trait Stored: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static {
    const TABLE: &'static str;
    /// The columns [`FromRow`] reads, comma-separated.
    const COLUMNS: &'static str;
}

/// The row of `company_id` with `id`.
pub async fn get<T: Stored>(db: &Db, company_id: &str, id: &str) -> DbResult<Option<T>> {
    let sql = format!("SELECT {} FROM {} WHERE company_id = $1 AND id = $2", T::COLUMNS, T::TABLE);
    Ok(on_db!(db, |pool| sqlx::query_as::<_, T>(&sql).bind(company_id).bind(id).fetch_optional(pool).await)?)
}

/// The row whose unique `column` (`id`, `token`, `slug`, …) is `value`, of whichever company:
/// for keys that are already bound to a tenant (signed links, customers' tokens).
pub async fn by<T: Stored>(db: &Db, column: &'static str, value: &str) -> DbResult<Option<T>> {
    let sql = format!("SELECT {} FROM {} WHERE {column} = $1", T::COLUMNS, T::TABLE);
    Ok(on_db!(db, |pool| sqlx::query_as::<_, T>(&sql).bind(value).fetch_optional(pool).await)?)
}

/// Which rows a list leaves out unless the page asks for them (`page.include_archived`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    Nothing,
    /// Rows with `archived_at` set.
    Archived,
    /// Rows with `enabled` false.
    Disabled,
}

/// One page of a company's rows, newest first. Each filter `(column, value)` applies when its
/// value is given.
pub async fn page<T: Stored>(
    db: &Db,
    company_id: &str,
    page: &Page,
    hidden: Hidden,
    filters: &[(&'static str, Option<&str>)],
) -> DbResult<Vec<T>> {
    let mut sql = format!("SELECT {} FROM {} WHERE company_id = $1 AND ($2 IS NULL OR id < $2)", T::COLUMNS, T::TABLE);
    let mut n = 3;
    let shown = match hidden {
        Hidden::Nothing => None,
        Hidden::Archived => Some("archived_at IS NULL"),
        Hidden::Disabled => Some("enabled"),
    };
    if let Some(shown) = shown {
        sql.push_str(&format!(" AND ({shown} OR $3)"));
        n += 1;
    }
    for (column, _) in filters {
        sql.push_str(&format!(" AND (${n} IS NULL OR {column} = ${n})"));
        n += 1;
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${n}"));
    Ok(on_db!(db, |pool| {
        let mut q = sqlx::query_as::<_, T>(&sql).bind(company_id).bind(&page.cursor);
        if shown.is_some() {
            q = q.bind(page.include_archived);
        }
        for (_, value) in filters {
            q = q.bind(*value);
        }
        q.bind(page.fetch_limit()).fetch_all(pool).await
    })?)
}

/// The rows of `company_id` among `ids`, in one query; unknown ids are simply absent.
pub async fn get_many<T: Stored>(db: &Db, company_id: &str, ids: &[String]) -> DbResult<Vec<T>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {} FROM {} WHERE company_id = $1 AND id IN ({})",
        T::COLUMNS,
        T::TABLE,
        placeholders(2, ids.len())
    );
    Ok(on_db!(db, |pool| {
        let mut q = sqlx::query_as::<_, T>(&sql).bind(company_id);
        for id in ids {
            q = q.bind(id);
        }
        q.fetch_all(pool).await
    })?)
}

/// Archive a row once: archiving again keeps the first timestamp, so it is idempotent.
pub async fn archive<T: Stored>(db: &Db, company_id: &str, id: &str, now: DateTime<Utc>) -> DbResult<()> {
    let sql = format!(
        "UPDATE {} SET archived_at = COALESCE(archived_at, $3), updated_at = $3 WHERE company_id = $1 AND id = $2",
        T::TABLE
    );
    exec_db!(db, sqlx::query(&sql).bind(company_id).bind(id).bind(now))?;
    Ok(())
}

/// Archive a row and read it back as it is now; `None` when it does not exist for the company.
pub async fn archive_get<T: Stored>(db: &Db, company_id: &str, id: &str, now: DateTime<Utc>) -> DbResult<Option<T>> {
    archive::<T>(db, company_id, id, now).await?;
    get(db, company_id, id).await
}

/// Declares `JOINED_COLUMNS` (`alias.column AS alias_column, …`) and `from_joined(row)` for a row
/// type, so a query can read it beside another row in one join (one round trip for a page
/// instead of two) without its column names clashing with the other row's.
macro_rules! joined_row {
    ($ty:ty, $alias:literal, $f1:ident: $t1:ty $(, $field:ident: $fty:ty)* $(,)?) => {
        $crate::db::rows::joined_row!($ty, $alias, $f1: $t1 $(, $field: $fty)*; computed:);
    };
    // `computed` fields are no column of the table: the query selects them under the alias's
    // name itself (`… AS s_cache_version`), and `JOINED_COLUMNS` leaves them out.
    ($ty:ty, $alias:literal, $f1:ident: $t1:ty $(, $field:ident: $fty:ty)*; computed: $($cfield:ident: $cty:ty),* $(,)?) => {
        impl $ty {
            pub(crate) const JOINED_COLUMNS: &'static str = concat!(
                $alias, ".", stringify!($f1), " AS ", $alias, "_", stringify!($f1)
                $(, ", ", $alias, ".", stringify!($field), " AS ", $alias, "_", stringify!($field))*
            );

            /// The row from a query that selected `JOINED_COLUMNS`, on either store.
            pub(crate) fn from_joined<'r, R>(row: &'r R) -> Result<Self, sqlx::Error>
            where
                R: sqlx::Row,
                &'static str: sqlx::ColumnIndex<R>,
                $t1: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
                $($fty: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,)*
                $($cty: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,)*
            {
                Ok(Self {
                    $f1: row.try_get(concat!($alias, "_", stringify!($f1)))?,
                    $($field: row.try_get(concat!($alias, "_", stringify!($field)))?,)*
                    $($cfield: row.try_get(concat!($alias, "_", stringify!($cfield)))?,)*
                })
            }
        }
    };
}
pub(crate) use joined_row;
