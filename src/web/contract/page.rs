//! The signing page `GET/POST /contracts/{token}`: a signer reads the contract and its order,
//! sees who has signed, and signs or declines when it is their turn; and the sales rep's preview
//! `GET /preview/contract/{id}`. The certificate is `web::certificate`.
//!
//! Works without JavaScript: every button submits one form with an `action` value (`update`,
//! `sign`, `decline`); the drawn signature is the only part that needs a script, and it is
//! optional. The workflow itself (turns, hashes, freezing, fulfilment) is `services::contracts`.

use std::collections::HashMap;
use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, Path};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::db::contracts::{Contract, Signer};
use crate::db::{self};
use crate::domain::contract::{Status, Turn};
use crate::i18n::{Locale, Texts};
use crate::services::checkout::{self as session, Entered, Priced};
use crate::services::contracts::{self as signing, Actor};
use crate::state::AppState;
use crate::web::checkout::page::{self as checkout, quantity_key};
use crate::web::checkout::view::Merchant;
use crate::web::context::{Found, PageCtx, PageResult, Preview, as_preview, well_formed, with_cookie};
use crate::web::contract::i18n::{self as ci18n, ContractTexts};
use crate::web::contract::view::{OrderView, SignForm, SignerView, signer_views, waiting_note};
use crate::web::errors::server_error;

/// A contract with everything its pages need, as one signer sees it.
pub(crate) struct Loaded {
    /// The contract's checkout session with its order, options, company and the page language.
    pub(crate) checkout: checkout::Loaded,
    pub(crate) contract: Contract,
    /// Customer signatories first, then counter-signatories, each by position.
    pub(crate) signers: Vec<Signer>,
    /// Who is looking; `None` only in a preview of a contract without signers.
    pub(crate) signer: Option<Signer>,
}

impl Loaded {
    pub(crate) fn locale(&self) -> Locale {
        self.checkout.locale
    }
    pub(crate) fn ct(&self) -> &'static ContractTexts {
        ci18n::texts(self.locale())
    }
    pub(crate) fn merchant(&self) -> Merchant {
        self.checkout.merchant()
    }
    /// The signer's page; empty in a preview of a contract without signers.
    pub(crate) fn url(&self) -> String {
        self.signer.as_ref().map(|s| format!("/contracts/{}", s.token)).unwrap_or_default()
    }
    pub(crate) fn turn(&self) -> Option<Turn> {
        let signer = self.signer.as_ref()?;
        Some(signing::turn_of(&self.contract, &self.signers, &signer.id))
    }
}

/// The signer behind `token`, their contract (expired first when overdue), and the rest.
pub(crate) async fn load(state: &AppState, token: &str, headers: &HeaderMap) -> Result<Loaded, Response> {
    well_formed(token)?;
    let (contract, session, company) = db::contracts::by_signer_token_with_checkout(&state.db, token).await.found()?;
    let status = contract.status.clone();
    let contract = signing::refresh(state, contract).await.map_err(|e| server_error(e.message))?;
    if contract.status != status {
        // Expired just now: its checkout changed with it, so read it again.
        return load_contract(state, contract, Seen::Token(token), headers).await;
    }
    with_checkout(state, contract, checkout::with_company(session, company, headers)?, Seen::Token(token)).await
}

/// Whose page it is.
enum Seen<'a> {
    /// The signer with this page token.
    Token(&'a str),
    /// The contract's first signer (a sales rep's preview).
    First,
}

/// Everything around `contract`, as `seen` by one of its signers.
async fn load_contract(
    state: &AppState,
    contract: Contract,
    seen: Seen<'_>,
    headers: &HeaderMap,
) -> Result<Loaded, Response> {
    let (session, company) = db::checkouts::get_with_company(&state.db, &contract.company_id, &contract.checkout_id)
        .await
        .map_err(server_error)?
        .ok_or_else(|| server_error("contract without checkout"))?;
    let checkout = checkout::with_company(session, company, headers)?;
    with_checkout(state, contract, checkout, seen).await
}

