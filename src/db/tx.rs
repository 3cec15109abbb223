//! A write transaction on either store, and the webhook events raised in it: queued while it
//! runs and written by its `commit`, in three statements however many there are, so an event
//! exists exactly when the change it reports does.

use chrono::{DateTime, Utc};

use super::{Db, DbError, DbResult, placeholders, statements};
use crate::domain::ids::{self, prefix};

/// An open transaction on either store. Dropped without [`Tx::commit`] it rolls back, and the
/// events queued on it are gone with it.
pub struct Tx {
    conn: TxConn,
    events: Vec<Queued>,
}

/// The driver's transaction under a [`Tx`].
pub enum TxConn {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Run `$body` with `$conn` bound to the concrete connection of the transaction `$tx`.
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {{
        $crate::db::statements::count();
        match $tx.conn_mut() {
            $crate::db::tx::TxConn::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::tx::TxConn::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    }};
}
/// Execute the statement `$query` inside the transaction `$tx`, answering how many rows it changed.
macro_rules! exec_tx {
    ($tx:expr, $query:expr) => {
        $crate::db::tx::on_tx!($tx, |conn| $query.execute(conn).await.map(|r| r.rows_affected()))
    };
}
pub(crate) use {exec_tx, on_tx};

/// A webhook event raised in a transaction (`db::webhooks::enqueue`), written when it commits.
pub struct Queued {
    pub id: String,
    pub company_id: String,
    pub event_type: String,
    /// The envelope as sent, byte for byte.
    pub payload: String,
    pub at: DateTime<Utc>,
}

impl Db {
    /// Begin a write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`):
    /// a deferred transaction that reads and then writes can fail with SQLITE_BUSY when
    /// another writer got in between, and busy_timeout cannot help with that.
    pub async fn begin(&self) -> DbResult<Tx> {
        statements::count_transaction();
        let conn = match self {
            Db::Sqlite(pool) => TxConn::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => TxConn::Postgres(pool.begin().await?),
        };
        Ok(Tx { conn, events: Vec::new() })
    }
}

impl Tx {
    /// The driver's transaction, for [`on_tx!`].
    pub fn conn_mut(&mut self) -> &mut TxConn {
        &mut self.conn
    }

    /// Keep `event` for the commit.
    pub fn queue(&mut self, event: Queued) {
        self.events.push(event);
    }

    /// Write the queued events with their deliveries, then commit.
    pub async fn commit(mut self) -> DbResult<()> {
        let events = std::mem::take(&mut self.events);
        write_events(&mut self, &events).await?;
        match self.conn {
            TxConn::Sqlite(t) => t.commit().await?,
            TxConn::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// Write `events` in `tx`: one INSERT of the events, one read of their companies' enabled
/// endpoints, one INSERT of a delivery per event and endpoint subscribed to its type (an endpoint
/// with no types listed takes every type).
async fn write_events(tx: &mut Tx, events: &[Queued]) -> DbResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..events.len()).map(|i| format!("({})", placeholders(i * 5 + 1, 5))).collect();
    let insert_events = format!(
        "INSERT INTO outbox_events (id, company_id, event_type, payload, created_at) VALUES {}",
        rows.join(", ")
    );
    exec_tx!(tx, {
        let mut q = sqlx::query(&insert_events);
        for e in events {
            q = q.bind(&e.id).bind(&e.company_id).bind(&e.event_type).bind(&e.payload).bind(e.at);
        }
        q
    })?;

    let mut companies: Vec<&str> = events.iter().map(|e| e.company_id.as_str()).collect();
    companies.sort_unstable();
    companies.dedup();
    let select = format!(
        "SELECT id, company_id, event_types FROM webhook_endpoints WHERE enabled = $1 AND company_id IN ({})",
        placeholders(2, companies.len())
    );
    let endpoints: Vec<(String, String, String)> = on_tx!(tx, |conn| {
        let mut q = sqlx::query_as(&select).bind(true);
        for c in &companies {
            q = q.bind(*c);
        }
        q.fetch_all(conn).await
    })?;
    let mut subscribed = Vec::with_capacity(endpoints.len());
    for (id, company_id, types) in endpoints {
        let types: Vec<String> = serde_json::from_str(&types)
            .map_err(|e| DbError::Corrupt(format!("webhook_endpoints.event_types of {id}: {e}")))?;
        subscribed.push((id, company_id, types));
    }
    let deliveries: Vec<(String, &Queued, &str)> = events
        .iter()
        .flat_map(|e| {
            subscribed
                .iter()
                .filter(move |(_, company, types)| {
                    *company == e.company_id && (types.is_empty() || types.contains(&e.event_type))
                })
                .map(move |(endpoint, _, _)| (ids::new_id(prefix::DELIVERY, e.at), e, endpoint.as_str()))
        })
        .collect();
    if deliveries.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..deliveries.len())
        .map(|i| {
            let n = i * 5;
            format!("(${}, ${}, ${}, ${}, 'PENDING', 0, ${n5}, ${n5}, ${n5})", n + 1, n + 2, n + 3, n + 4, n5 = n + 5)
        })
        .collect();
    let insert_deliveries = format!(
        "INSERT INTO webhook_deliveries (id, company_id, event_id, endpoint_id, status, attempts, next_attempt_at, \
         created_at, updated_at) VALUES {}",
        rows.join(", ")
    );
    exec_tx!(tx, {
        let mut q = sqlx::query(&insert_deliveries);
        for (id, e, endpoint) in &deliveries {
            q = q.bind(id).bind(&e.company_id).bind(&e.id).bind(*endpoint).bind(e.at);
        }
        q
    })?;
    Ok(())
}
