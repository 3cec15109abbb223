//! The hosted checkout page `GET/POST /checkout/{token}`: review the order, change quantities,
//! apply a promo code, enter contact and address; the confirmation and closed pages; previews.
//!
//! Works without JavaScript: every button is a submit of one form with an `action` value.
//! Whatever the customer typed is saved with the session (`entered`), so a page with errors,
//! a reload or the back button shows it again. Paying is `web::pay`.

use std::collections::HashMap;
use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};

use super::checkout_view::{self as view, Choice, Form as FormView, LineView, Merchant, Summary};
use super::csrf;
use super::errors::{not_found, server_error};
use super::security_headers::CspNonce;
use crate::db::checkouts::CheckoutSession;
use crate::db::companies::Company;
use crate::db::{self};
use crate::domain::billing::InvoiceStatus;
use crate::domain::checkout::Status;
use crate::error::ApiError;
use crate::i18n::{self, Locale, Texts};
use crate::payments::{PagePayment, Provider};
use crate::services::checkout::{self as session, Entered, Parsed, Priced};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    let router = Router::new()
        .route("/checkout/{token}", get(show).post(submit))
        .route(
            "/checkout/{token}/challenge/{payment_id}",
            get(super::pay::challenge).post(super::pay::answer_challenge),
        )
        .route("/preview/checkout/{id}", get(preview));
    #[cfg(feature = "stripe")]
    let router =
        router.route("/checkout/{token}/challenge/{payment_id}/return", get(super::stripe_page::checkout_return));
    router
}

/// A session with everything its pages need.
#[derive(Clone)]
pub(crate) struct Loaded {
    pub(super) session: CheckoutSession,
    pub(super) parsed: Parsed,
    pub(super) company: Company,
    pub(super) locale: Locale,
}

impl Loaded {
    pub(super) fn t(&self) -> &'static Texts {
        i18n::texts(self.locale)
    }
    pub(super) fn merchant(&self) -> Merchant {
        Merchant::new(&self.company, &self.parsed.options, self.locale)
    }
    pub(super) fn action(&self) -> String {
        format!("/checkout/{}", self.session.token)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "checkout/page.html")]
struct PageTemplate {
    t: &'static Texts,
    lang: &'static str,
    nonce: String,
    csrf: String,
    action: String,
    preview: bool,
    test_mode: bool,
    merchant: Merchant,
    lines: Vec<LineView>,
    summary: Summary,
    promo_allowed: bool,
    promo_applied: Option<String>,
    promo_error: Option<String>,
    ask_email: bool,
    ask_name: bool,
    ask_company: bool,
    company_required: bool,
    ask_phone: bool,
    ask_address: bool,
    address_fields: Vec<(&'static str, &'static str, &'static str, bool)>,
    form: FormView,
    countries: Vec<Choice>,
    card: bool,
    /// The card is kept for later charges (the session's `save_card_on_checkout`).
    saves_card: bool,
    /// The card is entered on the next step, in Stripe's Payment Element.
    element: bool,
    instructions: Option<String>,
    button: String,
    /// The total this page shows, posted back with Pay (`web::shown_total`).
    shown_amount: i64,
    shown_currency: String,
    alert: Option<String>,
    /// (field id, message) for the error summary.
    errors: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "checkout/done.html")]
struct DoneTemplate {
    t: &'static Texts,
    lang: &'static str,
    nonce: String,
    merchant: Merchant,
    heading: String,
    message: String,
    rows: Vec<(String, String)>,
    instructions: Option<String>,
}

pub(super) async fn load(
    state: &AppState,
    token: &str,
    headers: &HeaderMap,
    refresh: bool,
) -> Result<Loaded, Response> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    let session = db::checkouts::by_token(&state.db, token).await.map_err(server_error)?.ok_or_else(not_found)?;
    let session = if refresh {
        crate::services::expiry::refresh(state, session).await.map_err(|e| server_error(e.message))?
    } else {
        session
    };
    if session.source == "CONTRACT" && matches!(session.status(), Status::Created | Status::AwaitingPayment) {
        contract_allows_payment(state, &session).await?;
    }
    load_session(state, session, headers).await
}

/// A contract's checkout opens for payment only once every party has signed: before that its
/// URL must not let anyone pay an order that is still being signed (or a draft). A contract past
/// its expiration date is expired first, so it cannot be paid in the sweeper's gap.
async fn contract_allows_payment(state: &AppState, session: &CheckoutSession) -> Result<(), Response> {
    let contract =
        db::contracts::by_checkout(&state.db, &session.id).await.map_err(server_error)?.ok_or_else(not_found)?;
    let contract = crate::services::contracts::refresh(state, contract).await.map_err(|e| server_error(e.message))?;
    if contract.status() == crate::domain::contract::Status::PendingPayment { Ok(()) } else { Err(not_found()) }
}

