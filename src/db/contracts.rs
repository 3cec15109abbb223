//! Contracts: templates, contracts, their signers, the audit trail and attached files.
//!
//! Every status change is a compare-and-set on `status` (see `domain::contract`); a signature
//! is a compare-and-set on the signer row (`signed_at IS NULL`). A signing transaction first
//! takes the contract row (`lock`), so on PostgreSQL two last signatures cannot both miss each
//! other and leave the contract waiting for nobody (SQLite's `BEGIN IMMEDIATE` already serializes).

use chrono::{DateTime, Utc};

use sqlx::FromRow;

use super::checkouts::CheckoutSession;
use super::companies::Company;
use super::rows::{self, Hidden, Stored};
use super::tx::{Tx, exec_tx, on_tx};
use super::{Db, DbResult, Page, exec_db, on_db, placeholders};
use crate::domain::contract::Status;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Template {
    pub id: String,
    pub company_id: String,
    pub title: String,
    pub body: String,
    /// JSON array of the variable names the body uses.
    pub variables: String,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Contract {
    pub id: String,
    pub company_id: String,
    pub checkout_id: String,
    pub customer_id: String,
    pub status: String,
    pub title: String,
    pub template_id: Option<String>,
    pub content_template: Option<String>,
    /// Rendered HTML (escaped by `domain::document`).
    pub content: String,
    pub document_hash: Option<String>,
    /// JSON object of the merchant's `custom_variables`.
    pub custom_variables: String,
    pub currency: String,
    pub acv: i64,
    pub tcv: i64,
    pub sequential: bool,
    pub require_payment_method: bool,
    pub start_date: Option<DateTime<Utc>>,
    pub expiration_date: Option<DateTime<Utc>>,
    pub owner_id: Option<String>,
    /// JSON of fields echoed back as given.
    pub extra: String,
    pub metadata: String,
    pub signed_offline: bool,
    pub offline_note: Option<String>,
    pub signed_file_id: Option<String>,
    pub finalized_at: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Contract {
    /// The status; an unknown stored value reads as VOID, which stops everything safely.
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Void)
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Signer {
    pub id: String,
    pub company_id: String,
    pub contract_id: String,
    /// SIGNATORY or COUNTER (`domain::contract::Role`).
    pub role: String,
    pub position: i64,
    pub name: String,
    pub email: Option<String>,
    pub title: Option<String>,
    pub token: String,
    pub signed_at: Option<DateTime<Utc>>,
    pub signed_name: Option<String>,
    pub signed_title: Option<String>,
    pub signature_image: Option<String>,
    pub signed_hash: Option<String>,
    pub declined_at: Option<DateTime<Utc>>,
    pub decline_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When this signer last opened their page (the newest VIEWED event); read only by
    /// [`signers_with_views`], else `None`. Not a column.
    #[sqlx(default)]
    pub last_viewed_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Event {
    pub id: String,
    pub company_id: String,
    pub contract_id: String,
    /// CREATED, SENT, VIEWED, SIGNED, COUNTER_SIGNED, DECLINED, SIGNED_OFFLINE, PAID, COMPLETED, VOIDED, EXPIRED.
    pub kind: String,
    pub signer_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct File {
    pub id: String,
    pub company_id: String,
    pub contract_id: String,
    pub filename: String,
    pub content_type: String,
    pub sha256: String,
    pub bytes: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

/// A file without its bytes, for listings.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FileInfo {
    pub id: String,
    pub contract_id: String,
    pub filename: String,
    pub content_type: String,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

const TEMPLATE_COLUMNS: &str = "id, company_id, title, body, variables, archived_at, created_at, updated_at";
impl Stored for Template {
    const TABLE: &'static str = "contract_templates";
    const COLUMNS: &'static str = TEMPLATE_COLUMNS;
}

impl Stored for Contract {
    const TABLE: &'static str = "contracts";
    const COLUMNS: &'static str = COLUMNS;
}

const COLUMNS: &str = "id, company_id, checkout_id, customer_id, status, title, template_id, content_template, \
     content, document_hash, custom_variables, currency, acv, tcv, sequential, require_payment_method, start_date, expiration_date, \
     owner_id, extra, metadata, signed_offline, offline_note, signed_file_id, finalized_at, signed_at, completed_at, \
     closed_at, created_at, updated_at";
const SIGNER_COLUMNS: &str = "id, company_id, contract_id, role, position, name, email, title, token, signed_at, \
     signed_name, signed_title, signature_image, signed_hash, declined_at, decline_reason, created_at, updated_at";
const EVENT_COLUMNS: &str = "id, company_id, contract_id, kind, signer_id, ip, user_agent, detail, at";

// ---- templates -------------------------------------------------------------------------------

pub async fn insert_template(db: &Db, t: &Template) -> DbResult<()> {
    let sql = format!("INSERT INTO contract_templates ({TEMPLATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    exec_db!(
        db,
        sqlx::query(&sql)
            .bind(&t.id)
            .bind(&t.company_id)
            .bind(&t.title)
            .bind(&t.body)
            .bind(&t.variables)
            .bind(t.archived_at)
            .bind(t.created_at)
            .bind(t.updated_at)
    )?;
    Ok(())
}

pub async fn get_template(db: &Db, company_id: &str, id: &str) -> DbResult<Option<Template>> {
    rows::get(db, company_id, id).await
}

pub async fn list_templates(db: &Db, company_id: &str, page: &Page) -> DbResult<Vec<Template>> {
    rows::page(db, company_id, page, Hidden::Archived, &[]).await
}

/// Archive a template (idempotent); `None` when it does not exist for this company.
pub async fn archive_template(db: &Db, company_id: &str, id: &str, now: DateTime<Utc>) -> DbResult<Option<Template>> {
    rows::archive_get(db, company_id, id, now).await
}

// ---- contracts -------------------------------------------------------------------------------

pub async fn insert(tx: &mut Tx, c: &Contract) -> DbResult<()> {
    let sql = format!(
        "INSERT INTO contracts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30)"
    );
    exec_tx!(
        tx,
        sqlx::query(&sql)
            .bind(&c.id)
            .bind(&c.company_id)
            .bind(&c.checkout_id)
            .bind(&c.customer_id)
            .bind(&c.status)
            .bind(&c.title)
            .bind(&c.template_id)
            .bind(&c.content_template)
            .bind(&c.content)
            .bind(&c.document_hash)
            .bind(&c.custom_variables)
            .bind(&c.currency)
            .bind(c.acv)
            .bind(c.tcv)
            .bind(c.sequential)
            .bind(c.require_payment_method)
            .bind(c.start_date)
            .bind(c.expiration_date)
            .bind(&c.owner_id)
            .bind(&c.extra)
            .bind(&c.metadata)
            .bind(c.signed_offline)
            .bind(&c.offline_note)
            .bind(&c.signed_file_id)
            .bind(c.finalized_at)
            .bind(c.signed_at)
            .bind(c.completed_at)
            .bind(c.closed_at)
            .bind(c.created_at)
            .bind(c.updated_at)
    )?;
    Ok(())
}

pub async fn get(db: &Db, company_id: &str, id: &str) -> DbResult<Option<Contract>> {
    rows::get(db, company_id, id).await
}

/// A contract by id alone, for signed preview links and signer tokens (already tenant-bound).
pub async fn by_id(db: &Db, id: &str) -> DbResult<Option<Contract>> {
    rows::by(db, "id", id).await
}

/// The contract of the signer behind `token` with its checkout session and company, in one
/// query: what a signing page starts from.
pub async fn by_signer_token_with_checkout(
    db: &Db,
    token: &str,
) -> DbResult<Option<(Contract, CheckoutSession, Company)>> {
    let contract: Vec<String> = COLUMNS.split(", ").map(|c| format!("c.{}", c.trim())).collect();
    let sql = format!(
        "SELECT {}, {}, co.cache_version AS s_cache_version, {} FROM contract_signers sg \
         JOIN contracts c ON c.id = sg.contract_id \
         JOIN checkout_sessions s ON s.id = c.checkout_id AND s.company_id = c.company_id \
         JOIN companies co ON co.id = c.company_id WHERE sg.token = $1",
        contract.join(", "),
        CheckoutSession::JOINED_COLUMNS,
        Company::JOINED_COLUMNS
    );
    let row = on_db!(db, |pool| match sqlx::query(&sql).bind(token).fetch_optional(pool).await {
        Ok(Some(row)) => (|| {
            Ok(Some((Contract::from_row(&row)?, CheckoutSession::from_joined(&row)?, Company::from_joined(&row)?)))
        })(),
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    })?;
    Ok(row)
}

/// The contract whose order lives in checkout session `checkout_id`.
pub async fn by_checkout(db: &Db, checkout_id: &str) -> DbResult<Option<Contract>> {
    rows::by(db, "checkout_id", checkout_id).await
}

/// Contracts of a company, newest first, optionally of one status and one customer.
pub async fn list(
    db: &Db,
    company_id: &str,
    page: &Page,
    status: Option<&str>,
    customer_id: Option<&str>,
) -> DbResult<Vec<Contract>> {
    rows::page(db, company_id, page, Hidden::Nothing, &[("status", status), ("customer_id", customer_id)]).await
}

/// Take the contract row for the rest of `tx` (PostgreSQL row lock; a no-op write on SQLite,
/// whose transactions already hold the write lock). Returns the contract as it is now.
pub async fn lock(tx: &mut Tx, id: &str, now: DateTime<Utc>) -> DbResult<Option<Contract>> {
    let sql = "UPDATE contracts SET updated_at = $2 WHERE id = $1";
    exec_tx!(tx, sqlx::query(sql).bind(id).bind(now))?;
    let sql = format!("SELECT {COLUMNS} FROM contracts WHERE id = $1");
    Ok(on_tx!(tx, |conn| sqlx::query_as::<_, Contract>(&sql).bind(id).fetch_optional(conn).await)?)
}

/// `status IN ('DRAFT', …)`: the statuses a change to `to` may start from.
fn from_clause(to: Status) -> String {
    let list: Vec<String> = Status::sources(to).iter().map(|s| format!("'{}'", s.as_str())).collect();
    format!("status IN ({})", list.join(", "))
}

/// Move the contract to `to` if it may go there from where it is; false when it may not
/// (someone else moved it first). Stamps the column that belongs to `to`.
pub async fn transition(tx: &mut Tx, id: &str, to: Status, now: DateTime<Utc>) -> DbResult<bool> {
    let stamp = match to {
        Status::PendingSignatures => ", finalized_at = $3",
        Status::PendingPayment => ", signed_at = COALESCE(signed_at, $3)",
        Status::Complete => ", signed_at = COALESCE(signed_at, $3), completed_at = $3",
        Status::Declined | Status::Expired | Status::Void => ", closed_at = $3",
        Status::Draft | Status::PendingCounterSignature => "",
    };
    let sql = format!("UPDATE contracts SET status = $2, updated_at = $3{stamp} WHERE id = $1 AND {}", from_clause(to));
    let n = exec_tx!(tx, sqlx::query(&sql).bind(id).bind(to.as_str()).bind(now))?;
    Ok(n == 1)
}

/// Freeze the document: DRAFT → PENDING_SIGNATURES with the hash every signature must match.
pub async fn finalize(tx: &mut Tx, id: &str, document_hash: &str, now: DateTime<Utc>) -> DbResult<bool> {
    let sql = "UPDATE contracts SET status = 'PENDING_SIGNATURES', document_hash = $2, finalized_at = $3, \
               updated_at = $3 WHERE id = $1 AND status = 'DRAFT'";
    let n = exec_tx!(tx, sqlx::query(sql).bind(id).bind(document_hash).bind(now))?;
    Ok(n == 1)
}

/// Store the contract's values after its quantities changed on the page — unless someone has
/// signed meanwhile: the first signature froze the order and stored its values.
pub async fn set_values(db: &Db, id: &str, acv: i64, tcv: i64, now: DateTime<Utc>) -> DbResult<()> {
    let sql = "UPDATE contracts SET acv = $2, tcv = $3, updated_at = $4 WHERE id = $1 AND NOT EXISTS \
               (SELECT 1 FROM contract_signers WHERE contract_id = $1 AND signed_at IS NOT NULL)";
    exec_db!(db, sqlx::query(sql).bind(id).bind(acv).bind(tcv).bind(now))?;
    Ok(())
}

/// [`set_values`] inside `tx` (the first signature freezes them).
pub async fn set_values_in(tx: &mut Tx, id: &str, acv: i64, tcv: i64, now: DateTime<Utc>) -> DbResult<()> {
    let sql = "UPDATE contracts SET acv = $2, tcv = $3, updated_at = $4 WHERE id = $1";
    exec_tx!(tx, sqlx::query(sql).bind(id).bind(acv).bind(tcv).bind(now))?;
    Ok(())
}

/// Record that the contract was signed outside Kasse (inside the transaction that moves it on).
pub async fn set_offline(
    tx: &mut Tx,
    id: &str,
    note: Option<&str>,
    file_id: Option<&str>,
    now: DateTime<Utc>,
) -> DbResult<()> {
    let sql = "UPDATE contracts SET signed_offline = TRUE, offline_note = $2, signed_file_id = $3, \
               signed_at = COALESCE(signed_at, $4), updated_at = $4 WHERE id = $1";
    exec_tx!(tx, sqlx::query(sql).bind(id).bind(note).bind(file_id).bind(now))?;
    Ok(())
}

/// Open contracts whose `expiration_date` has passed: what the sweeper expires.
pub async fn overdue(db: &Db, now: DateTime<Utc>, limit: i64) -> DbResult<Vec<Contract>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM contracts WHERE {} AND expiration_date IS NOT NULL AND expiration_date <= $1 \
         ORDER BY expiration_date LIMIT $2",
        from_clause(Status::Expired)
    );
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Contract>(&sql).bind(now).bind(limit).fetch_all(pool).await)?)
}

// ---- signers ---------------------------------------------------------------------------------

pub async fn insert_signer(tx: &mut Tx, s: &Signer) -> DbResult<()> {
    let sql = format!(
        "INSERT INTO contract_signers ({SIGNER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
         $13, $14, $15, $16, $17, $18)"
    );
    exec_tx!(
        tx,
        sqlx::query(&sql)
            .bind(&s.id)
            .bind(&s.company_id)
            .bind(&s.contract_id)
            .bind(&s.role)
            .bind(s.position)
            .bind(&s.name)
            .bind(&s.email)
            .bind(&s.title)
            .bind(&s.token)
            .bind(s.signed_at)
            .bind(&s.signed_name)
            .bind(&s.signed_title)
            .bind(&s.signature_image)
            .bind(&s.signed_hash)
            .bind(s.declined_at)
            .bind(&s.decline_reason)
            .bind(s.created_at)
            .bind(s.updated_at)
    )?;
    Ok(())
}

