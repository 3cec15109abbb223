//! The Stripe payment step (feature `stripe`): the page that mounts Stripe's Payment Element
//! with the intent's client secret, and the return handler Stripe sends the customer back to.
//! Checkout and hosted invoice pages share both; the return handler reads the intent back from
//! Stripe and settles through `stripe_settlement`, never trusting the query string.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::db::billing::Payment;
use crate::domain::money::Currency;
use crate::i18n::{self, Locale, Texts};
use crate::payments::stripe::IntentStatus;
use crate::state::AppState;
use crate::web::checkout::view::Merchant;

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
pub(crate) struct Place {
    pub(crate) merchant: Merchant,
    pub(crate) locale: Locale,
    /// The checkout or invoice page.
    pub(crate) back_url: String,
    /// Path of this payment's step, e.g. `/checkout/{token}/challenge/{payment_id}`.
    pub(crate) step_path: String,
    /// Payment instructions the customer may follow instead (an invoice's bank transfer), for
    /// a browser that cannot run Stripe.js.
    pub(crate) manual: Option<String>,
}

/// The Payment Element page for `payment`. A finished intent goes straight to the return
/// handler, which settles it.
pub(crate) async fn page(
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
pub(crate) fn problem(place: Place, nonce: String, status: StatusCode, message: &'static str, retry: bool) -> Response {
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
pub(crate) fn unavailable(place: Place, nonce: String) -> Response {
    let message = i18n::texts(place.locale).payment_failed;
    problem(place, nonce, StatusCode::SERVICE_UNAVAILABLE, message, true)
}
