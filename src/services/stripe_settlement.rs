//! Turning what Stripe says about one of our payments into our records, exactly once. The
//! return from the Payment Element and Stripe's webhook both end here, in either order or at
//! the same time; every step is a compare-and-set, so only one of them changes anything.
//!
//! Nothing from the browser is trusted: the intent is always read back from Stripe, and its
//! amount, currency and our payment id must match the payment row before anything is fulfilled.

use crate::db::{self, billing::Payment};
use crate::domain::billing::PaymentStatus;
use crate::payments::stripe::{IntentState, IntentStatus};
use crate::services::error::{Error, ServiceResult};
use crate::services::fulfillment::{self, PaymentDone, Settlement};
use crate::services::invoicing;
use crate::state::AppState;

/// Where a payment stands after settling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settled {
    /// Paid (or accepted to settle later): the checkout or invoice is done.
    Done,
    /// Still waiting for the customer (another card, authentication); `failure` says why.
    Waiting { failure: Option<String> },
    /// Canceled or refused for good.
    Failed,
}

/// Read payment `payment`'s intent from Stripe and act on it.
pub async fn settle(state: &AppState, payment: &Payment) -> ServiceResult<Settled> {
    let Some(client) = state.payments.stripe.as_ref() else {
        return Err(Error::unavailable("Stripe is not configured on this server."));
    };
    let Some(reference) = payment.provider_ref.as_deref() else {
        return Ok(Settled::Waiting { failure: None });
    };
    let intent = client.retrieve(reference).await.map_err(|e| Error::unavailable(e.0))?;
    apply(state, payment, &intent).await
}

/// Act on `intent` for `payment`, after checking that it is this payment's intent.
pub async fn apply(state: &AppState, payment: &Payment, intent: &IntentState) -> ServiceResult<Settled> {
    let ours = intent.payment_id.as_deref() == Some(payment.id.as_str());
    let amount_matches = if intent.reference.starts_with("seti_") {
        payment.amount == 0
    } else {
        intent.amount == payment.amount && intent.currency.eq_ignore_ascii_case(&payment.currency)
    };
    if !ours || !amount_matches {
        tracing::error!(payment = payment.id, intent = intent.reference, "a Stripe intent does not match its payment");
        // Nothing is recorded from it; a 409 the webhook acknowledges (Stripe's retries would
        // not change it) and the return page explains.
        return Err(Error::conflict(INTENT_MISMATCH, "The payment does not match its order."));
    }
    match intent.status {
        IntentStatus::Succeeded => succeed(state, payment, intent, Settlement::Paid).await,
        IntentStatus::Processing => succeed(state, payment, intent, Settlement::Open).await,
        IntentStatus::AwaitingCustomer => Ok(Settled::Waiting { failure: intent.failure.clone() }),
        IntentStatus::Canceled => {
            let now = state.clock.now();
            db::billing::fail_payment(&state.db, &payment.id, "The payment was canceled.", now).await?;
            if let Some(checkout) = &payment.checkout_id {
                crate::services::redemptions::release(state, checkout).await?;
            }
            Ok(Settled::Failed)
        }
    }
}

/// The error code of an intent that names another payment, or another amount, than ours.
pub const INTENT_MISMATCH: &str = "intent_mismatch";

async fn succeed(
    state: &AppState,
    payment: &Payment,
    intent: &IntentState,
    settlement: Settlement,
) -> ServiceResult<Settled> {
    let now = state.clock.now();
    // A payment already attached to an invoice (an invoice's own payment, or a checkout's
    // debit that was processing): the invoice is what gets paid.
    if let Some(invoice_id) = &payment.invoice_id {
        if settlement == Settlement::Open {
            let from = [PaymentStatus::Processing, PaymentStatus::RequiresAction];
            db::billing::set_payment_status(
                &state.db,
                &payment.id,
                &from,
                PaymentStatus::Pending,
                Some(&intent.reference),
                None,
                now,
            )
            .await?;
            return Ok(Settled::Done);
        }
        let invoice = db::billing::get_invoice(&state.db, &payment.company_id, invoice_id)
            .await?
            .ok_or_else(|| Error::internal(format!("invoice {invoice_id} vanished")))?;
        invoicing::settle(state, &invoice, &payment.id, &intent.reference).await?;
        return Ok(Settled::Done);
    }
    let Some(checkout_id) = &payment.checkout_id else {
        return Err(Error::internal(format!("payment {} has neither checkout nor invoice", payment.id)));
    };
    let session = db::checkouts::get(&state.db, &payment.company_id, checkout_id)
        .await?
        .ok_or_else(|| Error::internal(format!("checkout {checkout_id} vanished")))?;
    let parsed = crate::services::checkout::parse(&session)?;
    let priced = crate::services::checkout::price(state, &session, &parsed.order, &parsed.entered).await?;
    let status = if settlement == Settlement::Paid { PaymentStatus::Succeeded } else { PaymentStatus::Pending };
    let from = [PaymentStatus::Processing, PaymentStatus::RequiresAction, PaymentStatus::Failed];
    db::billing::set_payment_status(&state.db, &payment.id, &from, status, Some(&intent.reference), None, now).await?;
    if priced.quote.due_today.total != payment.amount {
        // The order changed after the money was taken (a waiting charge invoiced elsewhere):
        // never fulfil a different order. The payment row says the money was taken; the
        // merchant refunds it.
        tracing::error!(payment = payment.id, checkout = checkout_id, "paid amount no longer matches the order");
        if settlement == Settlement::Paid {
            let reason = "The order changed after it was paid; its total is no longer this amount.";
            crate::services::reconcile::refund(state, payment, reason).await?;
        }
        return Err(Error::conflict("order_changed", "The order changed after the payment; it needs a refund."));
    }
    let saved = intent.method.clone().filter(|_| priced.keeps_method(&parsed.options));
    let done = PaymentDone { payment_id: Some(&payment.id), settlement, saved_method: saved.as_ref() };
    let finished = fulfillment::fulfil(state, &session, &parsed, &priced, done).await?;
    // Mirror: the next payment of this customer reuses their Stripe Customer.
    if let (Some(customer), Some(reference)) = (&finished.customer_id, &intent.customer) {
        db::customers::set_provider_ref(&state.db, customer, reference, now).await?;
    }
    Ok(Settled::Done)
}
