//! Paying from the checkout page: the checks a payment needs, the attempt under the
//! session's payment lock, the provider's outcome, the challenge page, and completion.
//!
//! Concurrent submits converge: the first takes the lock and pays, the others wait for it and
//! end where it ends; fulfilment itself is exactly-once (see `fulfillment`).

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use axum::extract::{Form, Path};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;

use crate::db::billing::Payment;
use crate::db::checkouts::CheckoutSession;
use crate::db::{self};
use crate::domain::billing::PaymentStatus;
use crate::domain::checkout::Status;
use crate::domain::ids::{self, prefix};
use crate::i18n::{self};
use crate::payments::{CardInput, ChargeRequest, Outcome, Payer, ProviderKind, SavedMethod};
use crate::services::checkout::{self as session, CompletionAction, Entered, Priced};
use crate::services::events::{self, Event, PaymentFailed};
use crate::services::fulfillment::{self, PaymentDone, Settlement};
use crate::state::AppState;
use crate::web::checkout::page::{Loaded, checkout_payment, closed, load, provider, render};
use crate::web::checkout::view::{self as view, Form as FormView};
use crate::web::context::{PageCtx, PageResult, with_cookie};
use crate::web::errors::server_error;
use crate::web::payment::challenge::{self, ChallengeAnswer};

/// How long a payment attempt may hold the session before another may try.
const PAYMENT_LOCK: i64 = 60;

/// Check what paying needs; errors go beside their fields in `form`.
fn check_for_payment(
    loaded: &Loaded,
    entered: &Entered,
    fields: &HashMap<String, String>,
    form: &mut FormView,
    card: bool,
    now: chrono::DateTime<chrono::Utc>,
) {
    let t = loaded.t();
    let options = &loaded.parsed.options;
    if loaded.session.customer_id.is_none() {
        match entered.email.as_deref() {
            None => form.fail("email", t.required),
            Some(e) if crate::services::validate::email("email", e).is_err() => form.fail("email", t.invalid_email),
            Some(_) => {}
        }
        if entered.name.is_none() {
            form.fail("name", t.required);
        }
        if options.require_company && entered.company.is_none() {
            form.fail("company", t.required);
        }
    }
    if options.requires_phone {
        match entered.phone.as_deref() {
            None => form.fail("phone", t.required),
            Some(p)
                if !p.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
                    || p.chars().filter(char::is_ascii_digit).count() < 5 =>
            {
                form.fail("phone", t.invalid_phone)
            }
            Some(_) => {}
        }
    }
    if options.requires_customer_address {
        let a = &entered.address;
        let country = a.country.as_deref().and_then(crate::domain::address::country);
        if country.is_none() {
            form.fail("country", t.required);
        }
        if a.line1.is_none() {
            form.fail("line1", t.required);
        }
        if a.city.is_none() {
            form.fail("city", t.required);
        }
        match (&a.postal_code, country) {
            (None, _) => form.fail("postal_code", t.required),
            (Some(code), Some(c)) if !crate::domain::address::postal_code_fits(c, code) => {
                form.fail("postal_code", t.invalid_postal_code)
            }
            _ => {}
        }
    }
    if card {
        crate::web::payment::card::check_card(fields, form, t, now);
    }
}

