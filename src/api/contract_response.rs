//! A contract as the merchant API answers it: the seed-003 response keys wherever Kasse has the
//! data, loaded for a whole page of contracts in a fixed number of queries (no N+1).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::customers::CustomerResponse;
use super::discounts::MoneyBody;
use crate::db::checkouts::CheckoutSession;
use crate::db::contracts::{Contract, Event, FileInfo, Signer};
use crate::db::{self};
use crate::domain::contract::Role;
use crate::error::{ApiError, ApiResult};
use crate::services::checkout::{self as session, CompletionAction};
use crate::services::contracts as signing;
use crate::state::AppState;

/// A customer signatory (seed `signatories[]`).
#[derive(Debug, Serialize, ToSchema)]
pub struct SignatoryResponse {
    pub id: String,
    /// The same as `id`: the signature's reference in the audit trail.
    pub signature_id: String,
    pub name: String,
    pub email: Option<String>,
    pub title: Option<String>,
    pub position: i64,
    /// The signer's personal link to the contract page.
    pub signature_link: String,
    pub signed: bool,
    pub signed_date: Option<DateTime<Utc>>,
    /// The name they typed when signing.
    pub signed_name: Option<String>,
    pub declined: bool,
    pub declined_date: Option<DateTime<Utc>>,
    pub decline_reason: Option<String>,
    /// Each time they opened their page (views a few minutes apart count once).
    pub view_timestamps: Vec<DateTime<Utc>>,
}

/// An uploaded file (seed `contract_attachments[]`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentResponse {
    pub id: String,
    pub file_id: String,
    pub original_filename: String,
    pub content_type: String,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    pub uploaded_at: DateTime<Utc>,
}

/// A reference by id (seed `subscription`).
#[derive(Debug, Serialize, ToSchema)]
pub struct IdRef {
    pub id: String,
}

/// The page's behaviour (seed `options`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractOptions {
    pub allow_promo_code: bool,
    /// REDIRECT or CONFIRMATION_MESSAGE.
    pub completion_action: String,
    pub confirmation_message: Option<String>,
    pub redirect_url: Option<String>,
    pub requires_customer_address: bool,
}

