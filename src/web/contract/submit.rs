//! `POST /contracts/{token}`: a signer's `update` of the quantities (the first signatory, before
//! anyone signs), `sign` and `decline`. Errors re-render the page (`web::contract`) with what was
//! typed; success is post/redirect/get, or the completion action after the last signature.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Path};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::db::{self};
use crate::domain::contract::Turn;
use crate::i18n;
use crate::services::checkout::{self as session, CompletionAction, Entered};
use crate::services::contracts::{self as signing, Actor, Refusal, SignInput, Signed};
use crate::state::AppState;
use crate::web::checkout::page::quantity_key;
use crate::web::context::{PageCtx, PageResult, with_cookie};
use crate::web::contract::i18n::ContractTexts;
use crate::web::contract::page::{Loaded, PageInput, actor, load, render};
use crate::web::contract::view::{SignForm, posted_quantities, redirect_with_id, signature_image};
use crate::web::errors::{not_found, server_error};

/// What a request needs to answer with a page.
struct Request<'a> {
    state: &'a AppState,
    token: &'a str,
    headers: &'a HeaderMap,
    actor: Actor,
    csrf: String,
    nonce: String,
}

impl Request<'_> {
    async fn page(self, loaded: &Loaded, view: PageInput) -> Response {
        render(self.state, loaded, view, self.csrf, self.nonce, false).await
    }
}

/// `POST /contracts/{token}`: `update` the quantities, `sign`, or `decline`.
pub(crate) async fn submit(
    page: PageCtx,
    Path(token): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let PageCtx { state, nonce, headers } = &page;
    let loaded = load(state, &token, headers).await?;
    let fields = page.checked_form(pairs, loaded.locale(), loaded.merchant())?;
    let (csrf_token, cookie) = page.csrf();
    let request = Request {
        state,
        token: &token,
        headers,
        actor: actor(state, peer, headers),
        csrf: csrf_token,
        nonce: nonce.clone(),
    };
    let response = match fields.get("action").map(String::as_str) {
        Some("sign") => sign(request, loaded, &fields).await,
        Some("decline") => decline(request, loaded, &fields).await,
        Some("update") => update(request, loaded, &fields).await,
        _ => Redirect::to(&loaded.url()).into_response(),
    };
    Ok(with_cookie(response, cookie))
}

/// Why this signer cannot sign or decline now, as the page says it; `None` when they can. Checked
/// before the form, so an early or late post is told why instead of getting field errors for a
/// form that is not on the page; `services::contracts` checks again under the contract's lock.
fn cannot_act(loaded: &Loaded) -> Option<&'static str> {
    let ct = loaded.ct();
    let Some(signer) = &loaded.signer else { return Some(ct.not_signing) };
    if !loaded.contract.status().is_signing() {
        return Some(ct.not_signing);
    }
    if signer.declined_at.is_some() {
        return Some(ct.already_declined);
    }
    match loaded.turn() {
        Some(Turn::Now) => None,
        Some(Turn::Done) => Some(ct.already_signed),
        _ => Some(ct.not_your_turn),
    }
}

/// The message for a quantity the order refuses: its allowed range when we know it.
fn range_message(loaded: &Loaded, key: &str) -> String {
    session::adjustable(&loaded.checkout.parsed.order)
        .iter()
        .find(|a| a.key == key)
        .map(|a| i18n::quantity_range(loaded.locale(), a.min, a.max))
        .unwrap_or_else(|| loaded.checkout.t().invalid_quantity.to_string())
}

/// The quantities as saved, with what was posted on top: what the page shows back.
fn typed_quantities(loaded: &Loaded, posted: &BTreeMap<String, i64>) -> Entered {
    let mut typed = loaded.checkout.parsed.entered.clone();
    typed.quantities.extend(posted.iter().map(|(k, v)| (k.clone(), *v)));
    typed
}

