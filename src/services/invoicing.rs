//! Invoices made outside a checkout — from one-time billables — and paying any open invoice:
//! off-session with a saved payment method, or by card on the hosted invoice page.
//!
//! An invoice takes its billables with a compare-and-set (`db::onetimes::claim`) inside the
//! transaction that numbers and inserts it, so a billable is on exactly one invoice. Paying
//! takes the invoice's payment lock first, so a double submit or a second tab never charges
//! twice; the money is recorded as a payment row whose id is the provider's idempotency key.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::db::billing::{Invoice, Payment};
use crate::db::companies::Company;
use crate::db::onetimes::{Billable, PaymentMethod};
use crate::db::tx::Tx;
use crate::db::{self};
use crate::domain::billing::{InvoiceStatus, PaymentStatus};
use crate::domain::ids::{self, prefix};
use crate::payments::{CardInput, ChargeRequest, Outcome, Payer, Provider, ProviderKind, SavedMethod};
use crate::services::error::{Error, ServiceResult};
use crate::services::events::{self, Event, InvoiceEvent, PaymentFailed};
use crate::services::payment_attempt::{self, Earlier, Reuse};
use crate::state::AppState;

/// How long one payment attempt may hold an invoice.
const PAYMENT_LOCK: i64 = 60;

/// What an invoice says besides its lines.
#[derive(Clone, Debug, Default)]
pub struct Terms {
    pub payment_instructions: Option<String>,
    pub notes: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
    /// Days from the invoice date to the due date.
    pub due_days: Option<i64>,
}

/// The lines, discount lines and totals of `billables`, as an invoice shows them.
pub struct Assembled {
    pub lines: Vec<Value>,
    pub discounts: Vec<Value>,
    pub subtotal: i64,
    pub discount_total: i64,
}

impl Assembled {
    pub fn total(&self) -> i64 {
        (self.subtotal - self.discount_total).max(0)
    }
}

/// Put billables' stored lines and discounts together (no re-pricing: a billable is invoiced
/// at the price it was created with).
pub fn assemble(billables: &[Billable]) -> Assembled {
    let parse = |s: &str| serde_json::from_str::<Vec<Value>>(s).unwrap_or_default();
    Assembled {
        lines: billables.iter().flat_map(|b| parse(&b.lines)).collect(),
        discounts: billables.iter().flat_map(|b| parse(&b.discounts)).collect(),
        subtotal: billables.iter().map(|b| b.subtotal).sum(),
        discount_total: billables.iter().map(|b| b.discount_total).sum(),
    }
}

/// Issue an OPEN invoice for `billables` of one customer and currency inside `tx`: the next
/// number, a hosted token, the claim of every billable, and `invoice.created`. A billable
/// someone else invoiced first makes this a 409 and the caller's transaction rolls back.
pub async fn issue_in(
    tx: &mut Tx,
    billables: &[Billable],
    terms: &Terms,
    now: DateTime<Utc>,
) -> ServiceResult<Invoice> {
    let first = billables.first().ok_or_else(|| Error::internal("an invoice needs at least one billable"))?;
    let assembled = assemble(billables);
    let issued_at = terms.issued_at.unwrap_or(now);
    let total = assembled.total();
    let paid = total == 0;
    let invoice = Invoice {
        id: ids::new_id(prefix::INVOICE, now),
        company_id: first.company_id.clone(),
        customer_id: first.customer_id.clone(),
        subscription_id: None,
        checkout_id: None,
        number: db::billing::next_invoice_number(tx, &first.company_id, now).await?,
        token: ids::token(),
        // Nothing to pay (a 100 % discount) is settled at once.
        status: if paid { InvoiceStatus::Paid.as_str() } else { InvoiceStatus::Open.as_str() }.into(),
        currency: first.currency.clone(),
        subtotal: assembled.subtotal,
        discount_total: assembled.discount_total,
        total,
        amount_due: total,
        lines: json!({"lines": assembled.lines, "discounts": assembled.discounts}).to_string(),
        payment_instructions: terms.payment_instructions.clone(),
        notes: terms.notes.clone(),
        issued_at,
        due_at: Some(issued_at + Duration::days(terms.due_days.unwrap_or(0))),
        paid_at: paid.then_some(now),
        paying_until: None,
        created_at: now,
        updated_at: now,
    };
    db::billing::insert_invoice(tx, &invoice).await?;
    let ids: Vec<String> = billables.iter().map(|b| b.id.clone()).collect();
    if db::onetimes::claim(tx, &ids, &invoice.id, now).await? != ids.len() {
        return Err(Error::conflict(
            "already_invoiced",
            "These charges were put on another invoice at the same moment; nothing was created.",
        ));
    }
    events::raise(tx, &invoice.company_id, Event::InvoiceCreated(InvoiceEvent::of(&invoice)), now).await?;
    if paid {
        events::raise(tx, &invoice.company_id, Event::InvoicePaid(InvoiceEvent::of(&invoice)), now).await?;
    }
    Ok(invoice)
}