const SIGNER_ORDER: &str = "ORDER BY contract_id, role DESC, position, id";

/// The signers of the given contracts (one query for a whole list page): customer
/// signatories first, then counter-signatories, each by position.
pub async fn signers_of(db: &Db, contract_ids: &[&str]) -> DbResult<Vec<Signer>> {
    if contract_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {SIGNER_COLUMNS} FROM contract_signers WHERE contract_id IN ({}) {SIGNER_ORDER}",
        placeholders(1, contract_ids.len())
    );
    Ok(on_db!(db, |pool| {
        let mut q = sqlx::query_as::<_, Signer>(&sql);
        for id in contract_ids {
            q = q.bind(*id);
        }
        q.fetch_all(pool).await
    })?)
}

/// The signers of `contract_id` as [`signers_of`] orders them, each with when they last viewed
/// their page (searched by the index on `contract_events (signer_id, kind, at)`).
pub async fn signers_with_views(db: &Db, contract_id: &str) -> DbResult<Vec<Signer>> {
    let sql = format!(
        "SELECT {SIGNER_COLUMNS}, (SELECT MAX(e.at) FROM contract_events e WHERE e.signer_id = contract_signers.id \
         AND e.kind = 'VIEWED') AS last_viewed_at FROM contract_signers WHERE contract_id = $1 {SIGNER_ORDER}"
    );
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Signer>(&sql).bind(contract_id).fetch_all(pool).await)?)
}

