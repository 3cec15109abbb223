//! A contract's workflow: the transactions that finalize, sign, decline, void, expire, mark
//! signed offline and complete it. Each writes its audit-trail entry and merchant webhook in the
//! same transaction as the change, and each starts by taking the contract row (`db::contracts::lock`)
//! so that racing requests on one contract run one after another.
//!
//! A contract's order, payment and fulfilment live in its checkout session (source `CONTRACT`):
//! the last signature either opens that session's payment step (`require_payment_method`) or
//! fulfils it at once, inside the signing transaction, through `fulfillment::fulfil_in`.

use chrono::{DateTime, Duration, Utc};

use crate::db::contracts::{self as store, Contract, Signer};
use crate::db::tx::Tx;
use crate::db::{self};
use crate::domain::checkout::Status as CheckoutStatus;
use crate::domain::contract::{self, Role, Status, Turn};
use crate::domain::document;
use crate::domain::ids::{self, prefix};
use crate::domain::order::Order;
use crate::services::checkout::{self as session, Entered, Parsed};
pub use crate::services::contract_trail::{Actor, completed_in, trail};
use crate::services::error::{Error, ServiceResult};
use crate::services::events::{
    self, ContractClosed, ContractDeclined, ContractSent, ContractSigned, ContractViewed, Event, Signatory,
};
use crate::services::fulfillment::{self, PaymentDone, Settlement};
use crate::state::AppState;

/// Views of one signer closer together than this are one view (reloads, form round trips).
const VIEW_WINDOW: i64 = 5;

/// The personal signing URL of a signer.
pub fn signature_link(state: &AppState, signer: &Signer) -> String {
    format!("{}/contracts/{}", state.public_url, signer.token)
}

/// The SHA-256 every signature must match: title and content of the frozen document.
pub fn document_hash(contract: &Contract) -> String {
    document::sha256_hex(&format!("{}\n{}", contract.title, contract.content))
}

fn role(s: &Signer) -> Role {
    Role::parse(&s.role).unwrap_or(Role::Counter)
}

/// The signers as the turn rules see them.
pub fn turn_view(signers: &[Signer]) -> Vec<contract::Signer> {
    signers
        .iter()
        .map(|s| contract::Signer { role: role(s), position: s.position, signed: s.signed_at.is_some() })
        .collect()
}

/// Whose turn it is for `signer_id`.
pub fn turn_of(contract: &Contract, signers: &[Signer], signer_id: &str) -> Turn {
    match signers.iter().position(|s| s.id == signer_id) {
        Some(i) => contract::turn(&turn_view(signers), i, contract.sequential),
        None => Turn::Waiting,
    }
}

/// Whether `signer_id` may still change the adjustable quantities: the first customer
/// signatory in signing order, before anyone has signed.
pub fn may_change_quantities(signers: &[Signer], signer_id: &str) -> bool {
    let first = signers.iter().filter(|s| role(s) == Role::Signatory).min_by_key(|s| (s.position, s.id.clone()));
    first.is_some_and(|f| f.id == signer_id) && signers.iter().all(|s| s.signed_at.is_none())
}

fn signatory(state: &AppState, s: &Signer) -> Signatory {
    Signatory::of(s, signature_link(state, s))
}

async fn lock(tx: &mut Tx, contract: &Contract, now: DateTime<Utc>) -> ServiceResult<Contract> {
    store::lock(tx, &contract.id, now)
        .await?
        .ok_or_else(|| Error::internal(format!("contract {} vanished", contract.id)))
}

/// Reload a contract after a change.
pub async fn reload(state: &AppState, contract: &Contract) -> ServiceResult<Contract> {
    store::get(&state.db, &contract.company_id, &contract.id)
        .await?
        .ok_or_else(|| Error::internal(format!("contract {} vanished", contract.id)))
}