/// `action=update`: the first signatory changes the adjustable quantities before anyone signs.
async fn update(request: Request<'_>, loaded: Loaded, fields: &HashMap<String, String>) -> Response {
    let locale = loaded.locale();
    let mut view = PageInput { form: SignForm::posted(fields), ..PageInput::new(&loaded) };
    let may_change = cannot_act(&loaded).is_none()
        && loaded.signer.as_ref().is_some_and(|s| signing::may_change_quantities(&loaded.signers, &s.id));
    if !may_change {
        return request.page(&loaded, view.refused(loaded.ct().quantities_locked, StatusCode::CONFLICT)).await;
    }
    let c = &loaded.checkout;
    let (posted, mut errors) = posted_quantities(fields, &session::adjustable(&c.parsed.order), locale);
    let entered = typed_quantities(&loaded, &posted);
    let mut priced = None;
    if errors.is_empty() {
        match session::price(request.state, &c.session, &c.parsed.order, &entered).await {
            Ok(p) => priced = Some(p),
            Err(e) => match quantity_key(&e, &c.parsed) {
                Some(key) => {
                    errors.insert(key.clone(), range_message(&loaded, &key));
                }
                None if e.is_refusal() => {
                    let view = view.refused(loaded.ct().order_refused, StatusCode::UNPROCESSABLE_ENTITY);
                    return request.page(&loaded, view).await;
                }
                None => return server_error(e.message),
            },
        }
    }
    if !errors.is_empty() {
        view.typed = Some(entered);
        view.quantity_errors = errors;
        view.status = StatusCode::UNPROCESSABLE_ENTITY;
        return request.page(&loaded, view).await;
    }
    let json = match serde_json::to_string(&entered) {
        Ok(j) => j,
        Err(e) => return server_error(e),
    };
    match db::checkouts::save_entered(&request.state.db, &c.session.id, &json, request.state.clock.now()).await {
        Ok(true) => {}
        // The session closed meanwhile: the page shows how it is now.
        Ok(false) => return Redirect::to(&loaded.url()).into_response(),
        Err(e) => return server_error(e),
    }
    // The merchant's ACV and TCV follow the quantities the customer is about to sign.
    if let Some(p) = priced
        && let Err(e) = signing::reprice(request.state, &loaded.contract, &p.quote).await
    {
        return server_error(e.message);
    }
    Redirect::to(&loaded.url()).into_response()
}

/// `action=sign`.
async fn sign(request: Request<'_>, loaded: Loaded, fields: &HashMap<String, String>) -> Response {
    let locale = loaded.locale();
    let Some(signer) = loaded.signer.clone() else { return not_found() };
    let mut view = PageInput { form: SignForm::posted(fields), ..PageInput::new(&loaded) };
    if let Some(message) = cannot_act(&loaded) {
        return request.page(&loaded, view.refused(message, StatusCode::CONFLICT)).await;
    }
    view.form.check_signature(locale);
    let adjustable = if signing::may_change_quantities(&loaded.signers, &signer.id) {
        session::adjustable(&loaded.checkout.parsed.order)
    } else {
        Vec::new()
    };
    let (posted, quantity_errors) = posted_quantities(fields, &adjustable, locale);
    if !view.form.errors.is_empty() || !quantity_errors.is_empty() {
        view.typed = Some(typed_quantities(&loaded, &posted));
        view.quantity_errors = quantity_errors;
        view.status = StatusCode::UNPROCESSABLE_ENTITY;
        return request.page(&loaded, view).await;
    }
    // Only quantities that differ are a change: re-sending the saved ones must not be refused
    // because someone else signed meanwhile and froze the order.
    // Compared with what the page showed: the saved quantity, else the order's own.
    let parsed = &loaded.checkout.parsed;
    let shown = session::with_quantities(&parsed.order, &parsed.entered);
    let shown_quantity = |key: &str| {
        shown
            .config_items
            .iter()
            .find(|c| session::config_key(&shown, c).as_deref() == Some(key))
            .and_then(|c| c.num_licenses)
    };
    let changed: BTreeMap<String, i64> =
        posted.iter().filter(|(k, v)| shown_quantity(k) != Some(**v)).map(|(k, v)| (k.clone(), *v)).collect();
    // Nobody signs a total they have not seen: a changed quantity is shown first (Update).
    if !changed.is_empty() {
        view.typed = Some(typed_quantities(&loaded, &posted));
        return request
            .page(&loaded, view.refused(loaded.ct().quantities_unreviewed, StatusCode::UNPROCESSABLE_ENTITY))
            .await;
    }
    let form = &view.form;
    let input = SignInput {
        name: &form.name,
        title: Some(form.title.as_str()).filter(|t| !t.is_empty()),
        // Checked above by `check_signature`.
        image: signature_image(&form.image).ok().flatten(),
        document_hash: fields.get("document_hash").map(String::as_str).unwrap_or(""),
    };
    match signing::sign(request.state, &loaded.contract, &signer, input, &request.actor).await {
        Ok(Signed::Waiting) => Redirect::to(&loaded.url()).into_response(),
        Ok(Signed::Payment) => Redirect::to(&format!("/checkout/{}", loaded.checkout.session.token)).into_response(),
        Ok(Signed::Completed) => completed(&loaded),
        Err(Refusal::Quantities(e)) => {
            let Some(key) = quantity_key(&e, &loaded.checkout.parsed) else {
                return refused(request, view, loaded.ct().order_refused, StatusCode::UNPROCESSABLE_ENTITY).await;
            };
            view.quantity_errors.insert(key.clone(), range_message(&loaded, &key));
            view.typed = Some(typed_quantities(&loaded, &posted));
            view.status = StatusCode::UNPROCESSABLE_ENTITY;
            request.page(&loaded, view).await
        }
        Err(Refusal::Failed(e)) => server_error(e.message),
        Err(r) => refused(request, view, refusal_message(loaded.ct(), &r), StatusCode::CONFLICT).await,
    }
}

