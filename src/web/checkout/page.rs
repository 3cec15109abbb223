//! The hosted checkout page `GET/POST /checkout/{token}`: review the order, change quantities,
//! apply a promo code, enter contact and address; the confirmation and closed pages; previews.
//!
//! Works without JavaScript: every button is a submit of one form with an `action` value.
//! Whatever the customer typed is saved with the session (`entered`), so a page with errors,
//! a reload or the back button shows it again. Paying is `checkout::pay`; `checkout::submit` takes the form.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::db::billing::Payment;
use crate::db::checkouts::CheckoutSession;
use crate::db::companies::Company;
use crate::db::{self};
use crate::domain::billing::InvoiceStatus;
use crate::domain::checkout::Status;
use crate::i18n::{self, Locale, Texts};
use crate::payments::{PagePayment, Provider};
use crate::services::checkout::{self as session, Entered, Parsed, Priced};
use crate::services::error::Error;
use crate::state::AppState;
use crate::web::checkout::view::{self as view, Choice, Form as FormView, LineView, Merchant, Summary};
use crate::web::context::{Found, PageCtx, PageResult, Preview, as_preview, well_formed, with_cookie};
use crate::web::errors::{not_found, server_error};

/// A session with everything its pages need.
#[derive(Clone)]
pub(crate) struct Loaded {
    pub(crate) session: CheckoutSession,
    pub(crate) parsed: Parsed,
    pub(crate) company: Company,
    pub(crate) locale: Locale,
}

