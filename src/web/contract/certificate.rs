//! `GET /contracts/{token}/certificate`: a contract's signature certificate for any of its signers
//! — the SHA-256 of the frozen document, every audit-trail entry (UTC time, IP address, user agent,
//! signer), and the signed contract (document, order, one signature block per signer), laid out to
//! print. Opening it records nothing.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::response::IntoResponse;

use crate::db::{self};
use crate::domain::contract::Status;
use crate::i18n::Texts;
use crate::web::checkout::view::Merchant;
use crate::web::context::{PageCtx, PageResult, with_cookie};
use crate::web::contract::i18n::ContractTexts;
use crate::web::contract::page::{load, price_order};
use crate::web::contract::view::{EventRow, OrderView, SignatureBlock, event_rows, signature_blocks};
use crate::web::errors::{not_found, server_error};

#[derive(Template, WebTemplate)]
#[template(path = "contract/certificate.html")]
struct CertificateTemplate {
    t: &'static Texts,
    ct: &'static ContractTexts,
    lang: &'static str,
    nonce: String,
    merchant: Merchant,
    back_url: String,
    title: String,
    contract_id: String,
    status: &'static str,
    document_hash: String,
    events: Vec<EventRow>,
    /// The rendered document: HTML already escaped by `domain::document::render`.
    content: String,
    order: Option<OrderView>,
    signatures: Vec<SignatureBlock>,
    signed_offline: bool,
}

pub(crate) async fn show(PageCtx { state, nonce, headers }: PageCtx, Path(token): Path<String>) -> PageResult {
    let loaded = load(&state, &token, &headers).await?;
    let contract = &loaded.contract;
    // A draft has no frozen document and nothing to certify yet.
    if contract.status() == Status::Draft {
        return Err(not_found().into());
    }
    let events = db::contracts::events_of(&state.db, &[contract.id.as_str()], None).await.map_err(server_error)?;
    let mut quantity_errors = HashMap::new();
    let priced = price_order(&state, &loaded, &mut quantity_errors).await?;
    let locale = loaded.locale();
    let ct = loaded.ct();
    let entered = &loaded.checkout.parsed.entered;
    let page = CertificateTemplate {
        t: loaded.checkout.t(),
        ct,
        lang: locale.code(),
        nonce,
        merchant: loaded.merchant(),
        back_url: format!("/contracts/{token}"),
        title: contract.title.clone(),
        contract_id: contract.id.clone(),
        status: ct.status_name(contract.status()),
        document_hash: contract.document_hash.clone().unwrap_or_default(),
        events: event_rows(&events, &loaded.signers, ct),
        content: contract.content.clone(),
        order: priced.map(|p| OrderView::new(contract, &p, &[], entered, &HashMap::new(), locale)),
        signatures: signature_blocks(&loaded.signers, locale),
        signed_offline: contract.signed_offline,
    };
    // Per-contract data: never cached.
    Ok(with_cookie(page.into_response(), None))
}
