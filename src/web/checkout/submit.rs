//! `POST /checkout/{token}`: the customer changes the order, enters their details or pays.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Path};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::db::billing::Payment;
use crate::domain::checkout::Status;
use crate::i18n;
use crate::services::checkout::{self as session, Entered};
use crate::state::AppState;
use crate::web::checkout::page::{Loaded, closed, load_for_submit, render};
use crate::web::checkout::pay::{Entering, keep_entered};
use crate::web::checkout::view::Form as FormView;
use crate::web::context::{PageCtx, PageResult, with_cookie};
use crate::web::errors::server_error;

pub(crate) async fn submit(
    page: PageCtx,
    Path(token): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let PageCtx { state, nonce, headers } = &page;
    let (loaded, newest) = load_for_submit(state, &token, headers).await?;
    let fields = page.checked_form(pairs, loaded.locale, loaded.merchant())?;
    let (csrf_token, cookie) = page.csrf();
    let response = match loaded.session.status() {
        Status::Completed => Redirect::to(&loaded.action()).into_response(),
        Status::Expired | Status::Cancelled => closed(&loaded, nonce),
        Status::Created | Status::AwaitingPayment => {
            let client = crate::web::client::ip(state, peer, headers);
            submit_open(state, loaded, newest, &fields, client, csrf_token, nonce.clone()).await
        }
    };
    Ok(with_cookie(response, cookie))
}

async fn submit_open(
    state: &AppState,
    mut loaded: Loaded,
    newest: Option<Payment>,
    fields: &HashMap<String, String>,
    client: std::net::IpAddr,
    csrf: String,
    nonce: String,
) -> Response {
    let action = match fields.get("action").map(String::as_str).unwrap_or("update") {
        "enter" => enter_means(&loaded, fields),
        other => other,
    };
    // A code typed but not applied counts when paying too: it is applied first, and the payment's
    // check of the shown total then shows its effect (or its error) before anything is charged.
    let edit = if action == "pay" && enter_means(&loaded, fields) == "apply_promo" { "apply_promo" } else { action };
    let (entered, mut form) = merge(&loaded, fields, edit);
    if edit == "apply_promo" && session::takes_promo_code(&loaded.session, &loaded.parsed.options) {
        match crate::services::attempts::promo_code(state, &loaded.session.id, client).await {
            Ok(None) => {}
            Ok(Some(wait)) => {
                let minutes = crate::services::attempts::minutes_to_wait(wait);
                form.fail("promo_code", &i18n::too_many_attempts(loaded.locale, minutes));
                return render(state, &loaded, form, None, StatusCode::TOO_MANY_REQUESTS, csrf, nonce, false).await;
            }
            Err(e) => return server_error(e.message),
        }
    }
    let json = serde_json::to_string(&entered).unwrap_or_else(|_| "{}".into());
    loaded.parsed.entered = entered;
    let entered = Entering { json, newest };
    if edit == "pay" {
        // Saved with the payment lock, or by `pay` where it stops before taking it.
        return crate::web::checkout::pay::pay(state, loaded, entered, fields, form, csrf, nonce).await;
    }
    if let Err(answer) = keep_entered(state, &loaded, &entered.json).await {
        return answer;
    }
    if action != "pay" {
        if form.has_errors() {
            return render(state, &loaded, form, None, StatusCode::UNPROCESSABLE_ENTITY, csrf, nonce, false).await;
        }
        // Post/redirect/get: a reload shows the page again instead of resubmitting.
        return Redirect::to(&loaded.action()).into_response();
    }
    crate::web::checkout::pay::pay(state, loaded, entered, fields, form, csrf, nonce).await
}

/// What Enter (or a phone's "Go") in a field means when no script said which button it is: the
/// form's first submit button posts `enter`. A promo code typed but not applied is applied (the
/// customer sees the new total before paying); otherwise it pays. With JavaScript, `app.js` picks
/// the field's own button (Apply, Update, Pay) instead.
fn enter_means(loaded: &Loaded, fields: &HashMap<String, String>) -> &'static str {
    let typed = fields.get("promo_code").map(|c| c.trim()).filter(|c| !c.is_empty());
    match typed {
        Some(code)
            if session::takes_promo_code(&loaded.session, &loaded.parsed.options)
                && loaded.parsed.entered.promo_code.as_deref() != Some(code) =>
        {
            "apply_promo"
        }
        _ => "pay",
    }
}

/// Apply a posted form to what the session had: quantities, contact, address, promo code.
fn merge(loaded: &Loaded, fields: &HashMap<String, String>, action: &str) -> (Entered, FormView) {
    let mut entered = loaded.parsed.entered.clone();
    let get = |name: &str| fields.get(name).map(|v| v.trim().to_string());
    let mut form = FormView::default();
    for a in session::adjustable(&loaded.parsed.order) {
        if let Some(raw) = get(&format!("qty.{}", a.key)) {
            match raw.parse::<i64>() {
                Ok(q) => {
                    entered.quantities.insert(a.key.clone(), q);
                }
                // Not a number at all: keep the last good value; the page says what went wrong.
                Err(_) => form.fail("quantity", loaded.t().invalid_quantity),
            }
        }
    }
    let text =
        |name: &str, max: usize| get(name).filter(|v| !v.is_empty()).map(|v| v.chars().take(max).collect::<String>());
    if fields.contains_key("email") {
        entered.email = text("email", 254);
    }
    if fields.contains_key("name") {
        entered.name = text("name", 200);
    }
    if fields.contains_key("company") {
        entered.company = text("company", 200);
    }
    if fields.contains_key("phone") {
        entered.phone = text("phone", 40);
    }
    if fields.contains_key("country") {
        entered.address.country = text("country", 2).map(|c| c.to_ascii_uppercase());
        entered.address.line1 = text("line1", 200);
        entered.address.line2 = text("line2", 200);
        entered.address.city = text("city", 100);
        entered.address.state = text("state", 100);
        entered.address.postal_code = text("postal_code", 20);
    }
    match action {
        "apply_promo" => entered.promo_code = text("promo_code", 40),
        "remove_promo" => entered.promo_code = None,
        _ => {}
    }
    let mut shown = FormView::from_entered(&entered);
    shown.fields.extend(form.fields);
    // The card number is never written back into a page: the customer types it again.
    if let Some(expiry) = get("card_expiry") {
        shown.set("card_expiry", Some(&expiry));
    }
    (entered, shown)
}