/// DRAFT → PENDING_SIGNATURES inside `tx`: freeze the document (its hash) and send it.
/// False when it was no longer a draft.
pub async fn finalize_in(
    state: &AppState,
    tx: &mut Tx,
    contract: &Contract,
    signers: &[Signer],
    actor: &Actor,
    now: DateTime<Utc>,
) -> ServiceResult<bool> {
    let hash = document_hash(contract);
    if !store::finalize(tx, &contract.id, &hash, now).await? {
        return Ok(false);
    }
    trail(tx, contract, "SENT", None, actor, Some(format!("document sha256 {hash}")), now).await?;
    let event = ContractSent {
        contract_id: contract.id.clone(),
        customer_id: contract.customer_id.clone(),
        title: contract.title.clone(),
        document_hash: hash,
        signatories: signers.iter().map(|s| signatory(state, s)).collect(),
    };
    events::raise(tx, &contract.company_id, Event::ContractSent(event), now).await?;
    Ok(true)
}

/// The merchant's `…/finalize`.
pub async fn finalize(state: &AppState, contract: &Contract) -> ServiceResult<Contract> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let locked = lock(&mut tx, contract, now).await?;
    if locked.status() != Status::Draft {
        return Err(Error::conflict(
            "contract_not_draft",
            format!("Only a DRAFT contract can be finalized; this one is {}.", locked.status),
        ));
    }
    let signers = store::signers_in(&mut tx, &contract.id).await?;
    finalize_in(state, &mut tx, &locked, &signers, &Actor::api(), now).await?;
    tx.commit().await?;
    reload(state, contract).await
}

/// Why a signer's action was refused; each is shown to them as a sentence on the page.
#[derive(Debug)]
pub enum Refusal {
    /// The contract is not collecting signatures (a draft, or over).
    NotSigning(Status),
    NotYourTurn,
    AlreadySigned,
    AlreadyDeclined,
    /// The document changed after the page was loaded (or the hash was forged).
    DocumentChanged,
    /// The order can no longer be priced as saved (the error names the config item).
    Quantities(Error),
    /// A failure on our side.
    Failed(Error),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Refusal::Failed(e)
    }
}

impl From<db::DbError> for Refusal {
    fn from(e: db::DbError) -> Self {
        Refusal::Failed(e.into())
    }
}

/// What a signature led to.
#[derive(Debug, PartialEq, Eq)]
pub enum Signed {
    /// Others still have to sign.
    Waiting,
    /// Everyone signed; the order is to be paid on its checkout page.
    Payment,
    /// Everyone signed and the order was fulfilled.
    Completed,
}

/// A signature as submitted.
pub struct SignInput<'a> {
    pub name: &'a str,
    pub title: Option<&'a str>,
    /// A drawn signature (PNG data URL), already checked for shape and size.
    pub image: Option<&'a str>,
    pub document_hash: &'a str,
}

/// The order with the quantities baked in and no longer adjustable.
fn frozen(order: &Order, entered: &Entered) -> Order {
    let mut order = session::with_quantities(order, entered);
    for c in &mut order.config_items {
        if let Some(q) = &mut c.quantity_config {
            q.allow_custom_quantity = Some(false);
        }
    }
    order
}

/// Freeze the order as signed inside `tx`: the quantities baked into the contract's checkout
/// (no longer adjustable there) and the contract's values stored. False when the checkout closed.
async fn freeze_in(
    tx: &mut Tx,
    contract: &Contract,
    parsed: &mut Parsed,
    quote: &crate::domain::pricing::Quote,
    now: DateTime<Utc>,
) -> ServiceResult<bool> {
    parsed.order = frozen(&parsed.order, &parsed.entered);
    let order = serde_json::to_string(&parsed.order).map_err(Error::internal)?;
    let entered = serde_json::to_string(&parsed.entered).map_err(Error::internal)?;
    if !db::checkouts::set_order_in(tx, &contract.checkout_id, &order, &entered, now).await? {
        return Ok(false);
    }
    let v = values_of(contract, quote);
    store::set_values_in(tx, &contract.id, v.acv, v.tcv, now).await?;
    Ok(true)
}

