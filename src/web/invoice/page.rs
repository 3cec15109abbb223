//! The hosted invoice page `GET /invoices/{token}`: an invoice as its customer reads, pays and
//! prints it; `POST /invoices/{token}/pay` pays it by card; and the bank's challenge pages
//! `GET/POST /invoices/{token}/challenge/{payment_id}`. What the page shows is `invoice::view`,
//! its words `invoice::i18n`; charging (the lock, the provider, settling) is `invoicing`.
//!
//! Works without JavaScript: paying is one form, printing works from the browser's menu (the
//! script only adds a print button). The language is `?lang=` when given, else Accept-Language;
//! a chosen language is kept on every link, form and redirect of the page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Path, RawQuery};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::db::billing::Invoice;
use crate::db::companies::Company;
use crate::db::customers::Customer;
use crate::db::{self};
use crate::domain::billing::{InvoiceStatus, PaymentStatus};
use crate::domain::ids::{self, prefix};
use crate::domain::money::Currency;
use crate::i18n::{self, Locale, Texts};
use crate::payments::{CardInput, PagePayment};
use crate::services::checkout::Options;
use crate::services::error::{Refusal, ServiceResult};
use crate::services::invoicing::{self, Paid, PayWith};
use crate::state::AppState;
use crate::web::checkout::view::{Form as FormView, Merchant};
use crate::web::context::{Found, PageCtx, PageResult, well_formed, with_cookie};
use crate::web::errors::{not_found, server_error};
use crate::web::invoice::i18n::{self as ii18n, InvoiceTexts};
use crate::web::invoice::view::{self as view, Badge, BillTo, LineRow, Receipt, Totals};
use crate::web::payment::challenge::{self, ChallengeAnswer};

/// An invoice with everything its pages need.
pub(crate) struct Loaded {
    pub(crate) invoice: Invoice,
    pub(crate) company: Company,
    /// `None` only when the customer row is gone; the page then has no bill-to block.
    pub(crate) customer: Option<Customer>,
    pub(crate) locale: Locale,
    /// The language picked with `?lang=`, kept on the page's links and forms.
    pub(crate) chosen: Option<Locale>,
    /// The newest attempt for the amount due that waits for the customer's bank.
    waiting_payment_id: Option<String>,
    /// The newest succeeded payment: (id, amount), for the receipt.
    paid_by: Option<(String, i64)>,
}

impl Loaded {
    pub(crate) fn t(&self) -> &'static Texts {
        i18n::texts(self.locale)
    }
    fn it(&self) -> &'static InvoiceTexts {
        ii18n::texts(self.locale)
    }
    pub(crate) fn merchant(&self) -> Merchant {
        // An invoice has no session options: no "back to shop" link, the company's branding only.
        Merchant::new(&self.company, &Options::default(), self.locale)
    }
    /// `?lang=xx` when the visitor chose a language, else nothing.
    fn lang_query(&self) -> String {
        self.chosen.map(|l| format!("?lang={}", l.code())).unwrap_or_default()
    }
    pub(crate) fn url(&self) -> String {
        format!("/invoices/{}{}", self.invoice.token, self.lang_query())
    }
    fn pay_url(&self) -> String {
        format!("/invoices/{}/pay{}", self.invoice.token, self.lang_query())
    }
    /// Money in the invoice's currency; `None` for a currency code we cannot read (corrupt row).
    fn currency(&self) -> Option<Currency> {
        Currency::parse(&self.invoice.currency).ok()
    }
}

/// The language a query string picks with `lang=`; anything unreadable is no choice at all.
fn chosen_locale(query: Option<&str>) -> Option<Locale> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Locale::parse(v))
}