/// The hosted page of an invoice.
pub fn invoice_url(state: &AppState, invoice: &Invoice) -> String {
    format!("{}/invoices/{}", state.public_url, invoice.token)
}

/// How to pay.
pub enum PayWith<'a> {
    /// A method saved at an earlier checkout (auto charge; no customer present).
    Saved(&'a PaymentMethod),
    /// A card typed on the hosted invoice page, with the amount the page showed (when it said).
    Card(&'a CardInput, Option<i64>),
}

/// What a payment attempt came to.
#[derive(Debug)]
pub enum Paid {
    /// The invoice is PAID (by this attempt).
    Paid(Invoice),
    /// Refused; the invoice stays OPEN and `payment.failed` was sent.
    Failed { reason: String },
    /// The customer must confirm with their bank first: send them to `url`.
    RequiresAction { url: String },
    /// The invoice is no longer OPEN (paid, voided) — nothing was charged.
    NotOpen(Invoice),
    /// The amount due is no longer the one the page showed — nothing was charged.
    AmountChanged(Invoice),
    /// Another attempt is in flight — nothing was charged.
    Busy,
    /// The provider could not be reached; nothing was recorded as paid, try again.
    Unavailable,
}

/// The card provider for an invoice: its company's choice. Pages where the customer completes
/// an action (a challenge, Stripe's Payment Element) live under the hosted invoice page.
pub async fn provider(state: &AppState, invoice: &Invoice) -> ServiceResult<Provider> {
    let company = db::companies::get(&state.db, &invoice.company_id).await?;
    Ok(provider_of(state, invoice, company.as_ref()))
}

/// [`provider`] with the invoice's company already read (the hosted page reads it with the invoice).
pub fn provider_of(state: &AppState, invoice: &Invoice, company: Option<&Company>) -> Provider {
    let sepa_debit = company.is_some_and(|c| c.sepa_debit);
    let kind = company.and_then(|c| ProviderKind::parse(&c.payment_provider)).unwrap_or(ProviderKind::Sandbox);
    let base = format!("{}/invoices/{}/challenge", state.public_url, invoice.token);
    Provider::new(&state.payments, kind, base, None, sepa_debit)
}

/// Where the customer completes payment `payment_id` of `invoice` (a challenge, Stripe's element).
pub fn challenge_url(state: &AppState, invoice: &Invoice, payment_id: &str) -> String {
    format!("{}/invoices/{}/challenge/{payment_id}", state.public_url, invoice.token)
}

/// Who pays an invoice, as a provider that keeps customers needs to know.
struct PayerRow {
    provider_customer: Option<String>,
    email: Option<String>,
    name: Option<String>,
}

async fn payer(state: &AppState, invoice: &Invoice) -> ServiceResult<PayerRow> {
    let customer = db::customers::get(&state.db, &invoice.company_id, &invoice.customer_id).await?;
    Ok(PayerRow {
        provider_customer: db::customers::provider_ref(&state.db, &invoice.customer_id).await?,
        email: customer.as_ref().and_then(|c| c.email.clone()),
        name: customer.and_then(|c| c.name),
    })
}

/// Charge an OPEN invoice's amount due once.
pub async fn pay(state: &AppState, invoice: &Invoice, with: PayWith<'_>) -> ServiceResult<Paid> {
    let now = state.clock.now();
    if !db::billing::lock_invoice(&state.db, &invoice.id, now, now + Duration::seconds(PAYMENT_LOCK)).await? {
        let current = reload(state, invoice).await?;
        return Ok(if current.status == InvoiceStatus::Open.as_str() { Paid::Busy } else { Paid::NotOpen(current) });
    }
    // The amount as it stands now that we hold the lock (the caller's copy may be stale).
    let invoice = reload(state, invoice).await?;
    if let PayWith::Card(_, Some(shown)) = with
        && shown != invoice.amount_due
    {
        db::billing::release_invoice(&state.db, &invoice.id, now).await?;
        return Ok(Paid::AmountChanged(invoice));
    }
    let provider = provider(state, &invoice).await?;
    let kind = provider.kind().as_str();
    let attempts = db::billing::payments_of_invoice(&state.db, &invoice.id).await?;
    // A customer at the page resumes an open provider page; an automatic charge does not.
    let reuse = Reuse { paid: false, open_page: matches!(with, PayWith::Card(..)) };
    let payment = match payment_attempt::earlier(&attempts, invoice.amount_due, kind, reuse) {
        Some(Earlier::OpenAtProvider(open)) => {
            db::billing::release_invoice(&state.db, &invoice.id, now).await?;
            return Ok(Paid::RequiresAction { url: challenge_url(state, &invoice, &open.id) });
        }
        // (`Paid` is not asked for: an invoice its money paid is closed already.)
        Some(Earlier::Unanswered(p) | Earlier::Paid(p)) => p,
        None => new_payment(state, &invoice, &provider, now).await?,
    };
    let payer_row = payer(state, &invoice).await?;
    let (card, saved) = match with {
        PayWith::Saved(m) => (None, Some(saved_method(m))),
        PayWith::Card(c, _) => (Some(c), None),
    };
    let request = ChargeRequest {
        payment_id: &payment.id,
        amount: payment.amount,
        currency: &payment.currency,
        card,
        saved_method: saved.as_ref(),
        payer: Payer {
            customer_id: Some(&invoice.customer_id),
            provider_customer: payer_row.provider_customer.as_deref(),
            email: payer_row.email.as_deref(),
            name: payer_row.name.as_deref(),
        },
        metadata: &[("invoice_id", &invoice.id)],
        save_for_later: false,
    };
    let outcome = provider.charge(&request).await;
    let now = state.clock.now();
    match outcome {
        Ok(Outcome::Succeeded { reference }) => settle(state, &invoice, &payment.id, &reference).await,
        Ok(Outcome::RequiresAction { reference, url }) => {
            db::billing::set_payment_status(
                &state.db,
                &payment.id,
                &[PaymentStatus::Processing],
                PaymentStatus::RequiresAction,
                Some(&reference),
                None,
                now,
            )
            .await?;
            db::billing::release_invoice(&state.db, &invoice.id, now).await?;
            Ok(Paid::RequiresAction { url })
        }
        Ok(Outcome::Failed { reason }) => failed(state, &invoice, &payment, &reason).await,
        // A card provider does not answer "pay later"; if one does, the invoice stays open.
        Ok(Outcome::Pending { .. }) => {
            failed(state, &invoice, &payment, "The payment could not be completed; nothing was charged.").await
        }
        Err(e) => {
            // The attempt stays PROCESSING for the retry to reuse; the invoice is free again.
            tracing::warn!(error = %e, invoice = invoice.id, "payment provider unavailable");
            db::billing::release_invoice(&state.db, &invoice.id, now).await?;
            Ok(Paid::Unavailable)
        }
    }
}

async fn new_payment(
    state: &AppState,
    invoice: &Invoice,
    provider: &Provider,
    now: DateTime<Utc>,
) -> ServiceResult<Payment> {
    let of = payment_attempt::Of::Invoice(&invoice.id);
    let kind = provider.kind().as_str();
    let payment = payment_attempt::new(&invoice.company_id, of, kind, invoice.amount_due, &invoice.currency, now);
    if let Err(e) = db::billing::insert_payment(&state.db, &payment).await {
        let _ = db::billing::release_invoice(&state.db, &invoice.id, now).await;
        return Err(e.into());
    }
    Ok(payment)
}

/// The merchant's void or mark-paid is refused (409 `invoice_already_paid`, naming the payment)
/// on an invoice the customer paid through Kasse: marking it paid would record a second
/// payment of it, voiding it would keep the money (also while the order of a payment that
/// succeeded is still being written).
pub async fn refuse_if_paid_through_kasse(state: &AppState, invoice: &Invoice) -> ServiceResult<()> {
    let payments = db::billing::payments_of_invoice(&state.db, &invoice.id).await?;
    match payments
        .iter()
        .find(|p| p.status == PaymentStatus::Succeeded.as_str() || p.status == PaymentStatus::Refunded.as_str())
    {
        Some(p) => Err(Error::conflict(
            "invoice_already_paid",
            format!(
                "This invoice was paid through Kasse (payment {}, {} {}); nothing was changed.",
                p.id,
                p.amount,
                p.currency.to_uppercase()
            ),
        )),
        None => Ok(()),
    }
}

/// The customer answered a challenge of payment `payment_id` on the invoice page.
pub async fn answer_challenge(
    state: &AppState,
    invoice: &Invoice,
    payment_id: &str,
    approved: bool,
) -> ServiceResult<Paid> {
    let now = state.clock.now();
    let payment = db::billing::get_payment(&state.db, payment_id).await?;
    let Some(payment) = payment.filter(|p| p.invoice_id.as_deref() == Some(invoice.id.as_str())) else {
        return Err(Error::not_found("payment", payment_id));
    };
    // Hold the invoice while the bank's answer settles, so a void cannot slip in between.
    if !db::billing::lock_invoice(&state.db, &invoice.id, now, now + Duration::seconds(PAYMENT_LOCK)).await? {
        let current = reload(state, invoice).await?;
        return Ok(if current.status == InvoiceStatus::Open.as_str() { Paid::Busy } else { Paid::NotOpen(current) });
    }
    // Claim the answer: a second click or tab finds the payment no longer waiting.
    let claimed = db::billing::set_payment_status(
        &state.db,
        &payment.id,
        &[PaymentStatus::RequiresAction],
        PaymentStatus::Processing,
        None,
        None,
        now,
    )
    .await?;
    if !claimed {
        db::billing::release_invoice(&state.db, &invoice.id, now).await?;
        return Ok(Paid::NotOpen(reload(state, invoice).await?));
    }
    let reference = payment.provider_ref.clone().unwrap_or_default();
    match provider(state, invoice).await?.confirm(&reference, approved).await {
        Ok(Outcome::Succeeded { reference }) => settle(state, invoice, &payment.id, &reference).await,
        Ok(Outcome::Failed { reason }) | Err(crate::payments::ProviderError(reason)) => {
            failed(state, invoice, &payment, &reason).await
        }
        Ok(_) => failed(state, invoice, &payment, "The payment could not be completed; nothing was charged.").await,
    }
}

/// The provider took the money: the payment SUCCEEDED and the invoice PAID, with
/// `invoice.paid`, in one transaction. Exactly once: the invoice's OPEN → PAID is a
/// compare-and-set, so the return from Stripe and its webhook cannot both pay it.
pub(crate) async fn settle(
    state: &AppState,
    invoice: &Invoice,
    payment_id: &str,
    reference: &str,
) -> ServiceResult<Paid> {
    let now = state.clock.now();
    // A provider may report success after we recorded a decline (another card on the same
    // Stripe page): the money taken is what counts.
    let from =
        [PaymentStatus::Processing, PaymentStatus::RequiresAction, PaymentStatus::Pending, PaymentStatus::Failed];
    db::billing::set_payment_status(&state.db, payment_id, &from, PaymentStatus::Succeeded, Some(reference), None, now)
        .await?;
    let mut tx = state.db.begin().await?;
    if !db::billing::close_invoice(&mut tx, &invoice.id, InvoiceStatus::Paid.as_str(), true, now).await? {
        drop(tx);
        let current = reload(state, invoice).await?;
        if current.status != InvoiceStatus::Paid.as_str() {
            // Voided by an operator's hand while the payment was in flight: a refund is due.
            tracing::error!(
                invoice = invoice.id,
                payment = payment_id,
                "an invoice closed while its payment was in flight"
            );
            if let Some(payment) = db::billing::get_payment(&state.db, payment_id).await? {
                let reason = format!("The invoice was {} before this payment of it completed.", current.status);
                crate::services::reconcile::refund(state, &payment, &reason).await?;
            }
        }
        return Ok(Paid::NotOpen(current));
    }
    let paid =
        Invoice { status: InvoiceStatus::Paid.as_str().into(), amount_due: 0, paid_at: Some(now), ..invoice.clone() };
    let event = InvoiceEvent::of(&paid).paid_by(Some(payment_id));
    events::raise(&mut tx, &invoice.company_id, Event::InvoicePaid(event), now).await?;
    tx.commit().await?;
    Ok(Paid::Paid(reload(state, invoice).await?))
}

/// A refused payment: recorded with its reason, the invoice free for another try, and the
/// merchant told with `payment.failed`.
pub(crate) async fn failed(
    state: &AppState,
    invoice: &Invoice,
    payment: &Payment,
    reason: &str,
) -> ServiceResult<Paid> {
    let now = state.clock.now();
    db::billing::fail_payment(&state.db, &payment.id, reason, now).await?;
    let mut tx = state.db.begin().await?;
    let event = PaymentFailed::of(payment, Some(&invoice.customer_id), reason);
    events::raise(&mut tx, &invoice.company_id, Event::PaymentFailed(event), now).await?;
    tx.commit().await?;
    db::billing::release_invoice(&state.db, &invoice.id, now).await?;
    Ok(Paid::Failed { reason: reason.to_string() })
}

async fn reload(state: &AppState, invoice: &Invoice) -> ServiceResult<Invoice> {
    db::billing::get_invoice(&state.db, &invoice.company_id, &invoice.id)
        .await?
        .ok_or_else(|| Error::internal(format!("invoice {} vanished", invoice.id)))
}

/// A stored payment method as a provider charges it.
fn saved_method(m: &PaymentMethod) -> SavedMethod {
    SavedMethod {
        provider: ProviderKind::parse(&m.provider).unwrap_or(ProviderKind::Sandbox),
        provider_ref: m.provider_ref.clone(),
        provider_customer: m.provider_customer_ref.clone(),
        brand: m.brand.clone(),
        last4: m.last4.clone(),
        exp_month: m.exp_month,
        exp_year: m.exp_year,
    }
}
