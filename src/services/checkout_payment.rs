//! One payment attempt on a checkout, whoever asks (the checkout page, a contract's payment
//! step): the session's payment lock, reuse of an earlier attempt, the promo code's count, the
//! charge, what the provider said, a decline's recording and `payment.failed`, the answer to
//! the bank's challenge, and fulfilment. The page only checks the form and shows the [`Attempt`].

use chrono::Duration;

use crate::db::billing::Payment;
use crate::db::checkouts::CheckoutSession;
use crate::db::companies::Company;
use crate::db::{self};
use crate::domain::billing::PaymentStatus;
use crate::payments::{CardInput, ChargeRequest, Outcome, Payer, Provider, SavedMethod};
use crate::services::checkout::{self as session, Parsed, Priced};
use crate::services::error::ServiceResult;
use crate::services::events::{self, Event, PaymentFailed};
use crate::services::fulfillment::{self, PaymentDone, Settlement};
use crate::services::payment_attempt::{self, Earlier, Reuse};
use crate::state::AppState;

/// How long a payment attempt may hold the session before another may try.
const PAYMENT_LOCK: i64 = 60;

/// The checkout being paid: the session, its parsed order and options, its merchant.
#[derive(Clone, Copy)]
pub struct Checkout<'a> {
    pub session: &'a CheckoutSession,
    pub parsed: &'a Parsed,
    pub company: &'a Company,
}

/// Where an attempt left the checkout.
#[derive(Debug)]
pub enum Attempt {
    /// Paid (or, for a debit, accepted to settle later) and fulfilled: the session as it is now.
    Completed(Box<CheckoutSession>),
    /// Another attempt holds the session (a double click, a second tab); nothing was charged.
    Busy,
    /// The order moved while we took the lock or while the bank asked (a waiting charge was
    /// invoiced elsewhere); nothing was charged.
    OrderChanged,
    /// The order's promo code or a coupon was used up just now; nothing was charged.
    PromoUsedUp,
    /// The customer's bank asks them first: send them to `url`.
    RequiresAction { url: String },
    /// The provider declined, for `reason`.
    Declined { reason: String },
    /// The provider did not answer; the attempt is retried under the same payment id.
    Unavailable,
    /// The challenge was answered already (a second click or tab).
    AlreadyAnswered,
    /// Approved at the bank, but the checkout closed meanwhile: nothing was taken.
    Closed,
}

/// The provider that takes this checkout's payment: the session's choice, else its company's.
pub fn provider(state: &AppState, checkout: Checkout<'_>) -> Provider {
    let options = &checkout.parsed.options;
    Provider::new(
        &state.payments,
        options.provider(&checkout.company.payment_provider),
        format!("{}/checkout/{}/challenge", state.public_url, checkout.session.token),
        options.payment_instructions.clone(),
        checkout.company.sepa_debit,
    )
}

/// What the page knew when the customer pressed Pay.
pub struct Known<'a> {
    /// What the customer entered, as the session stores it (JSON): saved with the payment lock.
    pub entered: &'a str,
    /// The session's newest payment attempt, read with the session.
    pub newest_payment: Option<&'a Payment>,
}