/// The rest around `contract` once its checkout is loaded: its signers, and who is looking.
async fn with_checkout(
    state: &AppState,
    contract: Contract,
    checkout: checkout::Loaded,
    seen: Seen<'_>,
) -> Result<Loaded, Response> {
    let signers = db::contracts::signers_with_views(&state.db, &contract.id).await.map_err(server_error)?;
    let signer = match seen {
        Seen::Token(token) => signers.iter().find(|s| s.token == token).cloned(),
        Seen::First => signers.first().cloned(),
    };
    Ok(Loaded { checkout, contract, signers, signer })
}

/// Price the contract's order as saved. Quantities the order refuses (the catalog changed under
/// it) are left out and reported by key; an order that cannot be priced at all is `None`, and the
/// page says so instead of failing: the document stays readable.
pub(crate) async fn price_order(
    state: &AppState,
    loaded: &Loaded,
    errors: &mut HashMap<String, String>,
) -> Result<Option<Priced>, Response> {
    let c = &loaded.checkout;
    let mut entered = c.parsed.entered.clone();
    for _ in 0..=entered.quantities.len() {
        match session::price(state, &c.session, &c.parsed.order, &entered).await {
            Ok(p) => return Ok(Some(p)),
            Err(e) => match quantity_key(&e, &c.parsed) {
                Some(key) if entered.quantities.remove(&key).is_some() => {
                    errors.entry(key).or_insert_with(|| c.t().invalid_quantity.to_string());
                }
                _ if e.is_refusal() => {
                    tracing::warn!(contract = %loaded.contract.id, error = %e.message, "contract order cannot be priced");
                    return Ok(None);
                }
                _ => return Err(server_error(e.message)),
            },
        }
    }
    Ok(None)
}

/// Who did something, for the audit trail.
pub(crate) fn actor(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> Actor {
    Actor {
        ip: Some(crate::web::client::ip(state, peer, headers).to_string()),
        user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string),
    }
}

/// The banner under the title: where the contract stands for this signer.
pub struct Notice {
    pub text: String,
    /// CSS class: `info`, `ok` or `closed`.
    pub kind: &'static str,
    pub detail: Option<String>,
    pub link: Option<Link>,
}

/// A link after the notice's text.
pub struct Link {
    pub href: String,
    pub label: String,
    /// Shown as the page's primary button.
    pub primary: bool,
}

impl Link {
    fn new(href: String, label: &str, primary: bool) -> Link {
        Link { href, label: label.to_string(), primary }
    }
}

/// The ESIGN/UETA-style disclosure above the consent box.
pub struct Disclosure {
    pub paper: String,
    pub withdraw_before: String,
    pub email: Option<String>,
    pub withdraw_after: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "contract/page.html")]
struct PageTemplate {
    t: &'static Texts,
    ct: &'static ContractTexts,
    lang: &'static str,
    nonce: String,
    csrf: String,
    /// The form's target; empty in a preview, so the signer's token never appears in it.
    action: String,
    preview: bool,
    merchant: Merchant,
    title: String,
    /// The rendered document: HTML already escaped by `domain::document::render`.
    content: String,
    notice: Notice,
    errors: Vec<(String, String)>,
    alert: Option<String>,
    order: Option<OrderView>,
    customers: Vec<SignerView>,
    counters: Vec<SignerView>,
    certificate_url: Option<String>,
    /// The signing form, when it is this signer's turn.
    form: Option<SignForm>,
    document_hash: String,
    disclosure: Disclosure,
}

/// What a page is rendered with beyond the contract as loaded.
pub(crate) struct PageInput {
    pub(crate) form: SignForm,
    /// Quantities as typed, when they differ from the saved ones (a page with errors).
    pub(crate) typed: Option<Entered>,
    pub(crate) quantity_errors: HashMap<String, String>,
    pub(crate) alert: Option<String>,
    pub(crate) status: StatusCode,
}

