//! A write transaction on either store, and the webhook events raised in it: queued while it
//! runs and written by its `commit`, in three statements however many there are, so an event
//! exists exactly when the change it reports does.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, Utc};

use super::{Db, DbError, DbResult, idempotency, placeholders, request};
use crate::domain::ids::{self, prefix};

/// An open transaction on either store. Dropped without [`Tx::commit`] it rolls back, and the
/// events queued on it are gone with it.
pub struct Tx {
    conn: TxConn,
    events: Vec<Queued>,
    /// Where the commit may take one company's endpoints from memory (see [`Tx::with_endpoints`]).
    known: Option<Known>,
    /// The request's `Idempotency-Key` claim, made in this transaction: its commit waits for the
    /// answer (see `db::request`).
    claim: Option<request::Claim>,
}

/// The enabled webhook endpoints of each company, kept in memory: an entry holds the company's
/// `cache_version` it was read under, and adding or disabling an endpoint bumps that version (in
/// its own transaction), so an entry is trusted only by a request that read the same version —
/// on any instance, a change is seen on the next request (as with `pricings::Cache`).
#[derive(Default)]
pub struct Endpoints {
    entries: RwLock<HashMap<String, (i64, Arc<CompanyEndpoints>)>>,
}

/// One company's enabled endpoints.
type CompanyEndpoints = Vec<Subscribed>;

/// An enabled endpoint and the event types it takes (none listed: every type).
struct Subscribed {
    id: String,
    types: Vec<String>,
}

impl Subscribed {
    fn wants(&self, event_type: &str) -> bool {
        self.types.is_empty() || self.types.iter().any(|t| t == event_type)
    }
}

/// Companies kept at most; a full cache starts over.
const ENDPOINTS_LIMIT: usize = 10_000;

/// One company's endpoints the commit may take from memory.
struct Known {
    cache: Arc<Endpoints>,
    company_id: String,
    cache_version: i64,
}