/// The signers of one contract, read inside `tx` (after `lock`).
pub async fn signers_in(tx: &mut Tx, contract_id: &str) -> DbResult<Vec<Signer>> {
    let sql = format!("SELECT {SIGNER_COLUMNS} FROM contract_signers WHERE contract_id = $1 {SIGNER_ORDER}");
    Ok(on_tx!(tx, |conn| sqlx::query_as::<_, Signer>(&sql).bind(contract_id).fetch_all(conn).await)?)
}

pub async fn signer_by_token(db: &Db, token: &str) -> DbResult<Option<Signer>> {
    let sql = format!("SELECT {SIGNER_COLUMNS} FROM contract_signers WHERE token = $1");
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Signer>(&sql).bind(token).fetch_optional(pool).await)?)
}

/// Record a signature; false when this signer has signed or declined already.
pub async fn sign(
    tx: &mut Tx,
    signer_id: &str,
    name: &str,
    title: Option<&str>,
    image: Option<&str>,
    document_hash: &str,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let sql = "UPDATE contract_signers SET signed_at = $2, signed_name = $3, signed_title = $4, signature_image = $5, \
               signed_hash = $6, updated_at = $2 WHERE id = $1 AND signed_at IS NULL AND declined_at IS NULL";
    let n = exec_tx!(
        tx,
        sqlx::query(sql).bind(signer_id).bind(now).bind(name).bind(title).bind(image).bind(document_hash)
    )?;
    Ok(n == 1)
}