/// A contract (seed 003's response).
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractResponse {
    pub id: String,
    /// Always CONTRACT.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// DRAFT, PENDING_SIGNATURES, PENDING_COUNTER_SIGNATURE, PENDING_PAYMENT, COMPLETE, DECLINED, EXPIRED or VOID.
    pub status: String,
    pub title: String,
    pub company_id: String,
    pub customer_id: String,
    pub customer: Option<CustomerResponse>,
    /// Annual contract value: the recurring charges of the first year.
    pub acv: MoneyBody,
    /// Total contract value: today's charge and every recurring charge in the term (a year without one).
    pub tcv: MoneyBody,
    pub auto_charges: Option<bool>,
    pub auto_renews: Option<bool>,
    pub bundle_pricing_id: Option<String>,
    pub product_pricing_ids: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub config_items: serde_json::Value,
    /// The one-time items of the order.
    #[schema(value_type = Vec<Object>)]
    pub one_time_billables: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub discounts: serde_json::Value,
    pub options: ContractOptions,
    #[schema(value_type = Option<Object>)]
    pub term: serde_json::Value,
    pub trial: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub trial_term: serde_json::Value,
    pub start_date: Option<DateTime<Utc>>,
    pub expiration_date: Option<DateTime<Utc>>,
    pub signatories: Vec<SignatoryResponse>,
    pub counter_signatories: Vec<SignatoryResponse>,
    /// Kasse: whether signatories sign in `position` order.
    pub sequential_signing: bool,
    pub require_payment_method: bool,
    #[schema(value_type = Object)]
    pub custom_variables: serde_json::Value,
    pub template_id: Option<String>,
    /// The variables the template uses.
    pub template_variables: Vec<String>,
    /// The rendered document (HTML; every variable value escaped).
    pub content: String,
    /// The template body the document was rendered from.
    pub content_template: Option<String>,
    /// Kasse: SHA-256 of the frozen document (set at finalize); every signature carries it.
    pub document_hash: Option<String>,
    pub contract_attachments: Vec<AttachmentResponse>,
    pub signed_offline: bool,
    pub signed_file_id: Option<String>,
    /// Kasse: the note given with `mark_signed_offline`.
    pub offline_note: Option<String>,
    pub owner_id: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub subscription_id: Option<String>,
    pub subscription: Option<IdRef>,
    /// Kasse: the invoice fulfilment created.
    pub invoice_id: Option<String>,
    /// Kasse: the checkout session that holds the order and its payment.
    pub checkout_id: String,
    /// Kasse: where any signatory pays, once every signature is in (PENDING_PAYMENT).
    pub payment_url: Option<String>,
    pub finalized_date: Option<DateTime<Utc>>,
    pub signed_date: Option<DateTime<Utc>>,
    pub completed_date: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One contract as the API shows it.
pub async fn respond(state: &AppState, contract: Contract) -> ApiResult<ContractResponse> {
    let mut all = respond_many(state, vec![contract]).await?;
    all.pop().ok_or_else(|| ApiError::internal("a contract went missing while answering"))
}

/// Many contracts (of one company) as the API shows them, in their order: five queries in all.
pub async fn respond_many(state: &AppState, contracts: Vec<Contract>) -> ApiResult<Vec<ContractResponse>> {
    let Some(company_id) = contracts.first().map(|c| c.company_id.clone()) else { return Ok(Vec::new()) };
    let ids: Vec<&str> = contracts.iter().map(|c| c.id.as_str()).collect();
    let checkout_ids: Vec<&str> = contracts.iter().map(|c| c.checkout_id.as_str()).collect();
    let customer_ids: Vec<&str> = contracts.iter().map(|c| c.customer_id.as_str()).collect();
    let signers = db::contracts::signers_of(&state.db, &ids).await?;
    let views = db::contracts::events_of(&state.db, &ids, Some("VIEWED")).await?;
    let files = db::contracts::files_of(&state.db, &ids).await?;
    let sessions: HashMap<String, CheckoutSession> =
        db::checkouts::by_ids(&state.db, &checkout_ids).await?.into_iter().map(|s| (s.id.clone(), s)).collect();
    let customers: HashMap<String, CustomerResponse> = db::customers::by_ids(&state.db, &company_id, &customer_ids)
        .await?
        .into_iter()
        .map(|c| super::customers::response(c).map(|r| (r.id.clone(), r)))
        .collect::<ApiResult<_>>()?;
    let mut customers = customers;
    let mut out = Vec::with_capacity(contracts.len());
    for c in contracts {
        let session = sessions
            .get(&c.checkout_id)
            .ok_or_else(|| ApiError::internal(format!("contract {} without checkout", c.id)))?;
        let mine: Vec<&Signer> = signers.iter().filter(|s| s.contract_id == c.id).collect();
        let my_views: Vec<&Event> = views.iter().filter(|e| e.contract_id == c.id).collect();
        let my_files: Vec<&FileInfo> = files.iter().filter(|f| f.contract_id == c.id).collect();
        let customer = customers.remove(&c.customer_id);
        out.push(build(state, c, session, &mine, &my_views, &my_files, customer)?);
    }
    Ok(out)
}

fn signer_response(state: &AppState, s: &Signer, views: &[&Event]) -> SignatoryResponse {
    SignatoryResponse {
        id: s.id.clone(),
        signature_id: s.id.clone(),
        name: s.name.clone(),
        email: s.email.clone(),
        title: s.title.clone(),
        position: s.position,
        signature_link: signing::signature_link(state, s),
        signed: s.signed_at.is_some(),
        signed_date: s.signed_at,
        signed_name: s.signed_name.clone(),
        declined: s.declined_at.is_some(),
        declined_date: s.declined_at,
        decline_reason: s.decline_reason.clone(),
        view_timestamps: views.iter().filter(|e| e.signer_id.as_deref() == Some(s.id.as_str())).map(|e| e.at).collect(),
    }
}

fn build(
    state: &AppState,
    c: Contract,
    session: &CheckoutSession,
    signers: &[&Signer],
    views: &[&Event],
    files: &[&FileInfo],
    customer: Option<CustomerResponse>,
) -> ApiResult<ContractResponse> {
    let parsed = session::parse(session)?;
    let order = parsed.order;
    let options = parsed.options;
    let extra: serde_json::Value = serde_json::from_str(&c.extra).unwrap_or_default();
    let side = |role: Role| -> Vec<SignatoryResponse> {
        signers.iter().filter(|s| s.role == role.as_str()).map(|s| signer_response(state, s, views)).collect()
    };
    let template_variables = match &c.content_template {
        Some(body) => crate::domain::document::variables(body).unwrap_or_default(),
        None => Vec::new(),
    };
    let options_body = ContractOptions {
        allow_promo_code: options.allow_promo_code,
        completion_action: match options.completion_action {
            CompletionAction::Redirect => "REDIRECT".into(),
            CompletionAction::ConfirmationMessage => "CONFIRMATION_MESSAGE".into(),
        },
        confirmation_message: options.confirmation_message.clone(),
        redirect_url: options.redirect_url.clone(),
        requires_customer_address: options.requires_customer_address,
    };
    let status = c.status();
    Ok(ContractResponse {
        kind: "CONTRACT",
        status: c.status.clone(),
        title: c.title.clone(),
        company_id: c.company_id.clone(),
        customer_id: c.customer_id.clone(),
        customer,
        acv: MoneyBody { currency: c.currency.clone(), value_in_cents: c.acv },
        tcv: MoneyBody { currency: c.currency.clone(), value_in_cents: c.tcv },
        auto_charges: extra["auto_charges"].as_bool(),
        auto_renews: extra["auto_renews"].as_bool(),
        bundle_pricing_id: extra["bundle_pricing_id"].as_str().map(str::to_string),
        product_pricing_ids: order.product_pricing_ids.clone(),
        config_items: json(&order.config_items),
        one_time_billables: json(&order.onetime_items),
        discounts: json(&order.discounts),
        options: options_body,
        term: json(&order.term),
        trial: order.trial,
        trial_term: json(&order.trial_term),
        start_date: c.start_date,
        expiration_date: c.expiration_date,
        signatories: side(Role::Signatory),
        counter_signatories: side(Role::Counter),
        sequential_signing: c.sequential,
        require_payment_method: c.require_payment_method,
        custom_variables: serde_json::from_str(&c.custom_variables).unwrap_or_default(),
        template_id: c.template_id.clone(),
        template_variables,
        content: c.content.clone(),
        content_template: c.content_template.clone(),
        document_hash: c.document_hash.clone(),
        contract_attachments: files
            .iter()
            .map(|f| AttachmentResponse {
                id: f.id.clone(),
                file_id: f.id.clone(),
                original_filename: f.filename.clone(),
                content_type: f.content_type.clone(),
                sha256: f.sha256.clone(),
                created_at: f.created_at,
                uploaded_at: f.created_at,
            })
            .collect(),
        signed_offline: c.signed_offline,
        signed_file_id: c.signed_file_id.clone(),
        offline_note: c.offline_note.clone(),
        owner_id: c.owner_id.clone(),
        metadata: serde_json::from_str(&c.metadata).unwrap_or_default(),
        subscription_id: session.subscription_id.clone(),
        subscription: session.subscription_id.clone().map(|id| IdRef { id }),
        invoice_id: session.invoice_id.clone(),
        checkout_id: c.checkout_id.clone(),
        payment_url: (status == crate::domain::contract::Status::PendingPayment)
            .then(|| super::checkout::session_url(state, &session.token)),
        finalized_date: c.finalized_at,
        signed_date: c.signed_at,
        completed_date: c.completed_at,
        created_at: c.created_at,
        updated_at: c.updated_at,
        id: c.id,
    })
}

/// Our own plain structs as a JSON value (they always serialize).
fn json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}
