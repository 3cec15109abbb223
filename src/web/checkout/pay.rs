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

use crate::db::billing::Payment;
use crate::db::checkouts::CheckoutSession;
use crate::db::{self};
use crate::domain::billing::PaymentStatus;
use crate::domain::checkout::Status;
use crate::i18n::{self};
use crate::payments::{CardInput, ProviderKind};
use crate::services::checkout::{self as session, CompletionAction, Entered};
use crate::services::checkout_payment::{self, Attempt};
use crate::state::AppState;
use crate::web::checkout::page::{Loaded, closed, load, provider, render, session_payment};
use crate::web::checkout::view::{self as view, Form as FormView};
use crate::web::context::{PageCtx, PageResult, with_cookie};
use crate::web::errors::server_error;
use crate::web::payment::challenge::{self, ChallengeAnswer};

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

/// What the customer just entered, not yet stored, and the session's newest payment attempt.
pub(crate) struct Entering {
    /// `Entered` as the session stores it.
    pub(crate) json: String,
    pub(crate) newest: Option<Payment>,
}

/// Store what the customer entered while the session is open; when it closed meanwhile, the
/// answer is the page as it is now.
pub(crate) async fn keep_entered(state: &AppState, loaded: &Loaded, json: &str) -> Result<(), Response> {
    match db::checkouts::save_entered(&state.db, &loaded.session.id, json, state.clock.now()).await {
        Ok(true) => Ok(()),
        // Closed between loading and saving: show what it is now.
        Ok(false) => Err(Redirect::to(&loaded.action()).into_response()),
        Err(e) => Err(server_error(e)),
    }
}

pub(crate) async fn pay(
    state: &AppState,
    loaded: Loaded,
    entered: Entering,
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
        _ => {
            if let Err(answer) = keep_entered(state, &loaded, &entered.json).await {
                return answer;
            }
            return render(state, &loaded, form, None, StatusCode::UNPROCESSABLE_ENTITY, csrf, nonce, false).await;
        }
    };
    // What the customer saw is what they pay: a total that moved since the page was shown (a
    // quantity typed without Update, a change elsewhere) charges nothing and shows the new one.
    let total = priced.quote.due_today.total;
    if !crate::web::payment::shown_total::holds(fields, total, &loaded.session.currency) {
        if let Err(answer) = keep_entered(state, &loaded, &entered.json).await {
            return answer;
        }
        let amount = crate::domain::money::Currency::parse(&loaded.session.currency)
            .map(|c| view::money(total, c, loaded.locale))
            .unwrap_or_default();
        let alert = Some(i18n::total_changed(loaded.locale, &amount));
        return render(state, &loaded, form, alert, StatusCode::CONFLICT, csrf, nonce, false).await;
    }

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
    let checkout = loaded.checkout();
    let known = checkout_payment::Known { entered: &entered.json, newest_payment: entered.newest.as_ref() };
    let attempt =
        checkout_payment::pay(state, checkout, &priced, card.then_some(&card_input), saved.as_ref(), known).await;
    let (alert, status) = match attempt {
        Ok(Attempt::Completed(session)) => return finish(state, &loaded, *session, &nonce).await,
        Ok(Attempt::Busy) => {
            // The lock was not ours, so neither was the save that comes with it.
            if let Err(answer) = keep_entered(state, &loaded, &entered.json).await {
                return answer;
            }
            return await_other_attempt(state, &loaded, csrf, nonce).await;
        }
        Ok(Attempt::RequiresAction { url }) => return Redirect::to(&url).into_response(),
        Ok(Attempt::OrderChanged) => (t.order_changed.to_string(), StatusCode::CONFLICT),
        Ok(Attempt::PromoUsedUp) => (i18n::promo_used_up(loaded.locale).to_string(), StatusCode::CONFLICT),
        // The provider's reason, then what to do about it.
        Ok(Attempt::Declined { reason }) => (format!("{reason} {}.", t.try_another_card), StatusCode::PAYMENT_REQUIRED),
        Ok(Attempt::Unavailable) => (t.payment_failed.to_string(), StatusCode::SERVICE_UNAVAILABLE),
        Ok(Attempt::AlreadyAnswered | Attempt::Closed) => return Redirect::to(&loaded.action()).into_response(),
        Err(e) => return server_error(e.message),
    };
    render(state, &loaded, form, Some(alert), status, csrf, nonce, false).await
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
    let payment = session_payment(&page.state, &loaded, &payment_id).await?;
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
    let payment = session_payment(state, &loaded, &payment_id).await?;
    let (csrf_token, cookie) = page.csrf();
    let attempt = checkout_payment::answer_challenge(state, loaded.checkout(), &payment, form.approved()).await;
    let t = loaded.t();
    let (alert, status) = match attempt {
        Ok(Attempt::Completed(session)) => {
            return Ok(with_cookie(finish(state, &loaded, *session, nonce).await, cookie));
        }
        Ok(Attempt::OrderChanged) => (t.order_changed.to_string(), StatusCode::CONFLICT),
        Ok(Attempt::Declined { reason }) => {
            (i18n::payment_declined(loaded.locale, &reason), StatusCode::PAYMENT_REQUIRED)
        }
        Ok(_) => return Ok(with_cookie(Redirect::to(&loaded.action()).into_response(), cookie)),
        Err(e) => return Err(with_cookie(server_error(e.message), cookie).into()),
    };
    let form = FormView::from_entered(&loaded.parsed.entered);
    let response = render(state, &loaded, form, Some(alert), status, csrf_token, nonce.clone(), false).await;
    Ok(with_cookie(response, cookie))
}