impl PageInput {
    pub(crate) fn new(loaded: &Loaded) -> PageInput {
        PageInput {
            form: loaded.signer.as_ref().map(SignForm::for_signer).unwrap_or_default(),
            typed: None,
            quantity_errors: HashMap::new(),
            alert: None,
            status: StatusCode::OK,
        }
    }

    /// The page with an alert saying why a request was refused.
    pub(crate) fn refused(self, message: &str, status: StatusCode) -> PageInput {
        PageInput { alert: Some(message.to_string()), status, ..self }
    }
}

/// The banner for the contract's status as `loaded.signer` sees it. A preview shows a draft as
/// its first signer will see it once sent.
fn notice(loaded: &Loaded, signing_now: bool, preview: bool) -> Notice {
    let locale = loaded.locale();
    let ct = loaded.ct();
    let plain = |text: &str, kind| Notice { text: text.to_string(), kind, detail: None, link: None };
    let certificate =
        || (!preview).then(|| Link::new(format!("{}/certificate", loaded.url()), ct.certificate_link, false));
    let me = loaded.signer.as_ref();
    match loaded.contract.status() {
        Status::Draft if !signing_now => plain(ct.not_ready, "info"),
        _ if signing_now => {
            Notice { link: Some(Link::new("#sign".into(), ct.go_to_signing, false)), ..plain(ct.your_turn, "info") }
        }
        Status::Draft | Status::PendingSignatures | Status::PendingCounterSignature => match me {
            Some(me) => match me.signed_at {
                Some(at) => Notice { link: certificate(), ..plain(&ci18n::you_signed_on(locale, at), "ok") },
                None => plain(&waiting_note(&loaded.signers, me, loaded.contract.sequential, locale), "info"),
            },
            None => plain(ct.not_ready, "info"),
        },
        Status::PendingPayment => Notice {
            detail: Some(ct.any_signatory_may_pay.to_string()),
            // A preview never links to the customer's checkout: its token would pay the real order.
            link: (!preview).then(|| {
                Link::new(format!("/checkout/{}", loaded.checkout.session.token), ct.continue_to_payment, true)
            }),
            ..plain(ct.all_signed, "ok")
        },
        // The merchant's confirmation message, and in any case that the contract is complete.
        Status::Complete => match loaded.checkout.parsed.options.confirmation_message.as_deref() {
            Some(message) => {
                Notice { detail: Some(ct.complete.to_string()), link: certificate(), ..plain(message, "ok") }
            }
            None => Notice { link: certificate(), ..plain(ct.complete_default, "ok") },
        },
        Status::Declined => {
            let by = loaded.signers.iter().find_map(|s| Some((s, s.declined_at?)));
            let text = match by {
                Some((s, at)) if me.is_some_and(|me| me.id == s.id) => ci18n::you_declined(locale, at),
                Some((s, at)) => ci18n::declined_by(locale, &s.name, at),
                None => ct.status_declined.to_string(),
            };
            plain(&text, "closed")
        }
        Status::Expired => plain(ct.expired, "closed"),
        Status::Void => plain(ct.void, "closed"),
    }
}

