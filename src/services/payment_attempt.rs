//! What every payment attempt shares, on a checkout or an invoice: the payment row it starts
//! as, and recording what the provider answered.

use chrono::{DateTime, Utc};

use crate::db::billing::Payment;
use crate::db::{self};
use crate::domain::billing::PaymentStatus;
use crate::domain::ids::{self, prefix};
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