pub(crate) async fn pay(
    state: &AppState,
    mut loaded: Loaded,
    fields: &HashMap<String, String>,
    mut form: FormView,
    csrf: String,
    nonce: String,
) -> Response {
    let t = loaded.t();
    let provider = provider(state, &loaded);
    let card = provider.kind() == ProviderKind::Sandbox;
    check_for_payment(&loaded, &loaded.parsed.entered, fields, &mut form, card, state.clock.now());
    let priced = match session::price(state, &loaded.session, &loaded.parsed.order, &loaded.parsed.entered).await {
        Ok(p) if p.promo_error.is_none() && !form.has_errors() => p,
        // Anything wrong: the page shows it, with everything typed kept.
        _ => return render(state, &loaded, form, None, StatusCode::UNPROCESSABLE_ENTITY, csrf, nonce, false).await,
    };
    // What the customer saw is what they pay: a total that moved since the page was shown (a
    // quantity typed without Update, a change elsewhere) charges nothing and shows the new one.
    let total = priced.quote.due_today.total;
    if !crate::web::payment::shown_total::holds(fields, total, &loaded.session.currency) {
        let amount = crate::domain::money::Currency::parse(&loaded.session.currency)
            .map(|c| view::money(total, c, loaded.locale))
            .unwrap_or_default();
        let alert = Some(i18n::total_changed(loaded.locale, &amount));
        return render(state, &loaded, form, alert, StatusCode::CONFLICT, csrf, nonce, false).await;
    }

    let now = state.clock.now();
    match db::checkouts::lock_for_payment(&state.db, &loaded.session.id, now, now + Duration::seconds(PAYMENT_LOCK))
        .await
    {
        Ok(true) => {}
        Ok(false) => return await_other_attempt(state, &loaded, csrf, nonce).await,
        Err(e) => return server_error(e),
    }
    // Waiting charges priced above may have gone on an invoice before we held the lock (an
    // invoice being created waits while we hold it): then show the order as it is now.
    if !priced.billables.is_empty() {
        let customer = loaded.session.customer_id.as_deref().unwrap_or_default();
        let waiting = db::onetimes::pending(&state.db, customer, &loaded.session.currency).await;
        let still: Vec<String> = waiting.map(|w| w.into_iter().map(|b| b.id).collect()).unwrap_or_default();
        if still != priced.billables {
            let _ = db::checkouts::release_payment_lock(&state.db, &loaded.session.id, now).await;
            let alert = Some(t.order_changed.to_string());
            return render(state, &loaded, form, alert, StatusCode::CONFLICT, csrf, nonce, false).await;
        }
    }
    let amount = priced.quote.due_today.total;
    let card_input = CardInput {
        number: fields.get("card_number").cloned().unwrap_or_default(),
        expiry: fields.get("card_expiry").cloned().unwrap_or_default(),
        cvc: fields.get("card_cvc").cloned().unwrap_or_default(),
    };
    // Kept only when the session asked for it, and the page told the customer so.
    let saved = if card && loaded.parsed.options.save_payment_method {
        crate::payments::sandbox::save(&card_input)
    } else {
        None
    };
    // A payment that succeeded before a failure on our side is used, never charged again.
    let earlier = db::billing::last_payment_of_checkout(&state.db, &loaded.session.id).await.ok().flatten();
    let kind = provider.kind().as_str();
    let reuses_succeeded = earlier
        .as_ref()
        .is_some_and(|p| p.status == PaymentStatus::Succeeded.as_str() && p.invoice_id.is_none() && p.amount == amount);
    // Before anything is charged, the order's promo code and coupons are counted under their
    // limits; when one was just used up, nothing is charged and the page says so. (Money already
    // taken is never refused here: fulfilment settles its count.)
    if !reuses_succeeded {
        let wanted = priced.redemption();
        match crate::services::redemptions::hold(state, &loaded.session, wanted.as_ref()).await {
            Ok(true) => loaded.session.redemption_counted = wanted.map(|r| r.to_json()),
            Ok(false) => {
                let _ = db::checkouts::release_payment_lock(&state.db, &loaded.session.id, now).await;
                let alert = Some(i18n::promo_used_up(loaded.locale).to_string());
                return render(state, &loaded, form, alert, StatusCode::CONFLICT, csrf, nonce, false).await;
            }
            Err(e) => {
                let _ = db::checkouts::release_payment_lock(&state.db, &loaded.session.id, now).await;
                return server_error(e.message);
            }
        }
    }
    let payment = match earlier {
        // A payment that succeeded before a failure on our side is used, never charged again.
        Some(p) if p.status == PaymentStatus::Succeeded.as_str() && p.invoice_id.is_none() && p.amount == amount => {
            return complete(state, &loaded, &priced, Some(&p.id), Settlement::Paid, saved.as_ref(), &nonce).await;
        }
        // Stripe's Payment Element page for this very amount is still open: go back to it,
        // rather than create a second intent.
        Some(p)
            if p.status == PaymentStatus::RequiresAction.as_str()
                && p.provider == "stripe"
                && kind == "stripe"
                && p.amount == amount =>
        {
            let _ = db::checkouts::release_payment_lock(&state.db, &loaded.session.id, now).await;
            return Redirect::to(&format!("/checkout/{}/challenge/{}", loaded.session.token, p.id)).into_response();
        }
        // An attempt the provider never answered (a timeout): retried under the same payment
        // id, which is the provider's idempotency key, so it can never charge twice.
        Some(p)
            if p.status == PaymentStatus::Processing.as_str()
                && p.invoice_id.is_none()
                && p.amount == amount
                && p.provider == kind =>
        {
            p
        }
        _ => {
            let payment = Payment {
                id: ids::new_id(prefix::PAYMENT, now),
                company_id: loaded.session.company_id.clone(),
                checkout_id: Some(loaded.session.id.clone()),
                invoice_id: None,
                provider: kind.to_string(),
                provider_ref: None,
                status: PaymentStatus::Processing.as_str().into(),
                amount,
                currency: loaded.session.currency.clone(),
                failure_reason: None,
                created_at: now,
                updated_at: now,
                keep_method: None,
            };
            if let Err(e) = db::billing::insert_payment(&state.db, &payment).await {
                let _ = db::checkouts::release_payment_lock(&state.db, &loaded.session.id, now).await;
                return server_error(e);
            }
            payment
        }
    };
    let entered = &loaded.parsed.entered;
    let provider_customer = match loaded.session.customer_id.as_deref() {
        Some(id) => db::customers::provider_ref(&state.db, id).await.ok().flatten(),
        None => None,
    };
    let contract = if loaded.session.source == "CONTRACT" {
        db::contracts::by_checkout(&state.db, &loaded.session.id).await.ok().flatten().map(|c| c.id)
    } else {
        None
    };
    let mut metadata = vec![("checkout_id", loaded.session.id.as_str())];
    if let Some(c) = contract.as_deref() {
        metadata.push(("contract_id", c));
    }
    let request = ChargeRequest {
        payment_id: &payment.id,
        amount,
        currency: &payment.currency,
        card: card.then_some(&card_input),
        saved_method: None,
        payer: Payer {
            customer_id: loaded.session.customer_id.as_deref(),
            provider_customer: provider_customer.as_deref(),
            email: entered.email.as_deref(),
            name: entered.name.as_deref(),
        },
        metadata: &metadata,
        save_for_later: priced.keeps_method(&loaded.parsed.options),
    };
    let outcome = provider.charge(&request).await;
    let now = state.clock.now();
    match outcome {
        Ok(Outcome::Succeeded { reference }) => {
            record_payment(state, &payment.id, PaymentStatus::Succeeded, &reference).await;
            if let Some(pause) = state.pause_after_charge {
                tokio::time::sleep(pause).await;
            }
            complete(state, &loaded, &priced, Some(&payment.id), Settlement::Paid, saved.as_ref(), &nonce).await
        }
        Ok(Outcome::Pending { reference }) => {
            record_payment(state, &payment.id, PaymentStatus::Pending, &reference).await;
            complete(state, &loaded, &priced, Some(&payment.id), Settlement::Open, None, &nonce).await
        }
        Ok(Outcome::RequiresAction { reference, url }) => {
            record_payment(state, &payment.id, PaymentStatus::RequiresAction, &reference).await;
            // The challenge page never sees the card: the method to keep waits on the payment.
            if let Some(method) = &saved
                && let Err(e) = db::billing::set_keep_method(&state.db, &payment.id, &method.to_json(), now).await
            {
                tracing::error!(error = %e, payment = payment.id, "keeping the card to save failed");
            }
            let _ = db::checkouts::release_payment_lock(&state.db, &loaded.session.id, now).await;
            Redirect::to(&url).into_response()
        }
        Ok(Outcome::Failed { reason }) => {
            failed(state, &loaded, &payment, &reason).await;
            loaded.session.redemption_counted = None;
            // The provider's reason, then what to do about it.
            let alert = format!("{reason} {}.", t.try_another_card);
            render(state, &loaded, form, Some(alert), StatusCode::PAYMENT_REQUIRED, csrf, nonce, false).await
        }
        Err(e) => {
            tracing::warn!(error = %e, "payment provider unavailable");
            let _ = db::checkouts::release_payment_lock(&state.db, &loaded.session.id, now).await;
            render(
                state,
                &loaded,
                form,
                Some(t.payment_failed.to_string()),
                StatusCode::SERVICE_UNAVAILABLE,
                csrf,
                nonce,
                false,
            )
            .await
        }
    }
}