/// Record a refusal to sign; false when this signer has signed or declined already.
pub async fn decline(tx: &mut Tx, signer_id: &str, reason: &str, now: DateTime<Utc>) -> DbResult<bool> {
    let sql = "UPDATE contract_signers SET declined_at = $2, decline_reason = $3, updated_at = $2 \
               WHERE id = $1 AND signed_at IS NULL AND declined_at IS NULL";
    let n = exec_tx!(tx, sqlx::query(sql).bind(signer_id).bind(now).bind(reason))?;
    Ok(n == 1)
}

/// Remove a counter-signatory; false when there is no such one on this contract.
pub async fn delete_counter(tx: &mut Tx, contract_id: &str, signer_id: &str) -> DbResult<bool> {
    let sql = "DELETE FROM contract_signers WHERE contract_id = $1 AND id = $2 AND role = 'COUNTER'";
    let n = exec_tx!(tx, sqlx::query(sql).bind(contract_id).bind(signer_id))?;
    Ok(n == 1)
}

// ---- audit trail -----------------------------------------------------------------------------

pub async fn insert_event(tx: &mut Tx, e: &Event) -> DbResult<()> {
    let sql = format!("INSERT INTO contract_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
    exec_tx!(
        tx,
        sqlx::query(&sql)
            .bind(&e.id)
            .bind(&e.company_id)
            .bind(&e.contract_id)
            .bind(&e.kind)
            .bind(&e.signer_id)
            .bind(&e.ip)
            .bind(&e.user_agent)
            .bind(&e.detail)
            .bind(e.at)
    )?;
    Ok(())
}

/// The events of the given contracts in the order they happened; `kind` narrows to one kind.
pub async fn events_of(db: &Db, contract_ids: &[&str], kind: Option<&str>) -> DbResult<Vec<Event>> {
    if contract_ids.is_empty() {
        return Ok(Vec::new());
    }
    let n = contract_ids.len();
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM contract_events WHERE contract_id IN ({}) AND (${} IS NULL OR kind = ${}) \
         ORDER BY at, id",
        placeholders(1, n),
        n + 1,
        n + 1
    );
    Ok(on_db!(db, |pool| {
        let mut q = sqlx::query_as::<_, Event>(&sql);
        for id in contract_ids {
            q = q.bind(*id);
        }
        q.bind(kind).fetch_all(pool).await
    })?)
}