/// Everything the pages need around `session`: its parsed JSON, its company, the language.
pub(crate) async fn load_session(
    state: &AppState,
    session: CheckoutSession,
    headers: &HeaderMap,
) -> Result<Loaded, Response> {
    let parsed = session::parse(&session).map_err(|e| server_error(e.message))?;
    let company = db::companies::get(&state.db, &session.company_id)
        .await
        .map_err(server_error)?
        .ok_or_else(|| server_error("checkout without company"))?;
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let locale = Locale::negotiate(session.locale.as_deref(), accept);
    Ok(Loaded { session, parsed, company, locale })
}

pub(super) fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    // Pages carry per-customer data and a CSRF token: never cache them.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Extension(nonce): Extension<CspNonce>,
    headers: HeaderMap,
) -> Response {
    let loaded = match load(&state, &token, &headers, true).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let (csrf_token, cookie) = csrf::token(&state, &headers);
    let response = match loaded.session.status() {
        Status::Completed => confirmation(&state, &loaded, &nonce.0).await,
        Status::Expired | Status::Cancelled => closed(&loaded, &nonce.0),
        Status::Created | Status::AwaitingPayment => {
            let form = FormView::from_entered(&loaded.parsed.entered);
            render(&state, &loaded, form, None, StatusCode::OK, csrf_token, nonce.0, false).await
        }
    };
    with_cookie(response, cookie)
}

/// `GET /preview/checkout/{id}`: the customer's page as it stands, for a sales rep. Nothing is
/// recorded (not even an overdue expiry) and the form cannot be submitted.
async fn preview(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<crate::services::preview_links::PreviewQuery>,
    Extension(nonce): Extension<CspNonce>,
    headers: HeaderMap,
) -> Response {
    if !q.holds_for(&state, &id) {
        return not_found();
    }
    let session = match db::checkouts::by_id(&state.db, &id).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_found(),
        Err(e) => return server_error(e),
    };
    let loaded = match load_session(&state, session, &headers).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    show_preview(&state, &loaded, nonce.0).await
}

/// Render `loaded` as a preview: the page of its status, with the banner and a dead form.
pub(crate) async fn show_preview(state: &AppState, loaded: &Loaded, nonce: String) -> Response {
    let response = match loaded.session.status() {
        Status::Completed => confirmation(state, loaded, &nonce).await,
        Status::Expired | Status::Cancelled => closed(loaded, &nonce),
        Status::Created | Status::AwaitingPayment => {
            let form = FormView::from_entered(&loaded.parsed.entered);
            render(state, loaded, form, None, StatusCode::OK, String::new(), nonce, true).await
        }
    };
    let mut response = response;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response
}

pub(super) fn closed(loaded: &Loaded, nonce: &str) -> Response {
    let t = loaded.t();
    let heading = if loaded.session.status() == Status::Cancelled { t.checkout_cancelled } else { t.checkout_expired };
    let page = DoneTemplate {
        t,
        lang: loaded.locale.code(),
        nonce: nonce.to_string(),
        merchant: loaded.merchant(),
        heading: heading.to_string(),
        message: t.start_again_hint.to_string(),
        rows: Vec::new(),
        instructions: None,
    };
    (StatusCode::GONE, page).into_response()
}

pub(super) async fn confirmation(state: &AppState, loaded: &Loaded, nonce: &str) -> Response {
    let t = loaded.t();
    let s = &loaded.session;
    let invoice = match &s.invoice_id {
        Some(id) => db::billing::get_invoice(&state.db, &s.company_id, id).await.ok().flatten(),
        None => None,
    };
    let mut rows = Vec::new();
    let mut instructions = None;
    if let Some(inv) = &invoice {
        let currency = crate::domain::money::Currency::parse(&inv.currency).ok();
        if let Some(c) = currency {
            if inv.status == InvoiceStatus::Paid.as_str() {
                rows.push((t.amount_paid.to_string(), view::money(inv.total, c, loaded.locale)));
            } else {
                rows.push((t.due_today.to_string(), view::money(inv.amount_due, c, loaded.locale)));
                instructions = inv.payment_instructions.clone();
            }
        }
        rows.push((t.order_reference.to_string(), inv.number.clone()));
    }
    let message = loaded.parsed.options.confirmation_message.clone().unwrap_or_else(|| t.order_complete.to_string());
    let page = DoneTemplate {
        t,
        lang: loaded.locale.code(),
        nonce: nonce.to_string(),
        merchant: loaded.merchant(),
        heading: t.thank_you.to_string(),
        message,
        rows,
        instructions,
    };
    page.into_response()
}

