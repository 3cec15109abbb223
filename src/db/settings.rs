//! Server-wide settings kept in the database so every instance shares them.

use chrono::{DateTime, Utc};

use super::{Db, DbResult, exec_db, on_db};

/// The server secret: 32 random bytes, created by whichever instance starts first.
pub async fn secret(db: &Db, now: DateTime<Utc>) -> DbResult<Vec<u8>> {
    let candidate = format!("{}{}", crate::domain::ids::token(), crate::domain::ids::token());
    let insert =
        "INSERT INTO settings (name, value, created_at) VALUES ('secret', $1, $2) ON CONFLICT (name) DO NOTHING";
    exec_db!(db, sqlx::query(insert).bind(&candidate).bind(now))?;
    let select = "SELECT value FROM settings WHERE name = 'secret'";
    let (value,): (String,) = on_db!(db, |pool| sqlx::query_as(select).fetch_one(pool).await)?;
    hex::decode(&value).map_err(|_| super::DbError::Corrupt("settings.secret is not hex".into()))
}