// ---- files -----------------------------------------------------------------------------------

pub async fn insert_file(tx: &mut Tx, f: &File) -> DbResult<()> {
    let sql = "INSERT INTO contract_files (id, company_id, contract_id, filename, content_type, sha256, bytes, \
               created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    exec_tx!(
        tx,
        sqlx::query(sql)
            .bind(&f.id)
            .bind(&f.company_id)
            .bind(&f.contract_id)
            .bind(&f.filename)
            .bind(&f.content_type)
            .bind(&f.sha256)
            .bind(&f.bytes)
            .bind(f.created_at)
    )?;
    Ok(())
}

pub async fn get_file(db: &Db, company_id: &str, contract_id: &str, id: &str) -> DbResult<Option<File>> {
    let sql = "SELECT id, company_id, contract_id, filename, content_type, sha256, bytes, created_at \
               FROM contract_files WHERE company_id = $1 AND contract_id = $2 AND id = $3";
    Ok(on_db!(db, |pool| sqlx::query_as::<_, File>(sql)
        .bind(company_id)
        .bind(contract_id)
        .bind(id)
        .fetch_optional(pool)
        .await)?)
}

/// The files of the given contracts, without their bytes.
pub async fn files_of(db: &Db, contract_ids: &[&str]) -> DbResult<Vec<FileInfo>> {
    if contract_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, contract_id, filename, content_type, sha256, created_at FROM contract_files \
         WHERE contract_id IN ({}) ORDER BY id",
        placeholders(1, contract_ids.len())
    );
    Ok(on_db!(db, |pool| {
        let mut q = sqlx::query_as::<_, FileInfo>(&sql);
        for id in contract_ids {
            q = q.bind(*id);
        }
        q.fetch_all(pool).await
    })?)
}

/// Complete the contract whose order is checkout `checkout_id`, inside the fulfilment
/// transaction. `None` when the checkout belongs to no open contract.
pub async fn complete_by_checkout(tx: &mut Tx, checkout_id: &str, now: DateTime<Utc>) -> DbResult<Option<Contract>> {
    let sql = format!("SELECT {COLUMNS} FROM contracts WHERE checkout_id = $1");
    let Some(contract) =
        on_tx!(tx, |conn| sqlx::query_as::<_, Contract>(&sql).bind(checkout_id).fetch_optional(conn).await)?
    else {
        return Ok(None);
    };
    Ok(transition(tx, &contract.id, Status::Complete, now).await?.then_some(contract))
}
