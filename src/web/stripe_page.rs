//! The Stripe payment step (feature `stripe`): the page that mounts Stripe's Payment Element
//! with the intent's client secret, and the return handler Stripe sends the customer back to.
//! Checkout and hosted invoice pages share both; the return handler reads the intent back from
//! Stripe and settles through `stripe_settlement`, never trusting the query string.

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::checkout_view::Merchant;
use super::security_headers::CspNonce;
use crate::db::{self, billing::Payment};
use crate::domain::money::Currency;
use crate::i18n::{self, Locale, Texts};
use crate::payments::stripe::IntentStatus;
use crate::services::stripe_settlement::{self, Settled};
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "checkout/element.html")]
struct ElementTemplate {
    t: &'static Texts,
    lang: &'static str,
    nonce: String,
    merchant: Merchant,
    alert: Option<String>,
    amount: String,
    button: String,
    setup: bool,
    publishable_key: String,
    client_secret: String,
    return_url: String,
    back_url: String,
    js_url: String,
    /// How to pay without a card, shown when JavaScript is off.
    manual: Option<String>,
    /// Stripe test keys: the banner says no real money moves.
    test_mode: bool,
}

/// Where the page sits: the checkout or invoice it belongs to.
pub(super) struct Place {
    pub(super) merchant: Merchant,
    pub(super) locale: Locale,
    /// The checkout or invoice page.
    pub(super) back_url: String,
    /// Path of this payment's step, e.g. `/checkout/{token}/challenge/{payment_id}`.
    pub(super) step_path: String,
    /// Payment instructions the customer may follow instead (an invoice's bank transfer), for
    /// a browser that cannot run Stripe.js.
    pub(super) manual: Option<String>,
}

/// The Payment Element page for `payment`. A finished intent goes straight to the return
/// handler, which settles it.
pub(super) async fn page(
    state: &AppState,
    place: Place,
    payment: &Payment,
    nonce: String,
    alert: Option<String>,
) -> Response {
    let t = i18n::texts(place.locale);
    let (Some(client), Some(reference)) = (state.payments.stripe.as_ref(), payment.provider_ref.as_deref()) else {
        return unavailable(place, nonce);
    };
    let intent = match client.retrieve(reference).await {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, payment = payment.id, "Stripe unavailable for the payment page");
            return unavailable(place, nonce);
        }
    };
    if intent.status != IntentStatus::AwaitingCustomer {
        return Redirect::to(&format!("{}/return", place.step_path)).into_response();
    }
    let Some(client_secret) = intent.client_secret else {
        return unavailable(place, nonce);
    };
    let amount = Currency::parse(&payment.currency)
        .map(|c| crate::i18n::format::money(payment.amount, c, place.locale))
        .unwrap_or_default();
    let page = ElementTemplate {
        t,
        lang: place.locale.code(),
        nonce,
        merchant: place.merchant,
        alert,
        button: i18n::pay_amount(place.locale, &amount),
        amount: if payment.amount == 0 { String::new() } else { amount },
        setup: reference.starts_with("seti_"),
        publishable_key: client.settings.publishable_key.clone(),
        client_secret,
        return_url: format!("{}{}/return", state.public_url, place.step_path),
        back_url: place.back_url,
        js_url: client.settings.js_url.clone(),
        manual: place.manual,
        test_mode: client.settings.mode == crate::payments::stripe::config::Mode::Test,
    };
    let mut response = page.into_response();
    response.extensions_mut().insert(client.settings.csp_sources());
    response
}

#[derive(Template, WebTemplate)]
#[template(path = "checkout/problem.html")]
struct ProblemTemplate {
    t: &'static Texts,
    lang: &'static str,
    nonce: String,
    merchant: Merchant,
    message: &'static str,
    /// The step again, when trying again can help.
    retry_url: Option<String>,
    back_url: String,
}

/// The payment step could not go on: why, and where the customer can go from here.
fn problem(place: Place, nonce: String, status: StatusCode, message: &'static str, retry: bool) -> Response {
    let page = ProblemTemplate {
        t: i18n::texts(place.locale),
        lang: place.locale.code(),
        nonce,
        merchant: place.merchant,
        message,
        retry_url: retry.then_some(place.step_path),
        back_url: place.back_url,
    };
    (status, page).into_response()
}