/// The contract's ACV and TCV for `quote`, counted from its start date.
pub fn values_of(contract: &Contract, quote: &crate::domain::pricing::Quote) -> contract::Values {
    contract::values(quote, contract.start_date.unwrap_or(contract.created_at))
}

/// Store the values after the first signatory changed quantities on the page.
pub async fn reprice(
    state: &AppState,
    contract: &Contract,
    quote: &crate::domain::pricing::Quote,
) -> ServiceResult<()> {
    let v = values_of(contract, quote);
    store::set_values(&state.db, &contract.id, v.acv, v.tcv, state.clock.now()).await?;
    Ok(())
}

/// Sign as `signer`.
pub async fn sign(
    state: &AppState,
    contract: &Contract,
    signer: &Signer,
    input: SignInput<'_>,
    actor: &Actor,
) -> Result<Signed, Refusal> {
    let checkout = db::checkouts::get(&state.db, &contract.company_id, &contract.checkout_id)
        .await?
        .ok_or_else(|| Error::internal(format!("contract {} without checkout", contract.id)))?;
    let mut parsed = session::parse(&checkout)?;
    // Quantities are whatever was saved (the page's Update): a signature never changes them.
    let priced = match session::price(state, &checkout, &parsed.order, &parsed.entered).await {
        Ok(p) => p,
        Err(e) if e.is_refusal() => return Err(Refusal::Quantities(e)),
        Err(e) => return Err(Refusal::Failed(e)),
    };

    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let locked = lock(&mut tx, contract, now).await?;
    if !locked.status().is_signing() {
        return Err(Refusal::NotSigning(locked.status()));
    }
    let mut signers = store::signers_in(&mut tx, &contract.id).await?;
    let Some(me) = signers.iter().position(|s| s.id == signer.id) else {
        return Err(Refusal::NotYourTurn);
    };
    if signers[me].declined_at.is_some() {
        return Err(Refusal::AlreadyDeclined);
    }
    match contract::turn(&turn_view(&signers), me, locked.sequential) {
        Turn::Done => return Err(Refusal::AlreadySigned),
        Turn::Waiting => return Err(Refusal::NotYourTurn),
        Turn::Now => {}
    }
    if locked.document_hash.as_deref() != Some(input.document_hash) {
        return Err(Refusal::DocumentChanged);
    }
    let first_signature = signers.iter().all(|s| s.signed_at.is_none());
    if first_signature {
        // The first signature freezes the order as it was signed.
        if !freeze_in(&mut tx, &locked, &mut parsed, &priced.quote, now).await? {
            return Err(Refusal::NotSigning(locked.status()));
        }
    }
    if !store::sign(&mut tx, &signer.id, input.name, input.title, input.image, input.document_hash, now).await? {
        return Err(Refusal::AlreadySigned);
    }
    let kind = if role(signer) == Role::Counter { "COUNTER_SIGNED" } else { "SIGNED" };
    let detail = format!("signed as {:?}; document sha256 {}", input.name, input.document_hash);
    trail(&mut tx, &locked, kind, Some(signer), actor, Some(detail), now).await?;
    let event = ContractSigned::online(contract, signatory(state, signer), input.name, input.document_hash, now);
    events::raise(&mut tx, &contract.company_id, Event::ContractSigned(event), now).await?;

    signers[me].signed_at = Some(now);
    let outcome = match contract::after_signatures(&turn_view(&signers), locked.require_payment_method) {
        None => Signed::Waiting,
        Some(Status::PendingCounterSignature) => {
            if locked.status() == Status::PendingSignatures {
                store::transition(&mut tx, &contract.id, Status::PendingCounterSignature, now).await?;
            }
            Signed::Waiting
        }
        Some(Status::PendingPayment) => {
            store::transition(&mut tx, &contract.id, Status::PendingPayment, now).await?;
            Signed::Payment
        }
        Some(_) => {
            let payment = PaymentDone { payment_id: None, settlement: Settlement::Open, saved_method: None };
            if fulfillment::fulfil_in(&mut tx, &checkout, &parsed, &priced, payment, now).await?.is_none() {
                return Err(Refusal::NotSigning(locked.status()));
            }
            Signed::Completed
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Decline to sign, with a reason; the contract is DECLINED and its checkout cancelled.
pub async fn decline(
    state: &AppState,
    contract: &Contract,
    signer: &Signer,
    reason: &str,
    actor: &Actor,
) -> Result<(), Refusal> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let locked = lock(&mut tx, contract, now).await?;
    if !locked.status().is_signing() {
        return Err(Refusal::NotSigning(locked.status()));
    }
    let signers = store::signers_in(&mut tx, &contract.id).await?;
    match turn_of(&locked, &signers, &signer.id) {
        Turn::Done => return Err(Refusal::AlreadySigned),
        Turn::Waiting => return Err(Refusal::NotYourTurn),
        Turn::Now => {}
    }
    if !store::decline(&mut tx, &signer.id, reason, now).await? {
        return Err(Refusal::AlreadyDeclined);
    }
    store::transition(&mut tx, &contract.id, Status::Declined, now).await?;
    crate::services::expiry::close_in(&mut tx, &contract.checkout_id, CheckoutStatus::Cancelled, now).await?;
    trail(&mut tx, &locked, "DECLINED", Some(signer), actor, Some(reason.to_string()), now).await?;
    let event = ContractDeclined {
        contract_id: contract.id.clone(),
        customer_id: contract.customer_id.clone(),
        signatory: signatory(state, signer),
        reason: reason.to_string(),
        declined_at: now,
    };
    events::raise(&mut tx, &contract.company_id, Event::ContractDeclined(event), now).await?;
    tx.commit().await?;
    Ok(())
}

/// End an open contract as VOID (the merchant) or EXPIRED (its date passed). Its checkout is
/// closed in the same transaction; a payment in progress makes this a 409 (retry later).
pub async fn close(state: &AppState, contract: &Contract, to: Status) -> ServiceResult<Contract> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let locked = lock(&mut tx, contract, now).await?;
    if locked.status() == to {
        return Ok(locked);
    }
    if !locked.status().can_become(to) {
        return Err(Error::conflict(
            "contract_closed",
            format!("This contract is {} and cannot become {}.", locked.status, to.as_str()),
        ));
    }
    let session_to = if to == Status::Expired { CheckoutStatus::Expired } else { CheckoutStatus::Cancelled };
    if !crate::services::expiry::close_in(&mut tx, &contract.checkout_id, session_to, now).await? {
        return Err(Error::conflict(
            "payment_in_progress",
            "A payment for this contract is in progress; try again in a minute.",
        ));
    }
    store::transition(&mut tx, &contract.id, to, now).await?;
    let closed = ContractClosed::of(contract, to.as_str());
    let (kind, event) = if to == Status::Expired {
        ("EXPIRED", Event::ContractExpired(closed))
    } else {
        ("VOIDED", Event::ContractVoided(closed))
    };
    let actor = if to == Status::Void { Actor::api() } else { Actor::default() };
    trail(&mut tx, &locked, kind, None, &actor, None, now).await?;
    events::raise(&mut tx, &contract.company_id, event, now).await?;
    tx.commit().await?;
    reload(state, contract).await
}

/// The contract as it stands now: an open contract past its expiration date is expired first.
pub async fn refresh(state: &AppState, contract: Contract) -> ServiceResult<Contract> {
    let overdue = contract.expiration_date.is_some_and(|t| t <= state.clock.now());
    if !(contract.status().is_open() && overdue) {
        return Ok(contract);
    }
    match close(state, &contract, Status::Expired).await {
        Ok(c) => Ok(c),
        // Completed or being paid meanwhile: show it as it is.
        Err(e) if e.is_refusal() => reload(state, &contract).await,
        Err(e) => Err(e),
    }
}

/// Expire overdue contracts (called by the expiry sweeper); how many it expired.
pub async fn sweep(state: &AppState) -> usize {
    let overdue = match store::overdue(&state.db, state.clock.now(), 100).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "listing expired contracts failed");
            return 0;
        }
    };
    let mut expired = 0;
    for c in overdue {
        match close(state, &c, Status::Expired).await {
            Ok(_) => expired += 1,
            Err(e) if e.is_refusal() => {}
            Err(e) => tracing::warn!(error = %e, "expiring a contract failed"),
        }
    }
    expired
}