/// The config item a pricing error points at, as an adjustable-quantity key.
pub(super) fn quantity_key(e: &ApiError, parsed: &Parsed) -> Option<String> {
    let param = e.param.as_deref()?;
    let index: usize = param.strip_prefix("config_items[")?.split(']').next()?.parse().ok()?;
    session::config_key(&parsed.order, parsed.order.config_items.get(index)?)
}

fn promo_message(t: &Texts, e: &ApiError) -> String {
    match e.code {
        "promo_code_expired" => t.promo_code_expired.to_string(),
        "promo_code_exhausted" | "promo_code_inactive" => t.promo_code_unavailable.to_string(),
        _ => t.promo_code_invalid.to_string(),
    }
}

/// Price the session as entered; quantities the order refuses are reported per field and
/// left out, so the page can still show a summary.
async fn price_for_page(
    state: &AppState,
    loaded: &Loaded,
    entered: &mut Entered,
) -> Result<(Priced, HashMap<String, String>), Response> {
    let mut errors = HashMap::new();
    for _ in 0..=entered.quantities.len() {
        match session::price(state, &loaded.session, &loaded.parsed.order, entered).await {
            Ok(p) => return Ok((p, errors)),
            Err(e) => match quantity_key(&e, &loaded.parsed) {
                Some(key) if entered.quantities.remove(&key).is_some() => {
                    let range = session::adjustable(&loaded.parsed.order)
                        .into_iter()
                        .find(|a| a.key == key)
                        .map(|a| i18n::quantity_range(loaded.locale, a.min, a.max));
                    errors.insert(key, range.unwrap_or_else(|| loaded.t().invalid_quantity.to_string()));
                }
                _ if e.status.is_client_error() => return Err(closed_for_catalog(loaded)),
                _ => return Err(server_error(e.message)),
            },
        }
    }
    Err(server_error("quantities could not be resolved"))
}

/// The catalog changed under an open session (an archived plan): it cannot be bought any more.
fn closed_for_catalog(loaded: &Loaded) -> Response {
    let t = loaded.t();
    let page = DoneTemplate {
        t,
        lang: loaded.locale.code(),
        nonce: String::new(),
        merchant: loaded.merchant(),
        heading: t.checkout_expired.to_string(),
        message: t.start_again_hint.to_string(),
        rows: Vec::new(),
        instructions: None,
    };
    (StatusCode::GONE, page).into_response()
}