/// Record what the provider said about an attempt in flight. The money side is settled by
/// then; if writing this fails, fulfilment (which rewrites the status) or the lock's expiry
/// converges the rows, so the failure is logged rather than shown to the customer.
async fn record_payment(state: &AppState, payment_id: &str, status: PaymentStatus, reference: &str) {
    let now = state.clock.now();
    let stored = db::billing::set_payment_status(
        &state.db,
        payment_id,
        &[PaymentStatus::Processing],
        status,
        Some(reference),
        None,
        now,
    )
    .await;
    if let Err(e) = stored {
        tracing::error!(error = %e, payment = payment_id, status = status.as_str(), "recording a payment outcome failed");
    }
}

/// Record a refused payment, free the session for another try, tell the merchant.
async fn failed(state: &AppState, loaded: &Loaded, payment: &Payment, reason: &str) {
    let now = state.clock.now();
    let _ = db::billing::fail_payment(&state.db, &payment.id, reason, now).await;
    // The refused order's promo code is free for others again (before the lock goes, so a
    // next attempt of this session finds its count settled).
    if let Err(e) = crate::services::redemptions::release(state, &loaded.session.id).await {
        tracing::error!(error = %e.message, "giving back a refused order's redemptions failed");
    }
    let _ = db::checkouts::release_payment_lock(&state.db, &loaded.session.id, now).await;
    let data = PaymentFailed::of(payment, loaded.session.customer_id.as_deref(), reason);
    let event = async {
        let mut tx = state.db.begin().await?;
        events::raise(&mut tx, &loaded.session.company_id, Event::PaymentFailed(data), now).await?;
        tx.commit().await
    };
    if let Err(e) = event.await {
        tracing::error!(error = %e, "recording payment.failed failed");
    }
}