/// Charge `priced` (what the customer was shown) once: with `card` when the card is entered on
/// our page, keeping `saved` when the customer agreed to keep it.
pub async fn pay(
    state: &AppState,
    checkout: Checkout<'_>,
    priced: &Priced,
    card: Option<&CardInput>,
    saved: Option<&SavedMethod>,
    known: Known<'_>,
) -> ServiceResult<Attempt> {
    let session = checkout.session;
    let provider = provider(state, checkout);
    let now = state.clock.now();
    // The lock holds only while `known.newest_payment` is still the newest attempt, so the
    // earlier attempt chosen below from it is the one a fresh read would find.
    let paying =
        db::checkouts::Paying { entered: known.entered, newest_payment: known.newest_payment.map(|p| p.id.as_str()) };
    let until = now + Duration::seconds(PAYMENT_LOCK);
    if !db::checkouts::lock_for_payment(&state.db, &session.id, &paying, now, until).await? {
        return Ok(Attempt::Busy);
    }
    let release = || async {
        let _ = db::checkouts::release_payment_lock(&state.db, &session.id, now).await;
    };
    // Waiting charges priced above may have gone on an invoice before we held the lock (an
    // invoice being created waits while we hold it): then the order is not what was shown.
    if !priced.billables.is_empty() {
        let customer = session.customer_id.as_deref().unwrap_or_default();
        let waiting = db::onetimes::pending(&state.db, customer, &session.currency).await;
        let still: Vec<String> = waiting.map(|w| w.into_iter().map(|b| b.id).collect()).unwrap_or_default();
        if still != priced.billables {
            release().await;
            return Ok(Attempt::OrderChanged);
        }
    }
    let amount = priced.quote.due_today.total;
    let kind = provider.kind().as_str();
    // Only the session's last attempt, and only one not yet on an invoice (a fulfilled order's).
    let attempts: Vec<Payment> = known.newest_payment.into_iter().filter(|p| p.invoice_id.is_none()).cloned().collect();
    let earlier = payment_attempt::earlier(&attempts, amount, kind, Reuse { paid: true, open_page: true });
    let mut session = session.clone();
    // Before anything is charged, the order's promo code and coupons are counted under their
    // limits; when one was just used up, nothing is charged. (Money already taken is never
    // refused here: fulfilment settles its count.)
    if !matches!(earlier, Some(Earlier::Paid(_))) {
        let wanted = priced.redemption();
        match crate::services::redemptions::hold(state, &session, wanted.as_ref()).await {
            Ok(true) => session.redemption_counted = wanted.map(|r| r.to_json()),
            Ok(false) => {
                release().await;
                return Ok(Attempt::PromoUsedUp);
            }
            Err(e) => {
                release().await;
                return Err(e);
            }
        }
    }
    let checkout = Checkout { session: &session, ..checkout };
    let payment = match earlier {
        Some(Earlier::Paid(p)) => return complete(state, checkout, priced, &p, Settlement::Paid, saved).await,
        Some(Earlier::OpenAtProvider(p)) => {
            release().await;
            return Ok(Attempt::RequiresAction { url: format!("/checkout/{}/challenge/{}", session.token, p.id) });
        }
        Some(Earlier::Unanswered(p)) => p,
        None => {
            let of = payment_attempt::Of::Checkout(&session.id);
            let payment = payment_attempt::new(&session.company_id, of, kind, amount, &session.currency, now);
            if let Err(e) = db::billing::insert_payment(&state.db, &payment).await {
                release().await;
                return Err(e.into());
            }
            payment
        }
    };
    let entered = &checkout.parsed.entered;
    let provider_customer = match session.customer_id.as_deref() {
        Some(id) => db::customers::provider_ref(&state.db, id).await.ok().flatten(),
        None => None,
    };
    let contract = if session.source == "CONTRACT" {
        db::contracts::by_checkout(&state.db, &session.id).await.ok().flatten().map(|c| c.id)
    } else {
        None
    };
    let mut metadata = vec![("checkout_id", session.id.as_str())];
    if let Some(c) = contract.as_deref() {
        metadata.push(("contract_id", c));
    }
    let request = ChargeRequest {
        payment_id: &payment.id,
        amount,
        currency: &payment.currency,
        card,
        saved_method: None,
        payer: Payer {
            customer_id: session.customer_id.as_deref(),
            provider_customer: provider_customer.as_deref(),
            email: entered.email.as_deref(),
            name: entered.name.as_deref(),
        },
        metadata: &metadata,
        save_for_later: priced.keeps_method(&checkout.parsed.options),
    };
    let outcome = provider.charge(&request).await;
    let now = state.clock.now();
    match outcome {
        Ok(Outcome::Succeeded { reference }) => {
            payment_attempt::record(state, &payment.id, PaymentStatus::Succeeded, &reference).await;
            if let Some(pause) = state.pause_after_charge {
                tokio::time::sleep(pause).await;
            }
            complete(state, checkout, priced, &payment, Settlement::Paid, saved).await
        }
        Ok(Outcome::Pending { reference }) => {
            payment_attempt::record(state, &payment.id, PaymentStatus::Pending, &reference).await;
            complete(state, checkout, priced, &payment, Settlement::Open, None).await
        }
        Ok(Outcome::RequiresAction { reference, url }) => {
            payment_attempt::record(state, &payment.id, PaymentStatus::RequiresAction, &reference).await;
            // The challenge page never sees the card: the method to keep waits on the payment.
            if let Some(method) = saved
                && let Err(e) = db::billing::set_keep_method(&state.db, &payment.id, &method.to_json(), now).await
            {
                tracing::error!(error = %e, payment = payment.id, "keeping the card to save failed");
            }
            release().await;
            Ok(Attempt::RequiresAction { url })
        }
        Ok(Outcome::Failed { reason }) => {
            failed(state, checkout, &payment, &reason).await;
            Ok(Attempt::Declined { reason })
        }
        Err(e) => {
            tracing::warn!(error = %e, "payment provider unavailable");
            release().await;
            Ok(Attempt::Unavailable)
        }
    }
}