impl Loaded {
    /// The checkout as the payment use cases take it.
    pub(crate) fn checkout(&self) -> crate::services::checkout_payment::Checkout<'_> {
        crate::services::checkout_payment::Checkout {
            session: &self.session,
            parsed: &self.parsed,
            company: &self.company,
        }
    }
    pub(crate) fn t(&self) -> &'static Texts {
        i18n::texts(self.locale)
    }
    pub(crate) fn merchant(&self) -> Merchant {
        Merchant::new(&self.company, &self.parsed.options, self.locale)
    }
    pub(crate) fn action(&self) -> String {
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

pub(crate) async fn load(
    state: &AppState,
    token: &str,
    headers: &HeaderMap,
    refresh: bool,
) -> Result<Loaded, Response> {
    well_formed(token)?;
    let (session, company) = db::checkouts::by_token_with_company(&state.db, token).await.found()?;
    opened(state, session, company, headers, refresh).await
}

/// [`load`] for a submit of the page: also the session's newest payment attempt (paying reuses
/// or follows it), read in the same query.
pub(crate) async fn load_for_submit(
    state: &AppState,
    token: &str,
    headers: &HeaderMap,
) -> Result<(Loaded, Option<Payment>), Response> {
    well_formed(token)?;
    let (session, company, newest) = db::checkouts::by_token_for_submit(&state.db, token).await.found()?;
    Ok((opened(state, session, company, headers, true).await?, newest))
}

/// The session as its pages may show it: expired first when overdue (`refresh`), and a
/// contract's checkout only once the contract waits for payment.
async fn opened(
    state: &AppState,
    session: CheckoutSession,
    company: Company,
    headers: &HeaderMap,
    refresh: bool,
) -> Result<Loaded, Response> {
    let session = if refresh {
        crate::services::expiry::refresh(state, session).await.map_err(|e| server_error(e.message))?
    } else {
        session
    };
    if session.source == "CONTRACT" && matches!(session.status(), Status::Created | Status::AwaitingPayment) {
        contract_allows_payment(state, &session).await?;
    }
    Ok(with_company(session, company, headers)?)
}

/// A contract's checkout opens for payment only once every party has signed: before that its
/// URL must not let anyone pay an order that is still being signed (or a draft). A contract past
/// its expiration date is expired first, so it cannot be paid in the sweeper's gap.
async fn contract_allows_payment(state: &AppState, session: &CheckoutSession) -> Result<(), Response> {
    let contract = db::contracts::by_checkout(&state.db, &session.id).await.found()?;
    let contract = crate::services::contracts::refresh(state, contract).await.map_err(|e| server_error(e.message))?;
    if contract.status() == crate::domain::contract::Status::PendingPayment { Ok(()) } else { Err(not_found()) }
}

/// Everything the pages need around `session`: its parsed JSON, its company, the language.
pub(crate) async fn load_session(
    state: &AppState,
    session: CheckoutSession,
    headers: &HeaderMap,
) -> Result<Loaded, Response> {
    let company = db::companies::get(&state.db, &session.company_id)
        .await
        .map_err(server_error)?
        .ok_or_else(|| server_error("checkout without company"))?;
    Ok(with_company(session, company, headers)?)
}

/// [`load_session`] with the company already read (in the same query as the session).
pub(crate) fn with_company(session: CheckoutSession, company: Company, headers: &HeaderMap) -> PageResult<Loaded> {
    let parsed = session::parse(&session).map_err(|e| server_error(e.message))?;
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let locale = Locale::negotiate(session.locale.as_deref(), accept);
    Ok(Loaded { session, parsed, company, locale })
}

pub(crate) async fn show(page: PageCtx, Path(token): Path<String>) -> PageResult {
    let loaded = load(&page.state, &token, &page.headers, true).await?;
    let (csrf_token, cookie) = page.csrf();
    let response = for_status(&page.state, &loaded, csrf_token, page.nonce, false).await;
    Ok(with_cookie(response, cookie))
}

/// `GET /preview/checkout/{id}`: the customer's page as it stands, for a sales rep. Nothing is
/// recorded (not even an overdue expiry) and the form cannot be submitted.
pub(crate) async fn preview(Preview { page, id }: Preview) -> PageResult {
    let session = db::checkouts::by_id(&page.state.db, &id).await.found()?;
    let loaded = load_session(&page.state, session, &page.headers).await?;
    Ok(show_preview(&page.state, &loaded, page.nonce).await)
}

/// Render `loaded` as a preview: the page of its status, with the banner and a dead form.
pub(crate) async fn show_preview(state: &AppState, loaded: &Loaded, nonce: String) -> Response {
    as_preview(for_status(state, loaded, String::new(), nonce, true).await)
}

/// The page of the session's status: the confirmation, the closed page, or the form.
async fn for_status(state: &AppState, loaded: &Loaded, csrf: String, nonce: String, preview: bool) -> Response {
    match loaded.session.status() {
        Status::Completed => confirmation(state, loaded, &nonce).await,
        Status::Expired | Status::Cancelled => closed(loaded, &nonce),
        Status::Created | Status::AwaitingPayment => {
            let form = FormView::from_entered(&loaded.parsed.entered);
            render(state, loaded, form, None, StatusCode::OK, csrf, nonce, preview).await
        }
    }
}

pub(crate) fn closed(loaded: &Loaded, nonce: &str) -> Response {
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

pub(crate) async fn confirmation(state: &AppState, loaded: &Loaded, nonce: &str) -> Response {
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
pub(crate) fn quantity_key(e: &Error, parsed: &Parsed) -> Option<String> {
    let param = e.field.as_deref()?;
    let index: usize = param.strip_prefix("config_items[")?.split(']').next()?.parse().ok()?;
    session::config_key(&parsed.order, parsed.order.config_items.get(index)?)
}

fn promo_message(t: &Texts, e: &Error) -> String {
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
                _ if e.is_refusal() => return Err(closed_for_catalog(loaded)),
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

pub(crate) fn provider(state: &AppState, loaded: &Loaded) -> Provider {
    crate::services::checkout_payment::provider(state, loaded.checkout())
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn render(
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
        // Some 250 options, only where an address is asked.
        countries: if options.requires_customer_address {
            view::countries(locale, form.value("country"))
        } else {
            Vec::new()
        },
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

/// Payment `payment_id` of this session: the 404 page for anyone else's.
pub(crate) async fn session_payment(
    state: &AppState,
    loaded: &Loaded,
    payment_id: &str,
) -> Result<crate::db::billing::Payment, Response> {
    let payment = db::billing::get_payment(&state.db, payment_id).await.map_err(server_error)?;
    payment.filter(|p| p.checkout_id.as_deref() == Some(loaded.session.id.as_str())).ok_or_else(not_found)
}

#[cfg(feature = "stripe")]
pub(crate) fn checkout_place(
    loaded: &Loaded,
    payment: &crate::db::billing::Payment,
) -> crate::web::payment::stripe_step::Place {
    crate::web::payment::stripe_step::Place {
        merchant: loaded.merchant(),
        locale: loaded.locale,
        back_url: loaded.action(),
        step_path: format!("/checkout/{}/challenge/{}", loaded.session.token, payment.id),
        // A session pays either by card or by invoice, never both: nothing else to offer.
        manual: None,
    }
}