/// `action=decline`: a reason is required.
async fn decline(request: Request<'_>, loaded: Loaded, fields: &HashMap<String, String>) -> Response {
    let Some(signer) = loaded.signer.clone() else { return not_found() };
    let mut view = PageInput { form: SignForm::posted(fields), ..PageInput::new(&loaded) };
    if let Some(message) = cannot_act(&loaded) {
        return request.page(&loaded, view.refused(message, StatusCode::CONFLICT)).await;
    }
    view.form.check_decline(loaded.locale());
    if !view.form.errors.is_empty() {
        view.status = StatusCode::UNPROCESSABLE_ENTITY;
        return request.page(&loaded, view).await;
    }
    match signing::decline(request.state, &loaded.contract, &signer, &view.form.reason, &request.actor).await {
        Ok(()) => Redirect::to(&loaded.url()).into_response(),
        Err(Refusal::Failed(e)) => server_error(e.message),
        Err(r) => refused(request, view, refusal_message(loaded.ct(), &r), StatusCode::CONFLICT).await,
    }
}

/// A refused signature or decline: the page as it is now, with why, keeping what was typed.
async fn refused(request: Request<'_>, view: PageInput, message: &str, status: StatusCode) -> Response {
    match load(request.state, request.token, request.headers).await {
        Ok(loaded) => request.page(&loaded, view.refused(message, status)).await,
        Err(page) => page,
    }
}

fn refusal_message(ct: &ContractTexts, refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::NotSigning(_) => ct.not_signing,
        Refusal::NotYourTurn => ct.not_your_turn,
        Refusal::AlreadySigned => ct.already_signed,
        Refusal::AlreadyDeclined => ct.already_declined,
        Refusal::DocumentChanged => ct.document_changed,
        Refusal::Quantities(_) | Refusal::Failed(_) => ct.order_refused,
    }
}

/// The completion action after the last signature fulfilled the order.
fn completed(loaded: &Loaded) -> Response {
    let options = &loaded.checkout.parsed.options;
    match (options.completion_action, &options.redirect_url) {
        (CompletionAction::Redirect, Some(url)) => {
            Redirect::to(&redirect_with_id(url, &loaded.contract.id)).into_response()
        }
        _ => Redirect::to(&loaded.url()).into_response(),
    }
}