/// Stripe could not be asked about the payment (down, or not configured any more): nothing was
/// charged; the customer may try the step again or go back to the order.
fn unavailable(place: Place, nonce: String) -> Response {
    let message = i18n::texts(place.locale).payment_failed;
    problem(place, nonce, StatusCode::SERVICE_UNAVAILABLE, message, true)
}

/// `GET /checkout/{token}/challenge/{payment_id}/return`: Stripe sent the customer back.
pub(super) async fn checkout_return(
    State(state): State<AppState>,
    Path((token, payment_id)): Path<(String, String)>,
    Extension(nonce): Extension<CspNonce>,
    headers: HeaderMap,
) -> Response {
    // Not refreshed: a session paid just before its expiry must still complete.
    let loaded = match super::checkout::load(&state, &token, &headers, false).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let payment = db::billing::get_payment(&state.db, &payment_id).await.ok().flatten();
    let Some(payment) = payment.filter(|p| p.checkout_id.as_deref() == Some(loaded.session.id.as_str())) else {
        return super::errors::not_found();
    };
    let t = loaded.t();
    match stripe_settlement::settle(&state, &payment).await {
        Ok(Settled::Done) => {
            match db::checkouts::get(&state.db, &loaded.session.company_id, &loaded.session.id).await {
                Ok(Some(session)) => super::pay::finish(&state, &loaded, session, &nonce.0).await,
                _ => Redirect::to(&loaded.action()).into_response(),
            }
        }
        Ok(Settled::Waiting { failure }) => {
            let alert = Some(failure.unwrap_or_else(|| t.payment_not_completed.to_string()));
            let place = checkout_place(&loaded, &payment);
            page(&state, place, &payment, nonce.0, alert).await
        }
        Ok(Settled::Failed) => Redirect::to(&loaded.action()).into_response(),
        Err(e) if e.code == stripe_settlement::INTENT_MISMATCH => {
            problem(checkout_place(&loaded, &payment), nonce.0, StatusCode::CONFLICT, t.payment_mismatch, false)
        }
        // Paid for an order that changed meanwhile: not fulfilled, and the customer is told the
        // truth (the money was taken) and whom to ask for it back.
        Err(e) if e.status == StatusCode::CONFLICT => {
            problem(checkout_place(&loaded, &payment), nonce.0, StatusCode::CONFLICT, t.paid_order_changed, false)
        }
        Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => {
            unavailable(checkout_place(&loaded, &payment), nonce.0)
        }
        Err(e) => super::errors::server_error(e.message),
    }
}

pub(super) fn checkout_place(loaded: &super::checkout::Loaded, payment: &Payment) -> Place {
    Place {
        merchant: loaded.merchant(),
        locale: loaded.locale,
        back_url: loaded.action(),
        step_path: format!("/checkout/{}/challenge/{}", loaded.session.token, payment.id),
        // A session pays either by card or by invoice, never both: nothing else to offer.
        manual: None,
    }
}

/// `GET /invoices/{token}/challenge/{payment_id}/return`.
pub(super) async fn invoice_return(
    State(state): State<AppState>,
    Path((token, payment_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    Extension(nonce): Extension<CspNonce>,
    headers: HeaderMap,
) -> Response {
    let loaded = match super::invoice::load(&state, &token, &headers, query.as_deref()).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let payment = match super::invoice::invoice_payment(&state, &loaded, &payment_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let t = loaded.t();
    match stripe_settlement::settle(&state, &payment).await {
        Ok(Settled::Done | Settled::Failed) => Redirect::to(&loaded.url()).into_response(),
        Ok(Settled::Waiting { failure }) => {
            let alert = Some(failure.unwrap_or_else(|| t.payment_not_completed.to_string()));
            page(&state, invoice_place(&loaded, &payment), &payment, nonce.0, alert).await
        }
        Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => unavailable(invoice_place(&loaded, &payment), nonce.0),
        Err(e) if e.code == stripe_settlement::INTENT_MISMATCH => {
            problem(invoice_place(&loaded, &payment), nonce.0, StatusCode::CONFLICT, t.payment_mismatch, false)
        }
        Err(e) => super::errors::server_error(e.message),
    }
}

pub(super) fn invoice_place(loaded: &super::invoice::Loaded, payment: &Payment) -> Place {
    Place {
        merchant: loaded.merchant(),
        locale: loaded.locale,
        back_url: loaded.url(),
        step_path: format!("/invoices/{}/challenge/{}", loaded.invoice.token, payment.id),
        manual: loaded.invoice.payment_instructions.clone().filter(|s| !s.trim().is_empty()),
    }
}