/// Fulfil, then finish as the session asks: redirect to the merchant, or the confirmation.
async fn complete(
    state: &AppState,
    loaded: &Loaded,
    priced: &Priced,
    payment_id: Option<&str>,
    settlement: Settlement,
    saved_method: Option<&SavedMethod>,
    nonce: &str,
) -> Response {
    let payment = PaymentDone { payment_id, settlement, saved_method };
    let done = fulfillment::fulfil(state, &loaded.session, &loaded.parsed, priced, payment).await;
    match done {
        Ok(session) => finish(state, loaded, session, nonce).await,
        Err(e) => server_error(e.message),
    }
}

/// Where a completed session sends the customer.
pub(crate) async fn finish(state: &AppState, loaded: &Loaded, session: CheckoutSession, nonce: &str) -> Response {
    if session.status() != Status::Completed {
        let loaded = Loaded { session, ..loaded.clone() };
        return closed(&loaded, nonce);
    }
    let options = &loaded.parsed.options;
    match (&options.completion_action, &options.redirect_url) {
        (CompletionAction::Redirect, Some(url)) => {
            // The ids go into the query, before any `#fragment` (which the browser keeps to itself).
            let (base, fragment) = match url.split_once('#') {
                Some((b, f)) => (b, Some(f)),
                None => (url.as_str(), None),
            };
            let mut target = base.to_string();
            target.push(if base.contains('?') { '&' } else { '?' });
            target.push_str(&format!("checkout_id={}", session.id));
            if let Some(c) = &session.customer_id {
                target.push_str(&format!("&customer_id={c}"));
            }
            if let Some(s) = &session.subscription_id {
                target.push_str(&format!("&subscription_id={s}"));
            }
            // A contract's payment step: the merchant knows the deal by its contract.
            if session.source == "CONTRACT"
                && let Ok(Some(c)) = db::contracts::by_checkout(&state.db, &session.id).await
            {
                target.push_str(&format!("&contract_id={}", c.id));
            }
            if let Some(f) = fragment {
                target.push('#');
                target.push_str(f);
            }
            Redirect::to(&target).into_response()
        }
        _ => Redirect::to(&loaded.action()).into_response(),
    }
}

/// Another attempt holds the payment lock (a double click, a second tab): wait for it and
/// end where it ends.
async fn await_other_attempt(state: &AppState, loaded: &Loaded, csrf: String, nonce: String) -> Response {
    for _ in 0..150 {
        tokio::time::sleep(StdDuration::from_millis(100)).await;
        let Ok(Some(current)) = db::checkouts::get(&state.db, &loaded.session.company_id, &loaded.session.id).await
        else {
            continue;
        };
        if current.status() == Status::Completed {
            return finish(state, loaded, current, &nonce).await;
        }
        if !current.status().is_open() || current.paying_until.is_none() {
            let reloaded = Loaded { session: current, ..loaded.clone() };
            let form = FormView::from_entered(&reloaded.parsed.entered);
            return render(state, &reloaded, form, None, StatusCode::CONFLICT, csrf, nonce, false).await;
        }
    }
    let form = FormView::from_entered(&loaded.parsed.entered);
    render(
        state,
        loaded,
        form,
        Some(loaded.t().payment_processing.to_string()),
        StatusCode::CONFLICT,
        csrf,
        nonce,
        false,
    )
    .await
}