/// The driver's transaction under a [`Tx`].
pub enum TxConn {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Run `$body` with `$conn` bound to the concrete connection of the transaction `$tx`.
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {{
        $crate::db::request::count();
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
    ///
    /// The request's first transaction also claims its `Idempotency-Key` when the idempotency
    /// layer armed one: the claim, the work and (at the commit) the answer are then one commit. A
    /// key another request holds is a `Unique` error (the layer answers for it).
    pub async fn begin(&self) -> DbResult<Tx> {
        request::flush().await?;
        request::count_transaction();
        let conn = match self {
            Db::Sqlite(pool) => TxConn::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => TxConn::Postgres(pool.begin().await?),
        };
        // The claim is written when the transaction commits, with the answer: a concurrent
        // request with the same key then finds the key taken and its whole transaction rolls
        // back (the routes that claim this way write nothing outside their transaction).
        Ok(Tx { conn, events: Vec::new(), known: None, claim: request::take_claim() })
    }
}

impl Tx {
    /// The driver's transaction, for [`on_tx!`].
    pub fn conn_mut(&mut self) -> &mut TxConn {
        &mut self.conn
    }

    /// Let the commit take `company_id`'s endpoints from `cache` while they were read under
    /// `cache_version`, the company's version as this request read it (with its session).
    pub fn with_endpoints(&mut self, cache: Arc<Endpoints>, company_id: &str, cache_version: i64) {
        self.known = Some(Known { cache, company_id: company_id.to_string(), cache_version });
    }

    /// Keep `event` for the commit.
    pub fn queue(&mut self, event: Queued) {
        self.events.push(event);
    }

    /// Write the queued events with their deliveries, then commit. The transaction carrying the
    /// request's idempotency claim is parked instead, and commits with the answer (`db::request`).
    pub async fn commit(mut self) -> DbResult<()> {
        let events = std::mem::take(&mut self.events);
        let known = self.known.take();
        write_events(&mut self, &events, known.as_ref()).await?;
        match self.claim.take() {
            Some(claim) => {
                request::park(Box::new(move |finish| Box::pin(self.finish(claim, finish))));
                Ok(())
            }
            None => Ok(self.commit_now().await?),
        }
    }

    async fn commit_now(self) -> Result<(), sqlx::Error> {
        match self.conn {
            TxConn::Sqlite(t) => t.commit().await,
            TxConn::Postgres(t) => t.commit().await,
        }
    }

    /// Commit the parked transaction with what became of its claim: false (and rolled back, the
    /// work with it) when another request took the key meanwhile.
    async fn finish(mut self, claim: request::Claim, finish: request::Finish) -> Result<bool, sqlx::Error> {
        let (company, key, hash) = (&claim.company_id, &claim.key, &claim.request_hash);
        let stored = match finish {
            request::Finish::Answer(a) => exec_tx!(
                &mut self,
                sqlx::query(idempotency::ANSWERED)
                    .bind(company)
                    .bind(key)
                    .bind(hash)
                    .bind(i32::from(a.status))
                    .bind(&a.body)
                    .bind(a.at)
            )?,
            // A failure on our side: the work stays, the key stays free for a retry.
            request::Finish::TakeBack => 1,
            request::Finish::Keep => {
                exec_tx!(&mut self, sqlx::query(idempotency::CLAIM).bind(company).bind(key).bind(hash).bind(claim.now))?
            }
        };
        if stored == 0 {
            return Ok(false);
        }
        self.commit_now().await?;
        Ok(true)
    }
}

/// Write `events` in `tx`: one INSERT of the events, one read of their companies' enabled
/// endpoints (none when `known` has them in memory), one INSERT of a delivery per event and
/// endpoint subscribed to its type.
async fn write_events(tx: &mut Tx, events: &[Queued], known: Option<&Known>) -> DbResult<()> {
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
    let mut subscribed: HashMap<String, Arc<CompanyEndpoints>> = HashMap::new();
    if let Some(k) = known {
        let entries = k.cache.entries.read().unwrap_or_else(PoisonError::into_inner);
        if let Some((version, list)) = entries.get(&k.company_id)
            && *version == k.cache_version
        {
            subscribed.insert(k.company_id.clone(), list.clone());
        }
    }
    companies.retain(|c| !subscribed.contains_key(*c));
    if !companies.is_empty() {
        let select = format!(
            "SELECT id, company_id, event_types FROM webhook_endpoints WHERE enabled = $1 AND company_id IN ({}) \
             ORDER BY id",
            placeholders(2, companies.len())
        );
        let rows: Vec<(String, String, String)> = on_tx!(tx, |conn| {
            let mut q = sqlx::query_as(&select).bind(true);
            for c in &companies {
                q = q.bind(*c);
            }
            q.fetch_all(conn).await
        })?;
        let mut read: HashMap<String, Vec<Subscribed>> =
            companies.iter().map(|c| (c.to_string(), Vec::new())).collect();
        for (id, company_id, types) in rows {
            let types: Vec<String> = serde_json::from_str(&types)
                .map_err(|e| DbError::Corrupt(format!("webhook_endpoints.event_types of {id}: {e}")))?;
            read.entry(company_id).or_default().push(Subscribed { id, types });
        }
        for (company_id, list) in read {
            let list = Arc::new(list);
            if let Some(k) = known.filter(|k| k.company_id == company_id) {
                let mut entries = k.cache.entries.write().unwrap_or_else(PoisonError::into_inner);
                if entries.len() >= ENDPOINTS_LIMIT {
                    entries.clear();
                }
                entries.insert(company_id.clone(), (k.cache_version, list.clone()));
            }
            subscribed.insert(company_id, list);
        }
    }
    let deliveries: Vec<(String, &Queued, &str)> = events
        .iter()
        .flat_map(|e| {
            let endpoints = subscribed.get(&e.company_id).map(|l| l.as_slice()).unwrap_or_default();
            endpoints
                .iter()
                .filter(|endpoint| endpoint.wants(&e.event_type))
                .map(move |endpoint| (ids::new_id(prefix::DELIVERY, e.at), e, endpoint.id.as_str()))
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
