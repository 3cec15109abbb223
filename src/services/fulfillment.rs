//! Turning a paid (or accepted) checkout into customer, subscription, invoice and payment —
//! exactly once — and queuing the merchant's webhooks in the same transaction. A contract's
//! order is a checkout too: fulfilling it completes the contract in the same transaction.
//!
//! The transaction starts with the compare-and-set that moves the session to COMPLETED. Only
//! the request that wins it writes anything; concurrent submits, reloads, back-button
//! resubmits and provider callbacks lose it, roll back, and read the finished result.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::db::billing::{Invoice, Subscription};
use crate::db::checkouts::{CheckoutSession, Results};
use crate::db::customers::Customer;
use crate::db::tx::Tx;
use crate::db::{self};
use crate::domain::billing::{InvoiceStatus, PaymentStatus};
use crate::domain::ids::{self, prefix};
use crate::domain::pricing::{Charge, Quote};
use crate::payments::SavedMethod;
use crate::services::checkout::{Entered, Parsed, Priced};
use crate::services::error::{Error, ServiceResult};
use crate::services::events::{self, CheckoutCompleted, Event, InvoiceEvent};
use crate::state::AppState;

/// How the money stands when fulfilment runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// Collected now (or nothing was due): the invoice is PAID.
    Paid,
    /// Accepted, to be paid later (bank transfer, pending debit): the invoice stays OPEN.
    Open,
}

/// What fulfilment needs to know about the payment that led to it.
pub struct PaymentDone<'a> {
    /// The payment row of the attempt, if one was made (none when nothing was due).
    pub payment_id: Option<&'a str>,
    pub settlement: Settlement,
    /// The card the customer agreed to keep for later charges (`save_card_on_checkout`).
    pub saved_method: Option<&'a SavedMethod>,
}

/// Complete `session` once. Returns the session as it stands afterwards — completed by this
/// call or by a concurrent one.
pub async fn fulfil(
    state: &AppState,
    session: &CheckoutSession,
    parsed: &Parsed,
    priced: &Priced,
    payment: PaymentDone<'_>,
) -> ServiceResult<CheckoutSession> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    if let Some(version) = session.cache_version {
        tx.with_endpoints(state.endpoints.clone(), &session.company_id, version);
    }
    match fulfil_in(&mut tx, session, parsed, priced, payment, now).await? {
        // Completed here: the session is what this transaction wrote, no need to read it back.
        Some(results) => {
            tx.commit().await?;
            Ok(db::checkouts::completed(session, results, now))
        }
        None => {
            drop(tx);
            reload(state, session).await
        }
    }
}