/// A file uploaded with `mark_signed_offline`.
pub struct Upload {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The merchant's `…/mark_signed_offline`: every signature was collected outside Kasse. The
/// contract moves on as after a last signature (payment step, or fulfilment).
pub async fn mark_signed_offline(
    state: &AppState,
    contract: &Contract,
    note: Option<&str>,
    upload: Option<Upload>,
) -> ServiceResult<Contract> {
    let checkout = db::checkouts::get(&state.db, &contract.company_id, &contract.checkout_id)
        .await?
        .ok_or_else(|| Error::internal(format!("contract {} without checkout", contract.id)))?;
    let mut parsed: Parsed = session::parse(&checkout)?;
    let priced = session::price(state, &checkout, &parsed.order, &parsed.entered).await?;
    let now = state.clock.now();
    let actor = Actor::api();
    let mut tx = state.db.begin().await?;
    let mut locked = lock(&mut tx, contract, now).await?;
    if locked.status() == Status::Draft {
        let signers = store::signers_in(&mut tx, &contract.id).await?;
        finalize_in(state, &mut tx, &locked, &signers, &actor, now).await?;
        locked.status = Status::PendingSignatures.as_str().to_string();
    }
    if !locked.status().is_signing() {
        return Err(Error::conflict(
            "contract_not_signing",
            format!("Only a contract awaiting signatures can be marked signed; this one is {}.", locked.status),
        ));
    }
    let file_id = match upload {
        Some(f) => {
            let file = store::File {
                id: ids::new_id(prefix::CONTRACT_FILE, now),
                company_id: contract.company_id.clone(),
                contract_id: contract.id.clone(),
                sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&f.bytes)),
                filename: f.filename,
                content_type: f.content_type,
                bytes: f.bytes,
                created_at: now,
            };
            store::insert_file(&mut tx, &file).await?;
            Some(file.id)
        }
        None => None,
    };
    store::set_offline(&mut tx, &contract.id, note, file_id.as_deref(), now).await?;
    trail(&mut tx, &locked, "SIGNED_OFFLINE", None, &actor, note.map(str::to_string), now).await?;
    let event = ContractSigned::offline(contract, file_id, now);
    events::raise(&mut tx, &contract.company_id, Event::ContractSigned(event), now).await?;
    freeze_in(&mut tx, &locked, &mut parsed, &priced.quote, now).await?;
    if locked.require_payment_method {
        store::transition(&mut tx, &contract.id, Status::PendingPayment, now).await?;
    } else {
        let payment = PaymentDone { payment_id: None, settlement: Settlement::Open, saved_method: None };
        fulfillment::fulfil_in(&mut tx, &checkout, &parsed, &priced, payment, now).await?;
    }
    tx.commit().await?;
    reload(state, contract).await
}

/// Record that a signer opened their page (never for previews). Views within a few minutes
/// of the last one count once: `signer` comes from `db::contracts::signers_with_views`, which
/// read its last view with it.
pub async fn record_view(state: &AppState, contract: &Contract, signer: &Signer, actor: &Actor) -> ServiceResult<()> {
    let now = state.clock.now();
    // `last_viewed_at` as the page read it with the signers (`signers_with_views`).
    if signer.last_viewed_at.is_some_and(|at| now - at < Duration::minutes(VIEW_WINDOW)) {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    trail(&mut tx, contract, "VIEWED", Some(signer), actor, None, now).await?;
    let event = ContractViewed {
        contract_id: contract.id.clone(),
        customer_id: contract.customer_id.clone(),
        signatory: signatory(state, signer),
        viewed_at: now,
    };
    events::raise(&mut tx, &contract.company_id, Event::ContractViewed(event), now).await?;
    tx.commit().await?;
    Ok(())
}