pub(crate) async fn render(
    state: &AppState,
    loaded: &Loaded,
    view: PageInput,
    csrf: String,
    nonce: String,
    preview: bool,
) -> Response {
    let locale = loaded.locale();
    let ct = loaded.ct();
    let status = loaded.contract.status();
    let turn_now = loaded.turn() == Some(Turn::Now);
    // A preview of a draft shows the form its first signer will get once it is sent.
    let open = status.is_signing() || (preview && status == Status::Draft);
    let signing_now = open && turn_now && loaded.signer.as_ref().is_some_and(|s| s.declined_at.is_none());
    let me = loaded.signer.as_ref().map(|s| s.id.as_str());
    let adjustable = match me {
        Some(id) if signing_now && signing::may_change_quantities(&loaded.signers, id) => {
            session::adjustable(&loaded.checkout.parsed.order)
        }
        _ => Vec::new(),
    };
    let mut quantity_errors = view.quantity_errors;
    let priced = match price_order(state, loaded, &mut quantity_errors).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let typed = view.typed.as_ref().unwrap_or(&loaded.checkout.parsed.entered);
    let order = priced.map(|p| OrderView::new(&loaded.contract, &p, &adjustable, typed, &quantity_errors, locale));

    let mut errors: Vec<(String, String)> = Vec::new();
    for line in order.iter().flat_map(|o| &o.lines) {
        if let Some(q) = &line.input
            && let Some(e) = &q.error
        {
            errors.push((q.id.clone(), format!("{}: {e}", line.name)));
        }
    }
    // The form's errors only when the form is on the page (a refusal may have taken it away).
    if signing_now {
        errors.extend(view.form.summary(locale));
    }
    let (customers, counters) = signer_views(&loaded.signers, me, locale);
    let company = &loaded.checkout.company;
    let support = company.support_email.clone().filter(|e| !e.is_empty());
    let (withdraw_before, withdraw_after) = ci18n::withdraw_consent(locale, &company.name, support.as_deref());
    let notice = notice(loaded, signing_now, preview);
    // One link to the certificate per page: the notice's when it has one, else under the signers.
    let certificate_url = (status != Status::Draft && !preview)
        .then(|| format!("{}/certificate", loaded.url()))
        .filter(|url| notice.link.as_ref().is_none_or(|l| &l.href != url));
    let page = PageTemplate {
        t: loaded.checkout.t(),
        ct,
        lang: locale.code(),
        nonce,
        csrf,
        action: if preview { String::new() } else { loaded.url() },
        preview,
        merchant: loaded.merchant(),
        title: loaded.contract.title.clone(),
        content: loaded.contract.content.clone(),
        notice,
        errors,
        alert: view.alert,
        order,
        customers,
        counters,
        certificate_url,
        form: signing_now.then_some(view.form),
        document_hash: loaded.contract.document_hash.clone().unwrap_or_default(),
        disclosure: Disclosure {
            paper: ci18n::paper_copy(locale, &company.name),
            withdraw_before,
            email: support,
            withdraw_after,
        },
    };
    let code = if page.errors.is_empty() || !view.status.is_success() {
        view.status
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (code, page).into_response()
}

/// `GET /contracts/{token}`: the contract as this signer sees it; records that they opened it.
pub(crate) async fn show(
    page: PageCtx,
    Path(token): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> PageResult {
    let loaded = load(&page.state, &token, &page.headers).await?;
    if let Some(signer) = &loaded.signer
        && loaded.contract.status() != Status::Draft
    {
        // A view that cannot be recorded does not keep the signer from reading the contract.
        let actor = actor(&page.state, peer, &page.headers);
        if let Err(e) = signing::record_view(&page.state, &loaded.contract, signer, &actor).await {
            tracing::warn!(error = %e.message, contract = %loaded.contract.id, "recording a contract view failed");
        }
    }
    let (csrf_token, cookie) = page.csrf();
    let view = PageInput::new(&loaded);
    Ok(with_cookie(render(&page.state, &loaded, view, csrf_token, page.nonce, false).await, cookie))
}

/// `GET /preview/contract/{id}`: the page as its first signer sees it, for a sales rep. Nothing is
/// recorded (no view, not even an overdue expiry) and the form cannot be submitted.
pub(crate) async fn preview(Preview { page, id }: Preview) -> PageResult {
    let contract = db::contracts::by_id(&page.state.db, &id).await.found()?;
    let loaded = load_contract(&page.state, contract, Seen::First, &page.headers).await?;
    let view = PageInput::new(&loaded);
    Ok(as_preview(render(&page.state, &loaded, view, String::new(), page.nonce, true).await))
}
