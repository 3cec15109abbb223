//! The reconciler: a payment that took money but whose order was never written (the server
//! died between the provider's answer and fulfilment) is completed exactly once, as the page
//! would have completed it; money taken for an order that can no longer be completed is
//! reported to the merchant as `payment.requires_refund`.
//!
//! It runs with the expiry sweeper on every instance. It waits until the session's payment
//! lock has lapsed and the payment has been quiet a while, so it never races a live attempt;
//! if it does race one (a very slow request), fulfilment's compare-and-set keeps it to once.

use chrono::{DateTime, Duration, Utc};

use crate::db::billing::Payment;
use crate::db::tx::Tx;
use crate::db::{self};
use crate::payments::SavedMethod;
use crate::services::error::ServiceResult;
use crate::services::events::{self, Event, PaymentRequiresRefund};
use crate::services::fulfillment::{self, PaymentDone, Settlement};
use crate::state::AppState;

/// How long a succeeded payment stays untouched before the reconciler takes it: longer than
/// any live attempt between the provider's answer and its commit.
pub const QUIET: Duration = Duration::seconds(60);
/// Payments looked at per pass.
const BATCH: i64 = 100;

/// What the reconciler did with one payment.
#[derive(Debug, PartialEq, Eq)]
pub enum Reconciled {
    /// The order was completed with this payment.
    Completed,
    /// Someone else finished it meanwhile (the customer, a webhook, another instance).
    AlreadyDone,
    /// The order could not be completed: the merchant was told to refund.
    RequiresRefund,
}

/// One pass: finish every succeeded payment without an order; how many it settled.
pub async fn sweep(state: &AppState) -> usize {
    let now = state.clock.now();
    let orphans = match db::billing::succeeded_without_order(&state.db, now, now - QUIET, BATCH).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "listing payments without an order failed");
            return 0;
        }
    };
    let mut settled = 0;
    for payment in orphans {
        match finish(state, &payment).await {
            Ok(Reconciled::AlreadyDone) => {}
            Ok(done) => {
                tracing::warn!(payment = payment.id, outcome = ?done, "reconciled a payment left without its order");
                settled += 1;
            }
            Err(e) => tracing::error!(error = %e, payment = payment.id, "reconciling a payment failed"),
        }
    }
    settled
}

/// Complete the checkout `payment` paid for, or report the payment for refund.
pub async fn finish(state: &AppState, payment: &Payment) -> ServiceResult<Reconciled> {
    let Some(checkout_id) = payment.checkout_id.as_deref() else {
        return Ok(Reconciled::AlreadyDone);
    };
    let Some(session) = db::checkouts::get(&state.db, &payment.company_id, checkout_id).await? else {
        return refund(state, payment, "The checkout of this payment no longer exists.").await;
    };
    if !session.status().is_open() {
        return refund(
            state,
            payment,
            "The checkout was closed or completed otherwise; this payment is not on its order.",
        )
        .await;
    }
    let parsed = crate::services::checkout::parse(&session)?;
    let priced = match crate::services::checkout::price(state, &session, &parsed.order, &parsed.entered).await {
        Ok(p)
            if p.quote.due_today.total == payment.amount
                && session.currency.eq_ignore_ascii_case(&payment.currency) =>
        {
            p
        }
        Ok(_) => {
            return refund(state, payment, "The order changed after it was paid; its total is no longer this amount.")
                .await;
        }
        Err(e) if e.is_refusal() => return refund(state, payment, &e.message).await,
        Err(e) => return Err(e),
    };
    let kept = payment.keep_method.as_deref().and_then(SavedMethod::from_json);
    let done = PaymentDone { payment_id: Some(&payment.id), settlement: Settlement::Paid, saved_method: kept.as_ref() };
    match fulfillment::fulfil(state, &session, &parsed, &priced, done).await {
        Ok(s) if s.payment_id.as_deref() == Some(payment.id.as_str()) => Ok(Reconciled::Completed),
        Ok(_) => refund(state, payment, "The checkout was completed with another payment.").await,
        Err(e) if e.is_refusal() => refund(state, payment, &e.message).await,
        Err(e) => Err(e),
    }
}

/// [`requires_refund_in`] in a transaction of its own.
pub async fn refund(state: &AppState, payment: &Payment, reason: &str) -> ServiceResult<Reconciled> {
    let mut tx = state.db.begin().await?;
    requires_refund_in(&mut tx, payment, reason, state.clock.now()).await?;
    tx.commit().await?;
    Ok(Reconciled::RequiresRefund)
}

/// Tell the merchant, once, that `payment` took money for an order Kasse could not complete:
/// `payment.requires_refund` with the reason, in the caller's transaction.
pub async fn requires_refund_in(tx: &mut Tx, payment: &Payment, reason: &str, now: DateTime<Utc>) -> ServiceResult<()> {
    if db::billing::flag_requires_refund(tx, &payment.id, now).await? {
        let event = Event::PaymentRequiresRefund(PaymentRequiresRefund::of(payment, reason));
        events::raise(tx, &payment.company_id, event, now).await?;
    }
    Ok(())
}