pub(crate) async fn challenge(page: PageCtx, Path((token, payment_id)): Path<(String, String)>) -> PageResult {
    let loaded = load(&page.state, &token, &page.headers, true).await?;
    let payment = checkout_payment(&page.state, &loaded, &payment_id).await?;
    if payment.status != PaymentStatus::RequiresAction.as_str() || !loaded.session.status().is_open() {
        return Ok(Redirect::to(&loaded.action()).into_response());
    }
    #[cfg(feature = "stripe")]
    if payment.provider == ProviderKind::Stripe.as_str() {
        let place = crate::web::checkout::page::checkout_place(&loaded, &payment);
        return Ok(crate::web::payment::stripe_step::page(&page.state, place, &payment, page.nonce, None).await);
    }
    let action = format!("/checkout/{token}/challenge/{payment_id}");
    Ok(challenge::page(&page, (loaded.t(), loaded.locale), loaded.merchant(), &payment, action))
}

pub(crate) async fn answer_challenge(
    page: PageCtx,
    Path((token, payment_id)): Path<(String, String)>,
    Form(form): Form<ChallengeAnswer>,
) -> PageResult {
    let PageCtx { state, nonce, headers } = &page;
    let loaded = load(state, &token, headers, true).await?;
    page.check_csrf(form.csrf.as_deref(), loaded.locale, loaded.merchant())?;
    let payment = checkout_payment(state, &loaded, &payment_id).await?;
    let now = state.clock.now();
    // Claim the answer: a second click or tab finds the payment no longer waiting.
    if !db::billing::claim_challenge(&state.db, &payment.id, now).await.map_err(server_error)? {
        return Ok(Redirect::to(&loaded.action()).into_response());
    }
    let (csrf_token, cookie) = page.csrf();
    let approved = form.approved();
    let reference = payment.provider_ref.clone().unwrap_or_default();
    // Price before the bank takes the money: while the customer was away the order may have
    // changed (a waiting charge invoiced elsewhere). Then nothing is taken.
    let priced = session::price(state, &loaded.session, &loaded.parsed.order, &loaded.parsed.entered)
        .await
        .map_err(|e| with_cookie(server_error(e.message), cookie.clone()))?;
    let unchanged = priced.quote.due_today.total == payment.amount;
    let outcome = provider(state, &loaded).confirm(&reference, approved && unchanged).await;
    let response = match outcome {
        Ok(Outcome::Failed { .. }) if approved && !unchanged => {
            let t = loaded.t();
            failed(state, &loaded, &payment, t.order_changed).await;
            let form = FormView::from_entered(&loaded.parsed.entered);
            let alert = Some(t.order_changed.to_string());
            render(state, &loaded, form, alert, StatusCode::CONFLICT, csrf_token, nonce.clone(), false).await
        }
        Ok(Outcome::Succeeded { reference }) if loaded.session.status().is_open() => {
            let _ = db::billing::set_payment_status(
                &state.db,
                &payment.id,
                &[PaymentStatus::Processing],
                PaymentStatus::Succeeded,
                Some(&reference),
                None,
                now,
            )
            .await;
            // The card the customer agreed to save, kept on the payment while the bank asked.
            let kept = payment.keep_method.as_deref().and_then(SavedMethod::from_json);
            complete(state, &loaded, &priced, Some(&payment.id), Settlement::Paid, kept.as_ref(), nonce).await
        }
        Ok(Outcome::Failed { reason }) | Err(crate::payments::ProviderError(reason)) => {
            failed(state, &loaded, &payment, &reason).await;
            let alert = i18n::payment_declined(loaded.locale, &reason);
            let form = FormView::from_entered(&loaded.parsed.entered);
            render(state, &loaded, form, Some(alert), StatusCode::PAYMENT_REQUIRED, csrf_token, nonce.clone(), false)
                .await
        }
        // Approved, but the session closed meanwhile (expired): take nothing.
        _ => {
            failed(state, &loaded, &payment, "The checkout closed before the payment completed.").await;
            Redirect::to(&loaded.action()).into_response()
        }
    };
    Ok(with_cookie(response, cookie))
}