/// The invoice behind `token`, its company and customer, and the page language.
pub(crate) async fn load(
    state: &AppState,
    token: &str,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Loaded, Response> {
    well_formed(token)?;
    let page = db::billing::invoice_page(&state.db, token).await.found()?;
    let db::billing::InvoicePage { invoice, company, customer, waiting_payment_id, paid_by } = page;
    let chosen = chosen_locale(query);
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let locale = Locale::negotiate(chosen.map(Locale::code), accept);
    Ok(Loaded { invoice, company, customer, locale, chosen, waiting_payment_id, paid_by })
}

/// A link of the language switcher.
pub struct LangLink {
    pub href: String,
    pub code: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The card form, when the invoice can be paid on the page.
pub struct PayForm {
    pub action: String,
    /// Card fields on this page (sandbox); otherwise the card goes into Stripe's element next.
    pub card: bool,
    pub test_mode: bool,
    pub button: String,
    /// An earlier attempt waiting for the customer's bank: where they confirm it.
    pub waiting: Option<String>,
    /// The amount due this page shows, posted back with Pay (`web::shown_total`).
    pub shown_amount: i64,
    pub shown_currency: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "invoice/page.html")]
struct PageTemplate {
    t: &'static Texts,
    it: &'static InvoiceTexts,
    lang: &'static str,
    nonce: String,
    csrf: String,
    merchant: Merchant,
    languages: Vec<LangLink>,
    heading: String,
    number: String,
    issued: String,
    due: Option<String>,
    badge: Badge,
    /// "Payment was due on …", under an overdue badge.
    overdue_note: Option<String>,
    bill_to: BillTo,
    lines: Vec<LineRow>,
    totals: Totals,
    /// Plain text: escaped by the template, line breaks kept by CSS.
    instructions: Option<String>,
    notes: Option<String>,
    pay: Option<PayForm>,
    form: FormView,
    receipt: Option<Receipt>,
    void: bool,
    /// OPEN with nothing left to pay (a 100 % discount settled elsewhere).
    nothing_due: bool,
    alert: Option<String>,
    /// (field id, message) for the error summary.
    errors: Vec<(String, String)>,
}

/// What a page is rendered with beyond the invoice as loaded.
struct PageInput {
    form: FormView,
    alert: Option<String>,
    status: StatusCode,
}

impl PageInput {
    fn new() -> PageInput {
        PageInput { form: FormView::default(), alert: None, status: StatusCode::OK }
    }
    /// The page with an alert saying why a payment did not go through.
    fn refused(form: FormView, message: String, status: StatusCode) -> PageInput {
        PageInput { form, alert: Some(message), status }
    }
}

async fn render(state: &AppState, loaded: &Loaded, input: PageInput, csrf: String, nonce: String) -> Response {
    let (t, it, locale) = (loaded.t(), loaded.it(), loaded.locale);
    let invoice = &loaded.invoice;
    let Some(currency) = loaded.currency() else {
        return server_error(format!("invoice {} has an unreadable currency", invoice.id));
    };
    let open = invoice.status == InvoiceStatus::Open.as_str();
    let overdue = view::is_overdue(invoice, state.clock.now());
    let (lines, discounts) = view::lines(&invoice.lines, currency, locale, t);
    // The payments the page names were read with the invoice: the one that paid it (the
    // receipt) and an attempt for the amount due waiting for the customer's bank (linked).
    let paid_by = loaded.paid_by.as_ref().map(|(id, amount)| (id.as_str(), *amount));
    let receipt =
        (invoice.status == InvoiceStatus::Paid.as_str()).then(|| view::receipt(invoice, paid_by, currency, locale));
    let waiting = (open && invoice.amount_due > 0)
        .then_some(loaded.waiting_payment_id.as_ref())
        .flatten()
        .map(|id| format!("/invoices/{}/challenge/{id}{}", invoice.token, loaded.lang_query()));
    let provider = invoicing::provider_of(state, invoice, Some(&loaded.company));
    let pay = match provider.prepare(invoice.amount_due, &invoice.currency) {
        PagePayment::CardForm { test_mode } if open && invoice.amount_due > 0 => Some(PayForm {
            action: loaded.pay_url(),
            card: true,
            test_mode,
            button: view::pay_button(invoice, currency, locale),
            waiting: waiting.clone(),
            shown_amount: invoice.amount_due,
            shown_currency: invoice.currency.clone(),
        }),
        PagePayment::Element if open && invoice.amount_due > 0 => Some(PayForm {
            action: loaded.pay_url(),
            card: false,
            test_mode: false,
            button: view::pay_button(invoice, currency, locale),
            waiting,
            shown_amount: invoice.amount_due,
            shown_currency: invoice.currency.clone(),
        }),
        _ => None,
    };
    // Errors only while the form is on the page (a payment may have closed the invoice meanwhile).
    let errors = if pay.is_some() { view::card_errors(&input.form, t) } else { Vec::new() };
    let languages = Locale::ALL
        .into_iter()
        .map(|l| LangLink {
            href: format!("/invoices/{}?lang={}", invoice.token, l.code()),
            code: l.code(),
            label: l.name(),
            current: l == locale,
        })
        .collect();
    let page = PageTemplate {
        t,
        it,
        lang: locale.code(),
        nonce,
        csrf,
        merchant: loaded.merchant(),
        languages,
        heading: ii18n::invoice_heading(locale, &invoice.number),
        number: invoice.number.clone(),
        issued: i18n::date(locale, invoice.issued_at),
        due: invoice.due_at.map(|at| i18n::date(locale, at)),
        badge: view::badge(invoice, it, overdue),
        overdue_note: invoice.due_at.filter(|_| overdue).map(|at| ii18n::was_due_on(locale, at)),
        bill_to: loaded.customer.as_ref().map(|c| view::bill_to(c, locale)).unwrap_or_default(),
        lines,
        totals: view::totals(invoice, discounts, currency, locale, it),
        // How to pay is for an invoice still to be paid: on a paid or void one it would only
        // invite a second transfer.
        instructions: invoice.payment_instructions.clone().filter(|s| open && !s.trim().is_empty()),
        notes: invoice.notes.clone().filter(|s| !s.trim().is_empty()),
        nothing_due: open && invoice.amount_due <= 0,
        pay,
        form: input.form,
        receipt,
        void: invoice.status == InvoiceStatus::Void.as_str(),
        alert: input.alert,
        errors,
    };
    let status = if page.errors.is_empty() || !input.status.is_success() {
        input.status
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (status, page).into_response()
}

/// `GET /invoices/{token}`: the invoice, with the card form while it is open.
pub(crate) async fn show(page: PageCtx, Path(token): Path<String>, RawQuery(query): RawQuery) -> PageResult {
    let loaded = load(&page.state, &token, &page.headers, query.as_deref()).await?;
    let (csrf_token, cookie) = page.csrf();
    Ok(with_cookie(render(&page.state, &loaded, PageInput::new(), csrf_token, page.nonce).await, cookie))
}

/// `GET /invoices/{token}/pay`: nothing to do here but go to the page.
pub(crate) async fn back_to_page(page: PageCtx, Path(token): Path<String>, RawQuery(query): RawQuery) -> PageResult {
    let loaded = load(&page.state, &token, &page.headers, query.as_deref()).await?;
    Ok(Redirect::to(&loaded.url()).into_response())
}

/// `POST /invoices/{token}/pay`: check the card fields, then charge the amount due once.
pub(crate) async fn pay(
    page: PageCtx,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let PageCtx { state, nonce, headers } = &page;
    let loaded = load(state, &token, headers, query.as_deref()).await?;
    let fields = page.checked_form(pairs, loaded.locale, loaded.merchant())?;
    let invoice = &loaded.invoice;
    // Paid, voided or settled meanwhile (a second tab): the page says what it is now.
    if invoice.status != InvoiceStatus::Open.as_str() || invoice.amount_due <= 0 {
        return Ok(Redirect::to(&loaded.url()).into_response());
    }
    let (csrf_token, cookie) = page.csrf();
    let mut form = FormView::default();
    // The card number (and the security code) are never written back into a page: the customer
    // types them again, as on the checkout page.
    form.set("card_expiry", fields.get("card_expiry").map(|s| s.trim()));
    let provider = invoicing::provider_of(state, invoice, Some(&loaded.company));
    let card_on_page = provider.kind() == crate::payments::ProviderKind::Sandbox;
    if card_on_page {
        crate::web::payment::card::check_card(&fields, &mut form, loaded.t(), state.clock.now());
    }
    if form.has_errors() {
        let input = PageInput { form, alert: None, status: StatusCode::UNPROCESSABLE_ENTITY };
        return Ok(with_cookie(render(state, &loaded, input, csrf_token, nonce.clone()).await, cookie));
    }
    let field = |name: &str| fields.get(name).map(|s| s.trim().to_string()).unwrap_or_default();
    let card = CardInput { number: field("card_number"), expiry: field("card_expiry"), cvc: field("card_cvc") };
    let shown = crate::web::payment::shown_total::amount(&fields);
    let paid = invoicing::pay(state, invoice, PayWith::Card(&card, shown)).await;
    let response = outcome(state, &loaded, paid, form, csrf_token, nonce.clone(), |reason| {
        // The provider's reason, then what to do about it (as the checkout page says it).
        format!("{reason} {}.", loaded.t().try_another_card)
    })
    .await;
    Ok(with_cookie(response, cookie))
}

/// Where a payment attempt leaves the customer: on the page (with the receipt once paid), at their
/// bank, or back at the form with why it did not go through.
async fn outcome(
    state: &AppState,
    loaded: &Loaded,
    paid: ServiceResult<Paid>,
    form: FormView,
    csrf: String,
    nonce: String,
    declined: impl FnOnce(&str) -> String,
) -> Response {
    let it = loaded.it();
    let input = match paid {
        // Post/redirect/get: a reload shows the receipt instead of paying again.
        Ok(Paid::Paid(_) | Paid::NotOpen(_)) => return Redirect::to(&loaded.url()).into_response(),
        Ok(Paid::AmountChanged(invoice)) => return amount_changed(state, loaded, invoice, form, csrf, nonce).await,
        Ok(Paid::RequiresAction { url }) => {
            return Redirect::to(&format!("{url}{}", loaded.lang_query())).into_response();
        }
        Ok(Paid::Failed { reason }) => PageInput::refused(form, declined(&reason), StatusCode::PAYMENT_REQUIRED),
        Ok(Paid::Busy) => PageInput::refused(form, it.payment_in_progress.to_string(), StatusCode::CONFLICT),
        Ok(Paid::Unavailable) => {
            PageInput::refused(form, it.provider_unavailable.to_string(), StatusCode::SERVICE_UNAVAILABLE)
        }
        Err(e) if e.refusal == Refusal::NotFound => return not_found(),
        Err(e) => return server_error(e.message),
    };
    render(state, loaded, input, csrf, nonce).await
}

/// The amount due moved since the page was shown: nothing was charged; the page as it is now says so.
async fn amount_changed(
    state: &AppState,
    loaded: &Loaded,
    invoice: Invoice,
    form: FormView,
    csrf: String,
    nonce: String,
) -> Response {
    let amount = Currency::parse(&invoice.currency)
        .map(|c| crate::i18n::format::money(invoice.amount_due, c, loaded.locale))
        .unwrap_or_default();
    let alert = i18n::total_changed(loaded.locale, &amount);
    // The payments the page names go with the amount due: read them again with it (a rare page).
    let (waiting_payment_id, paid_by) = match db::billing::invoice_page(&state.db, &invoice.token).await {
        Ok(Some(fresh)) => (fresh.waiting_payment_id, fresh.paid_by),
        _ => (None, None),
    };
    let now = Loaded {
        invoice,
        company: loaded.company.clone(),
        customer: loaded.customer.clone(),
        locale: loaded.locale,
        chosen: loaded.chosen,
        waiting_payment_id,
        paid_by,
    };
    render(state, &now, PageInput::refused(form, alert, StatusCode::CONFLICT), csrf, nonce).await
}

/// The payment behind a challenge URL, when it is one of this invoice's.
pub(crate) async fn invoice_payment(
    state: &AppState,
    loaded: &Loaded,
    payment_id: &str,
) -> Result<db::billing::Payment, Response> {
    if !ids::has_prefix(payment_id, prefix::PAYMENT) {
        return Err(not_found());
    }
    let payment = db::billing::get_payment(&state.db, payment_id).await.map_err(server_error)?;
    payment.filter(|p| p.invoice_id.as_deref() == Some(loaded.invoice.id.as_str())).ok_or_else(not_found)
}

/// `GET /invoices/{token}/challenge/{payment_id}`: the bank asks the customer to confirm.
pub(crate) async fn challenge(
    page: PageCtx,
    Path((token, payment_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let loaded = load(&page.state, &token, &page.headers, query.as_deref()).await?;
    let payment = invoice_payment(&page.state, &loaded, &payment_id).await?;
    // Answered already, or the invoice closed: the page says where it stands.
    if payment.status != PaymentStatus::RequiresAction.as_str() || loaded.invoice.status != InvoiceStatus::Open.as_str()
    {
        return Ok(Redirect::to(&loaded.url()).into_response());
    }
    #[cfg(feature = "stripe")]
    if payment.provider == crate::payments::ProviderKind::Stripe.as_str() {
        let place = invoice_place(&loaded, &payment);
        return Ok(crate::web::payment::stripe_step::page(&page.state, place, &payment, page.nonce, None).await);
    }
    let action = format!("/invoices/{}/challenge/{}{}", token, payment.id, loaded.lang_query());
    Ok(challenge::page(&page, (loaded.t(), loaded.locale), loaded.merchant(), &payment, action))
}

/// `POST /invoices/{token}/challenge/{payment_id}`: the customer's answer.
pub(crate) async fn answer_challenge(
    page: PageCtx,
    Path((token, payment_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    Form(answer): Form<ChallengeAnswer>,
) -> PageResult {
    let PageCtx { state, nonce, headers } = &page;
    let loaded = load(state, &token, headers, query.as_deref()).await?;
    page.check_csrf(answer.csrf.as_deref(), loaded.locale, loaded.merchant())?;
    let payment = invoice_payment(state, &loaded, &payment_id).await?;
    let (csrf_token, cookie) = page.csrf();
    let paid = invoicing::answer_challenge(state, &loaded.invoice, &payment.id, answer.approved()).await;
    let locale = loaded.locale;
    let response = outcome(state, &loaded, paid, FormView::default(), csrf_token, nonce.clone(), |reason| {
        i18n::payment_declined(locale, reason)
    })
    .await;
    Ok(with_cookie(response, cookie))
}

#[cfg(feature = "stripe")]
pub(crate) fn invoice_place(
    loaded: &Loaded,
    payment: &crate::db::billing::Payment,
) -> crate::web::payment::stripe_step::Place {
    crate::web::payment::stripe_step::Place {
        merchant: loaded.merchant(),
        locale: loaded.locale,
        back_url: loaded.url(),
        step_path: format!("/invoices/{}/challenge/{}", loaded.invoice.token, payment.id),
        manual: loaded.invoice.payment_instructions.clone().filter(|s| !s.trim().is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_comes_from_lang_in_the_query_and_nothing_else() {
        assert_eq!(chosen_locale(Some("lang=de")), Some(Locale::De));
        assert_eq!(chosen_locale(Some("x=1&lang=de-AT")), Some(Locale::De));
        assert_eq!(chosen_locale(Some("lang=en&lang=de")), Some(Locale::En));
        assert_eq!(chosen_locale(Some("lang=fr")), None);
        assert_eq!(chosen_locale(Some("language=de")), None);
        assert_eq!(chosen_locale(Some("lang")), None);
        assert_eq!(chosen_locale(None), None);
    }
}