/// [`fulfil`] inside the caller's transaction (a contract's last signature completes it in the
/// same transaction that records the signature): what it created, or `None` when the session was
/// no longer open (someone else completed or closed it first) and nothing may be kept: the
/// caller then drops the transaction.
pub async fn fulfil_in(
    tx: &mut Tx,
    session: &CheckoutSession,
    parsed: &Parsed,
    priced: &Priced,
    payment: PaymentDone<'_>,
    now: DateTime<Utc>,
) -> ServiceResult<Option<Results>> {
    let quote = &priced.quote;
    // A new customer's row first (the session refers to it); then the compare-and-set that
    // completes the session records every id this order creates at once. A loser of the race
    // stops there, and its caller rolls the customer back with the transaction.
    let customer_id = match &session.customer_id {
        Some(id) => id.clone(),
        None => create_customer(tx, session, &parsed.entered, now).await?,
    };
    let results = Results {
        customer_id,
        subscription_id: (!quote.recurring.is_empty()).then(|| ids::new_id(prefix::SUBSCRIPTION, now)),
        invoice_id: ids::new_id(prefix::INVOICE, now),
        payment_id: payment.payment_id.map(str::to_string),
    };
    if !db::checkouts::complete(tx, &session.id, &results, now).await? {
        return Ok(None);
    }
    let customer_id = results.customer_id.clone();
    let subscription_id = results.subscription_id.clone();
    if let Some(id) = &subscription_id {
        create_subscription(tx, id, session, parsed, quote, &customer_id, now).await?;
    }
    let paid = payment.settlement == Settlement::Paid || quote.due_today.total == 0;
    let invoice_id = results.invoice_id.clone();
    let invoice =
        build_invoice(tx, invoice_id, session, parsed, quote, &customer_id, subscription_id.clone(), paid, now).await?;
    db::billing::insert_invoice(tx, &invoice).await?;
    if let Some(payment_id) = payment.payment_id {
        let status = if paid { PaymentStatus::Succeeded.as_str() } else { PaymentStatus::Pending.as_str() };
        db::billing::attach_payment(tx, payment_id, &invoice.id, status, now).await?;
    }
    // The waiting one-time charges the customer saw and paid; each goes on this invoice only.
    if db::onetimes::claim(tx, &priced.billables, &invoice.id, now).await? != priced.billables.len() {
        return Err(Error::conflict(
            "already_invoiced",
            "A charge of this order was invoiced elsewhere meanwhile; nothing was completed.",
        ));
    }
    if let Some(m) = payment.saved_method {
        let method = db::onetimes::PaymentMethod {
            id: ids::new_id(prefix::PAYMENT_METHOD, now),
            company_id: session.company_id.clone(),
            customer_id: customer_id.clone(),
            provider: m.provider.as_str().to_string(),
            provider_ref: m.provider_ref.clone(),
            provider_customer_ref: m.provider_customer.clone(),
            brand: m.brand.clone(),
            last4: m.last4.clone(),
            exp_month: m.exp_month,
            exp_year: m.exp_year,
            checkout_id: Some(session.id.clone()),
            created_at: now,
        };
        db::onetimes::insert_method(tx, &method).await?;
    }
    // Normally held since the charge (see `redemptions`); otherwise the count is taken here,
    // under the limit, and an order past it completes nothing.
    if !crate::services::redemptions::hold_in(tx, session, priced.redemption().as_ref(), now).await? {
        return Err(Error::conflict(
            "promo_code_exhausted",
            "A promo code or coupon of this order was used up meanwhile; nothing was completed.",
        ));
    }
    // A contract's completion is told first; the checkout and invoice events follow. (Only a
    // contract's checkout looks for its contract: plain checkouts pay no extra query.)
    let contract = match session.source.as_str() {
        "CONTRACT" => db::contracts::complete_by_checkout(tx, &session.id, now).await?,
        _ => None,
    };
    if let Some(contract) = contract {
        crate::services::contract_trail::completed_in(
            tx,
            &contract,
            &customer_id,
            subscription_id.as_deref(),
            &invoice,
            paid,
            now,
        )
        .await?;
    }
    let company = &session.company_id;
    let checkout = CheckoutCompleted {
        checkout_id: session.id.clone(),
        source: session.source.clone(),
        link_id: session.link_id.clone(),
        customer_id: customer_id.clone(),
        subscription_id: subscription_id.clone(),
        invoice_id: invoice.id.clone(),
        payment_id: payment.payment_id.map(str::to_string),
        currency: invoice.currency.clone(),
        amount_paid: if paid { invoice.total } else { 0 },
        metadata: serde_json::from_str::<serde_json::Value>(&session.metadata).unwrap_or_default(),
    };
    events::raise(tx, company, Event::CheckoutCompleted(checkout), now).await?;
    events::raise(tx, company, Event::InvoiceCreated(InvoiceEvent::of(&invoice)), now).await?;
    if paid {
        let event = InvoiceEvent::of(&invoice).paid_by(payment.payment_id);
        events::raise(tx, company, Event::InvoicePaid(event), now).await?;
    }
    Ok(Some(results))
}

async fn reload(state: &AppState, session: &CheckoutSession) -> ServiceResult<CheckoutSession> {
    db::checkouts::get(&state.db, &session.company_id, &session.id)
        .await?
        .ok_or_else(|| Error::internal(format!("checkout {} vanished", session.id)))
}

/// A customer from what was entered on the page (already checked there).
async fn create_customer(
    tx: &mut Tx,
    session: &CheckoutSession,
    e: &Entered,
    now: DateTime<Utc>,
) -> ServiceResult<String> {
    let customer = Customer {
        id: ids::new_id(prefix::CUSTOMER, now),
        company_id: session.company_id.clone(),
        email: e.email.clone(),
        name: e.name.clone(),
        org_name: e.company.clone(),
        identifier: None,
        phone: e.phone.clone(),
        address_line1: e.address.line1.clone(),
        address_line2: e.address.line2.clone(),
        address_city: e.address.city.clone(),
        address_state: e.address.state.clone(),
        address_postal_code: e.address.postal_code.clone(),
        address_country: e.address.country.clone(),
        metadata: "{}".into(),
        archived_at: None,
        created_at: now,
        updated_at: now,
    };
    db::customers::insert(tx, &customer).await?;
    Ok(customer.id)
}