/// The customer answered the bank's challenge of `payment` (`approved` or not).
pub async fn answer_challenge(
    state: &AppState,
    checkout: Checkout<'_>,
    payment: &Payment,
    approved: bool,
) -> ServiceResult<Attempt> {
    let now = state.clock.now();
    // Claim the answer: a second click or tab finds the payment no longer waiting.
    if !db::billing::claim_challenge(&state.db, &payment.id, now).await? {
        return Ok(Attempt::AlreadyAnswered);
    }
    let session = checkout.session;
    let reference = payment.provider_ref.clone().unwrap_or_default();
    // Price before the bank takes the money: while the customer was away the order may have
    // changed (a waiting charge invoiced elsewhere). Then nothing is taken.
    let priced = session::price(state, session, &checkout.parsed.order, &checkout.parsed.entered).await?;
    let unchanged = priced.quote.due_today.total == payment.amount;
    match provider(state, checkout).confirm(&reference, approved && unchanged).await {
        Ok(Outcome::Failed { .. }) if approved && !unchanged => {
            failed(state, checkout, payment, "The order changed while the bank asked; nothing was charged.").await;
            Ok(Attempt::OrderChanged)
        }
        Ok(Outcome::Succeeded { reference }) if session.status().is_open() => {
            let from = [PaymentStatus::Processing];
            let succeeded = PaymentStatus::Succeeded;
            let _ =
                db::billing::set_payment_status(&state.db, &payment.id, &from, succeeded, Some(&reference), None, now)
                    .await;
            // The card the customer agreed to save, kept on the payment while the bank asked.
            let kept = payment.keep_method.as_deref().and_then(SavedMethod::from_json);
            complete(state, checkout, &priced, payment, Settlement::Paid, kept.as_ref()).await
        }
        Ok(Outcome::Failed { reason }) | Err(crate::payments::ProviderError(reason)) => {
            failed(state, checkout, payment, &reason).await;
            Ok(Attempt::Declined { reason })
        }
        // Approved, but the session closed meanwhile (expired): take nothing.
        _ => {
            failed(state, checkout, payment, "The checkout closed before the payment completed.").await;
            Ok(Attempt::Closed)
        }
    }
}

/// Fulfil the paid order.
async fn complete(
    state: &AppState,
    checkout: Checkout<'_>,
    priced: &Priced,
    payment: &Payment,
    settlement: Settlement,
    saved_method: Option<&SavedMethod>,
) -> ServiceResult<Attempt> {
    let paid = PaymentDone { payment_id: Some(&payment.id), settlement, saved_method };
    let session = fulfillment::fulfil(state, checkout.session, checkout.parsed, priced, paid).await?;
    Ok(Attempt::Completed(Box::new(session)))
}

/// Record a refused payment, free the session for another try, tell the merchant.
async fn failed(state: &AppState, checkout: Checkout<'_>, payment: &Payment, reason: &str) {
    let now = state.clock.now();
    let session = checkout.session;
    let _ = db::billing::fail_payment(&state.db, &payment.id, reason, now).await;
    // The refused order's promo code is free for others again (before the lock goes, so a
    // next attempt of this session finds its count settled).
    if let Err(e) = crate::services::redemptions::release(state, &session.id).await {
        tracing::error!(error = %e.message, "giving back a refused order's redemptions failed");
    }
    let _ = db::checkouts::release_payment_lock(&state.db, &session.id, now).await;
    let data = PaymentFailed::of(payment, session.customer_id.as_deref(), reason);
    let event = async {
        let mut tx = state.db.begin().await?;
        events::raise(&mut tx, &session.company_id, Event::PaymentFailed(data), now).await?;
        tx.commit().await
    };
    if let Err(e) = event.await {
        tracing::error!(error = %e, "recording payment.failed failed");
    }
}
