//! What every payment attempt shares, on a checkout or an invoice: the payment row it starts
//! as, and recording what the provider answered.

use chrono::{DateTime, Utc};

use crate::db::billing::Payment;
use crate::db::{self};
use crate::domain::billing::PaymentStatus;
use crate::domain::ids::{self, prefix};
use crate::payments::ProviderKind;
use crate::state::AppState;

/// What a payment pays.
#[derive(Clone, Copy)]
pub enum Of<'a> {
    Checkout(&'a str),
    Invoice(&'a str),
}

/// A new attempt of `amount` with provider `provider`, PROCESSING until the provider answers.
/// Its id is the provider's idempotency key, so a retry under it never charges twice.
pub fn new(company_id: &str, of: Of<'_>, provider: &str, amount: i64, currency: &str, now: DateTime<Utc>) -> Payment {
    let (checkout_id, invoice_id) = match of {
        Of::Checkout(id) => (Some(id.to_string()), None),
        Of::Invoice(id) => (None, Some(id.to_string())),
    };
    Payment {
        id: ids::new_id(prefix::PAYMENT, now),
        company_id: company_id.to_string(),
        checkout_id,
        invoice_id,
        provider: provider.to_string(),
        provider_ref: None,
        status: PaymentStatus::Processing.as_str().into(),
        amount,
        currency: currency.to_string(),
        failure_reason: None,
        created_at: now,
        updated_at: now,
        keep_method: None,
    }
}

/// Record what the provider said about an attempt in flight. The money side is settled by
/// then; if writing this fails, fulfilment (which rewrites the status) or the lock's expiry
/// converges the rows, so the failure is logged rather than shown to the customer.
pub async fn record(state: &AppState, payment_id: &str, status: PaymentStatus, reference: &str) {
    let now = state.clock.now();
    let from = [PaymentStatus::Processing];
    let stored =
        db::billing::set_payment_status(&state.db, payment_id, &from, status, Some(reference), None, now).await;
    if let Err(e) = stored {
        tracing::error!(error = %e, payment = payment_id, status = status.as_str(), "recording a payment outcome failed");
    }
}

/// An earlier attempt that a new one uses instead of charging again.
#[derive(Debug)]
pub enum Earlier {
    /// It succeeded (before a failure on our side): used, never charged again.
    Paid(Payment),
    /// The provider's page for it is still open (Stripe's Payment Element): the customer
    /// finishes that intent, not a second one.
    OpenAtProvider(Payment),
    /// The provider never answered (a timeout): retried under the same payment id, the
    /// provider's idempotency key, so it can never charge twice.
    Unanswered(Payment),
}

/// What may be reused; a checkout and an invoice differ only here.
#[derive(Clone, Copy)]
pub struct Reuse {
    /// A succeeded attempt completes the order (a checkout); an invoice it paid is closed already.
    pub paid: bool,
    /// An open provider page is resumed (a customer at the page, not an automatic charge).
    pub open_page: bool,
}

/// The earlier attempt among `attempts` (oldest first) for `amount` with `provider` that a new
/// attempt must use, in this order: one that succeeded, one whose provider page is open, one
/// never answered.
pub fn earlier(attempts: &[Payment], amount: i64, provider: &str, reuse: Reuse) -> Option<Earlier> {
    let newest = |status: PaymentStatus, same_provider: bool| {
        attempts
            .iter()
            .rev()
            .find(|p| p.status == status.as_str() && p.amount == amount && (!same_provider || p.provider == provider))
            .cloned()
    };
    // Money taken is used whichever provider took it.
    if reuse.paid
        && let Some(p) = newest(PaymentStatus::Succeeded, false)
    {
        return Some(Earlier::Paid(p));
    }
    if reuse.open_page
        && provider == ProviderKind::Stripe.as_str()
        && let Some(p) = newest(PaymentStatus::RequiresAction, true)
    {
        return Some(Earlier::OpenAtProvider(p));
    }
    newest(PaymentStatus::Processing, true).map(Earlier::Unanswered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(status: PaymentStatus, amount: i64, provider: &str) -> Payment {
        let now = chrono::Utc::now();
        Payment { status: status.as_str().into(), ..new("cmp_1", Of::Invoice("inv_1"), provider, amount, "usd", now) }
    }

    #[test]
    fn a_new_attempt_uses_money_taken_then_an_open_page_then_an_unanswered_attempt() {
        let all = Reuse { paid: true, open_page: true };
        let (open, unanswered) =
            (attempt(PaymentStatus::RequiresAction, 500, "stripe"), attempt(PaymentStatus::Processing, 500, "stripe"));
        let paid = attempt(PaymentStatus::Succeeded, 500, "sandbox");
        let found = |list: &[Payment], reuse| earlier(list, 500, "stripe", reuse);
        assert!(matches!(found(&[paid.clone(), open.clone()], all), Some(Earlier::Paid(p)) if p.id == paid.id));
        assert!(
            matches!(found(&[open.clone(), unanswered.clone()], all), Some(Earlier::OpenAtProvider(p)) if p.id == open.id)
        );
        let no_page = Reuse { paid: false, open_page: false };
        assert!(
            matches!(found(&[open.clone(), unanswered.clone()], no_page), Some(Earlier::Unanswered(p)) if p.id == unanswered.id)
        );
        // Another amount, or an unanswered attempt at another provider, is not this attempt.
        assert!(earlier(std::slice::from_ref(&unanswered), 600, "stripe", all).is_none());
        assert!(earlier(&[unanswered], 500, "sandbox", all).is_none());
        assert!(found(&[attempt(PaymentStatus::Failed, 500, "stripe")], all).is_none());
    }
}