fn lines_json(quote: &Quote, charge: &Charge, due_today_only: bool) -> serde_json::Value {
    let lines: Vec<_> = quote
        .lines
        .iter()
        .filter(|l| !due_today_only || l.due_today)
        .map(|l| {
            json!({
                "name": l.name, "description": l.description, "product_id": l.product_id,
                "product_pricing_id": l.product_pricing_id, "item_pricing_id": l.item_pricing_id,
                "quantity": l.quantity, "amount": l.amount, "metered": l.metered,
                "billing_period": l.frequency.period().map(|p| json!({"count": p.count, "frequency": p.unit.as_str()})),
            })
        })
        .collect();
    let discounts: Vec<_> = charge.discounts.iter().map(|d| json!({"name": d.name, "amount": d.amount})).collect();
    json!({"lines": lines, "discounts": discounts})
}

async fn create_subscription(
    tx: &mut Tx,
    id: &str,
    session: &CheckoutSession,
    parsed: &Parsed,
    quote: &Quote,
    customer_id: &str,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let recurring: Vec<_> = quote
        .recurring
        .iter()
        .map(|r| {
            json!({
                "billing_period": {"count": r.period.count, "frequency": r.period.unit.as_str()},
                "next_charge_at": r.charge.at, "subtotal": r.charge.subtotal,
                "discount_total": r.charge.discount_total, "total": r.charge.total,
            })
        })
        .collect();
    let mut details = lines_json(quote, &quote.due_today, false);
    details["recurring"] = json!(recurring);
    details["term"] = json!(parsed.order.term);
    let subscription = Subscription {
        id: id.to_string(),
        company_id: session.company_id.clone(),
        customer_id: customer_id.to_string(),
        checkout_id: Some(session.id.clone()),
        status: if quote.trial_ends_at.is_some() { "TRIALING" } else { "ACTIVE" }.into(),
        currency: quote.currency.code().into(),
        // A contract's signed start date, else the moment it was paid.
        started_at: parsed.order.start_date.unwrap_or(now),
        trial_ends_at: quote.trial_ends_at,
        next_charge_at: quote.first_recurring_charge_at,
        term_ends_at: quote.term_ends_at,
        billing_day_anchor: parsed.options.billing_day_anchor.and_then(|d| i32::try_from(d).ok()),
        details: details.to_string(),
        created_at: now,
        updated_at: now,
    };
    db::billing::insert_subscription(tx, &subscription).await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn build_invoice(
    tx: &mut Tx,
    id: String,
    session: &CheckoutSession,
    parsed: &Parsed,
    quote: &Quote,
    customer_id: &str,
    subscription_id: Option<String>,
    paid: bool,
    now: DateTime<Utc>,
) -> ServiceResult<Invoice> {
    let charge = &quote.due_today;
    let net_terms = i64::from(parsed.options.net_terms.unwrap_or(14));
    Ok(Invoice {
        id,
        company_id: session.company_id.clone(),
        customer_id: customer_id.to_string(),
        subscription_id,
        checkout_id: Some(session.id.clone()),
        number: db::billing::next_invoice_number(tx, &session.company_id, now).await?,
        token: ids::token(),
        status: if paid { InvoiceStatus::Paid.as_str() } else { InvoiceStatus::Open.as_str() }.into(),
        currency: quote.currency.code().into(),
        subtotal: charge.subtotal,
        discount_total: charge.discount_total,
        total: charge.total,
        amount_due: if paid { 0 } else { charge.total },
        lines: lines_json(quote, charge, true).to_string(),
        payment_instructions: if paid { None } else { parsed.options.payment_instructions.clone() },
        notes: None,
        issued_at: now,
        due_at: if paid { None } else { Some(now + Duration::days(net_terms)) },
        paid_at: paid.then_some(now),
        paying_until: None,
        created_at: now,
        updated_at: now,
    })
}