pub(super) fn provider(state: &AppState, loaded: &Loaded) -> Provider {
    Provider::new(
        &state.payments,
        loaded.parsed.options.provider(&loaded.company.payment_provider),
        format!("{}/checkout/{}/challenge", state.public_url, loaded.session.token),
        loaded.parsed.options.payment_instructions.clone(),
        loaded.company.sepa_debit,
    )
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn render(
    state: &AppState,
    loaded: &Loaded,
    mut form: FormView,
    alert: Option<String>,
    status: StatusCode,
    csrf: String,
    nonce: String,
    preview: bool,
) -> Response {
    let t = loaded.t();
    let locale = loaded.locale;
    let mut entered = loaded.parsed.entered.clone();
    let (priced, quantity_errors) = match price_for_page(state, loaded, &mut entered).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    // Show the quantities as typed, also the refused ones.
    let typed = loaded.parsed.entered.clone();
    let adjustable = session::adjustable(&loaded.parsed.order);
    let lines = view::lines(
        &priced.quote,
        &priced.resolved.input.selections,
        &priced.resolved.unit_labels,
        &adjustable,
        &typed,
        &quantity_errors,
        locale,
    );
    let options = &loaded.parsed.options;
    let payment = provider(state, loaded).prepare(priced.quote.due_today.total, &loaded.session.currency);
    // An error the request already set (rate limited) says more than the stored code's.
    let promo_error = form
        .error("promo_code")
        .map(str::to_string)
        .or_else(|| priced.promo_error.as_ref().map(|e| promo_message(t, e)));
    if let Some(e) = &promo_error {
        form.fail("promo_code", e);
    }
    let new_customer = loaded.session.customer_id.is_none();
    let address_fields = vec![
        ("line1", t.address_line1, "address-line1", true),
        ("line2", t.address_line2, "address-line2", false),
        ("postal_code", t.postal_code, "postal-code", true),
        ("city", t.city, "address-level2", true),
        ("state", t.state, "address-level1", false),
    ];
    let mut errors: Vec<(String, String)> = Vec::new();
    for line in &lines {
        if let Some(q) = &line.input
            && let Some(e) = &q.error
        {
            errors.push((q.id.clone(), format!("{}: {e}", line.name)));
        }
    }
    let labels = [
        ("quantity", t.quantity),
        ("email", t.email),
        ("name", t.full_name),
        ("company", t.company),
        ("phone", t.phone),
        ("country", t.country),
        ("line1", t.address_line1),
        ("postal_code", t.postal_code),
        ("city", t.city),
        ("card_number", t.card_number),
        ("card_expiry", t.card_expiry),
        ("card_cvc", t.card_cvc),
        ("promo_code", t.promo_code),
    ];
    for (name, label) in labels {
        if let Some(e) = form.error(name) {
            errors.push((name.to_string(), format!("{label}: {e}")));
        }
    }
    let button = view::button_label(&priced.quote, &payment, t, locale);
    let element = payment == PagePayment::Element;
    let (card, test_mode, instructions) = match payment {
        PagePayment::CardForm { test_mode } => (true, test_mode, None),
        PagePayment::Instructions { text } => (false, false, Some(text)),
        PagePayment::Element => (false, false, None),
    };
    let page = PageTemplate {
        t,
        lang: locale.code(),
        nonce,
        csrf,
        // A preview's form leads nowhere: the customer's token never appears in it.
        action: if preview { String::new() } else { loaded.action() },
        preview,
        test_mode,
        merchant: loaded.merchant(),
        lines,
        summary: view::summary(&priced.quote, priced.resolved.input.term, locale),
        promo_allowed: session::takes_promo_code(&loaded.session, options),
        promo_applied: if priced.promo_error.is_none() { priced.resolved.promo.map(|(_, code)| code) } else { None },
        promo_error,
        ask_email: new_customer,
        ask_name: new_customer,
        ask_company: new_customer && options.collect_company,
        company_required: options.require_company,
        ask_phone: options.requires_phone,
        ask_address: options.requires_customer_address,
        address_fields,
        countries: view::countries(locale, form.value("country")),
        form,
        card,
        saves_card: (card || element) && options.save_payment_method,
        element,
        instructions,
        button,
        shown_amount: priced.quote.due_today.total,
        shown_currency: loaded.session.currency.clone(),
        alert,
        errors,
    };
    let status = if page.errors.is_empty() {
        status
    } else if status.is_success() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        status
    };
    (status, page).into_response()
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

async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Extension(nonce): Extension<CspNonce>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let loaded = match load(&state, &token, &headers, true).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let fields: HashMap<String, String> = pairs.into_iter().collect();
    if !csrf::verify(&state, &headers, fields.get(csrf::FIELD).map(String::as_str)) {
        return super::errors::forbidden(loaded.locale, loaded.merchant());
    }
    let (csrf_token, cookie) = csrf::token(&state, &headers);
    let response = match loaded.session.status() {
        Status::Completed => Redirect::to(&loaded.action()).into_response(),
        Status::Expired | Status::Cancelled => closed(&loaded, &nonce.0),
        Status::Created | Status::AwaitingPayment => {
            submit_open(&state, loaded, &fields, super::client::ip(&state, peer, &headers), csrf_token, nonce.0).await
        }
    };
    with_cookie(response, cookie)
}

async fn submit_open(
    state: &AppState,
    mut loaded: Loaded,
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
    match db::checkouts::save_entered(&state.db, &loaded.session.id, &json, state.clock.now()).await {
        Ok(true) => {}
        // Closed between loading and saving: show what it is now.
        Ok(false) => return Redirect::to(&loaded.action()).into_response(),
        Err(e) => return server_error(e),
    }
    loaded.parsed.entered = entered;
    if action != "pay" {
        if form.has_errors() {
            return render(state, &loaded, form, None, StatusCode::UNPROCESSABLE_ENTITY, csrf, nonce, false).await;
        }
        // Post/redirect/get: a reload shows the page again instead of resubmitting.
        return Redirect::to(&loaded.action()).into_response();
    }
    super::pay::pay(state, loaded, fields, form, csrf, nonce).await
}
