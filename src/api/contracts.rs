//! `POST …/contracts` (seed 003): a contract its signatories sign before it is paid and
//! fulfilled — the request body, its checks, and the document rendered from the template.
//! Reading and changing contracts afterwards is `api::contract_actions`; the response shape is
//! `api::contract_response`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::checkout::{CheckoutOptionsBody, NewSession, build_session, options_from};
use super::contract_response::{ContractResponse, respond};
use super::contract_templates::template_error;
use super::discounts::{parse_expiry, parse_start};
use super::extract::plain_text;
use super::extract::{ApiJson, CompanyCtx};
use super::price_spec::PeriodBody;
use super::quote_spec::order_body;
use crate::db::companies::Company;
use crate::db::contracts::{Contract, Signer};
use crate::db::customers::Customer;
use crate::db::{self};
use crate::domain::contract::{Role, Status};
use crate::domain::document;
use crate::domain::ids::{self, prefix};
use crate::domain::order::Order;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::services::contracts::{self as signing, Actor};
use crate::services::validate;
use crate::state::AppState;

/// The most signatories on one side of a contract.
pub const SIGNERS_MAX: usize = 20;

/// A person who signs (seed `signatories[]`). `declined`, `signature_id`, `signature_link`,
/// `signed`, `signed_date` and `view_timestamps` are read-only: accepted on create (so a
/// contract read back can be sent again) and ignored.
#[derive(Clone, Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct SignatoryBody {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// Their job title, shown under the signature.
    #[schema(max_length = 200)]
    pub title: Option<String>,
    /// Signing order (1 first) when `sequential_signing`; default: the list order.
    #[validate(range(min = 1, max = 1000))]
    pub position: Option<i64>,
    pub declined: Option<bool>,
    #[schema(max_length = 64)]
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub signature_id: Option<String>,
    #[schema(max_length = 2000)]
    #[validate(length(max = 2000), custom(function = "plain_text"))]
    pub signature_link: Option<String>,
    pub signed: Option<bool>,
    #[schema(max_length = 35)]
    #[validate(length(max = 35), custom(function = "plain_text"))]
    pub signed_date: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<super::extract::Timestamp>, inline)]
    pub view_timestamps: Vec<String>,
}

order_body! {
    /// Create a contract (the body of seed 003, plus Kasse's fields marked below). Fields marked
    /// "accepted" are taken for compatibility and have no effect in Kasse.
    #[derive(Debug, Deserialize, ToSchema, Validate)]
    #[serde(deny_unknown_fields)]
    pub struct CreateContract {
        /// false: no card is collected; the customer gets an open invoice with payment instructions.
        pub auto_charges: Option<bool>,
        /// Accepted.
        pub auto_renews: Option<bool>,
        /// Accepted (Kasse has no bundles); echoed back.
        #[schema(max_length = 64)]
        pub bundle_pricing_id: Option<String>,
        /// Values for the template's `{{custom.<key>}}` variables (strings, numbers or booleans).
        #[serde(default)]
        #[schema(value_type = Object)]
        #[validate(length(max = 100))]
        pub custom_variables: BTreeMap<String, serde_json::Value>,
        /// The customer who signs (id or your identifier). Required.
        #[schema(max_length = 64)]
        pub customer_id: Option<String>,
        /// After this moment the contract can no longer be signed or paid (EXPIRED).
        #[schema(max_length = 35)]
        pub expiration_date: Option<String>,
        #[serde(default)]
        #[validate(length(max = 100))]
        pub metadata: BTreeMap<String, serde_json::Value>,
        pub options: Option<CheckoutOptionsBody>,
        /// Your sales rep (echoed back).
        #[schema(max_length = 200)]
        pub owner_id: Option<String>,
        /// Collect payment after the last signature (the checkout payment step); otherwise the
        /// order is fulfilled at the last signature with an open invoice.
        pub require_payment_method: Option<bool>,
        #[serde(default)]
        #[validate(nested)]
        pub signatories: Vec<SignatoryBody>,
        /// When the contract starts (default: now); shown as `{{contract.start_date}}`.
        #[schema(max_length = 35)]
        pub start_date: Option<String>,
        /// DRAFT (default: change counter-signatories, then finalize) or PENDING_SIGNATURES (send now).
        #[schema(max_length = 40)]
        pub status: Option<String>,
        #[schema(max_length = 64)]
        pub template_id: Option<String>,
        /// Default: the template's title.
        #[schema(max_length = 200)]
        pub title: Option<String>,
        /// `CONTRACT` (the only kind).
        #[serde(rename = "type")]
        #[schema(max_length = 40)]
        pub kind: Option<String>,
        /// Kasse: the merchant's signers, who sign after every customer signatory.
        #[serde(default)]
        #[validate(nested)]
        pub counter_signatories: Vec<SignatoryBody>,
        /// Kasse: sign in `position` order (default false: any order).
        pub sequential_signing: Option<bool>,
        /// Kasse: `en` or `de`; default from the signer's browser.
        #[schema(max_length = 35)]
        pub locale: Option<String>,
    }
}

/// A signer checked, with the position it signs in.
#[derive(Clone, Debug)]
pub struct NewSigner {
    pub name: String,
    pub email: Option<String>,
    pub title: Option<String>,
    pub position: i64,
}

/// Check a list of signers: names, emails, distinct positions (default: list order).
pub fn signers_from(param: &str, list: &[SignatoryBody]) -> ApiResult<Vec<NewSigner>> {
    if list.len() > SIGNERS_MAX {
        return Err(ApiError::invalid(param, format!("A contract takes at most {SIGNERS_MAX} {param}.")));
    }
    let mut out: Vec<NewSigner> = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        let at = |field: &str| format!("{param}[{i}].{field}");
        for (j, t) in s.view_timestamps.iter().enumerate() {
            validate::opt_text(&at(&format!("view_timestamps[{j}]")), Some(t), 35)?;
        }
        // 1 to 1000, checked with the body.
        let position = s.position.unwrap_or_else(|| i64::try_from(i).unwrap_or(0) + 1);
        if out.iter().any(|o| o.position == position) {
            return Err(ApiError::invalid(at("position"), "Two signatories cannot share a `position`."));
        }
        out.push(NewSigner {
            name: validate::text(&at("name"), &s.name, validate::NAME_MAX)?,
            email: s.email.as_deref().map(|e| validate::email(&at("email"), e)).transpose()?,
            title: validate::opt_text(&at("title"), s.title.as_deref(), validate::NAME_MAX)?,
            position,
        });
    }
    out.sort_by_key(|s| s.position);
    Ok(out)
}

/// A signer row for a new contract.
pub fn signer_row(contract: &Contract, s: &NewSigner, role: Role, now: chrono::DateTime<chrono::Utc>) -> Signer {
    Signer {
        id: ids::new_id(prefix::SIGNER, now),
        company_id: contract.company_id.clone(),
        contract_id: contract.id.clone(),
        role: role.as_str().to_string(),
        position: s.position,
        name: s.name.clone(),
        email: s.email.clone(),
        title: s.title.clone(),
        token: ids::token(),
        signed_at: None,
        signed_name: None,
        signed_title: None,
        signature_image: None,
        signed_hash: None,
        declined_at: None,
        decline_reason: None,
        created_at: now,
        updated_at: now,
        last_viewed_at: None,
    }
}

/// A custom variable's value as text.
fn custom_text(param: &str, v: &serde_json::Value) -> ApiResult<String> {
    let text = match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => return Err(ApiError::invalid(param, "A custom variable must be a string, a number or a boolean.")),
    };
    Ok(validate::text(param, &text, validate::TEXT_MAX)?)
}

/// What the template's variables are filled from.
pub struct Values<'a> {
    pub customer: &'a Customer,
    pub company: &'a Company,
    pub title: &'a str,
    pub start_date: chrono::DateTime<chrono::Utc>,
    pub expiration_date: Option<chrono::DateTime<chrono::Utc>>,
    pub term: Option<PeriodBody>,
    pub signatories: &'a [NewSigner],
    pub custom: &'a BTreeMap<String, String>,
}

fn address_of(c: &Customer) -> Option<String> {
    let city = [c.address_postal_code.as_deref(), c.address_city.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let lines: Vec<String> = [c.address_line1.clone(), c.address_line2.clone(), Some(city), c.address_state.clone()]
        .into_iter()
        .flatten()
        .chain(c.address_country.as_deref().map(country_name))
        .filter(|l| !l.trim().is_empty())
        .collect();
    (c.address_line1.is_some()).then(|| lines.join("\n"))
}

/// A country's English name, else its code.
fn country_name(code: &str) -> String {
    crate::domain::countries::COUNTRY_NAMES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or_else(|| code.to_string(), |(_, en, _)| (*en).to_string())
}

fn term_text(p: PeriodBody) -> String {
    let unit = crate::domain::term::PeriodUnit::from(p.frequency).as_str().to_ascii_lowercase();
    if p.count == 1 { format!("1 {unit}") } else { format!("{} {unit}s", p.count) }
}

impl Values<'_> {
    /// The value of one variable, if this contract has one.
    pub fn get(&self, name: &str) -> Option<String> {
        let date = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d").to_string();
        match name {
            "customer.name" => self.customer.name.clone(),
            "customer.email" => self.customer.email.clone(),
            "customer.org_name" => self.customer.org_name.clone(),
            "customer.address" => address_of(self.customer),
            "company.name" => Some(self.company.name.clone()),
            "company.legal_name" => Some(self.company.legal_name.clone().unwrap_or_else(|| self.company.name.clone())),
            "contract.title" => Some(self.title.to_string()),
            "contract.start_date" => Some(date(self.start_date)),
            "contract.expiration_date" => self.expiration_date.map(date),
            "contract.term" => self.term.map(term_text),
            _ => {
                if let Some(key) = name.strip_prefix("custom.") {
                    return self.custom.get(key).cloned();
                }
                let rest = name.strip_prefix("signatory.")?;
                let (n, field) = rest.split_once('.')?;
                let s = self.signatories.get(n.parse::<usize>().ok()?.checked_sub(1)?)?;
                match field {
                    "name" => Some(s.name.clone()),
                    "email" => s.email.clone(),
                    "title" => s.title.clone(),
                    _ => None,
                }
            }
        }
    }
}

/// The field a missing variable points the merchant at.
fn missing_param(name: &str) -> String {
    if let Some(key) = name.strip_prefix("custom.") {
        format!("custom_variables.{key}")
    } else if name.starts_with("signatory.") {
        "signatories".into()
    } else if name.starts_with("customer.") {
        "customer_id".into()
    } else if name == "contract.term" {
        "term".into()
    } else if name == "contract.expiration_date" {
        "expiration_date".into()
    } else {
        "template_id".into()
    }
}

/// Render `body` for this contract; a variable without a value names the field to fill.
pub fn render(body: &str, values: &Values<'_>) -> ApiResult<String> {
    document::render(body, &|name| values.get(name)).map_err(|e| match e {
        document::TemplateError::Missing { ref name } => {
            let param = missing_param(name);
            template_error(&param, e)
        }
        other => template_error("template_id", other),
    })
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/contracts", tag = "contracts",
    params(("company_id" = String, Path)), request_body = CreateContract,
    responses((status = 200, body = ContractResponse), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiJson(body): ApiJson<CreateContract>,
) -> ApiResult<Json<ContractResponse>> {
    let contract = create_contract(&state, &ctx.0, body).await?;
    Ok(Json(respond(&state, contract).await?))
}

/// Check and store a contract with its checkout session, signers and first audit entries;
/// shared by the API and `kasse demo`.
pub async fn create_contract(state: &AppState, company: &Company, body: CreateContract) -> ApiResult<Contract> {
    body.validate().map_err(super::extract::invalid_fields)?;
    if body.kind.as_deref().is_some_and(|k| k != "CONTRACT") {
        return Err(ApiError::invalid("type", "`type` must be CONTRACT."));
    }
    let status = match body.status.as_deref() {
        None | Some("DRAFT") => Status::Draft,
        Some("PENDING_SIGNATURES") => Status::PendingSignatures,
        Some(_) => return Err(ApiError::invalid("status", "`status` must be DRAFT or PENDING_SIGNATURES.")),
    };
    let customer_id = body.customer_id.as_deref().ok_or_else(|| {
        ApiError::missing("customer_id").with_message("A contract needs the customer who signs it: `customer_id`.")
    })?;
    let customer = db::customers::get(&state.db, &company.id, customer_id)
        .await?
        .ok_or_else(|| ApiError::unknown_ref("customer_id", "customer", customer_id))?;
    if customer.archived_at.is_some() {
        return Err(ApiError::invalid("customer_id", "This customer is archived."));
    }
    if body.signatories.is_empty() {
        return Err(ApiError::missing("signatories").with_message("A contract needs at least one signatory."));
    }
    let signatories = signers_from("signatories", &body.signatories)?;
    let counters = signers_from("counter_signatories", &body.counter_signatories)?;
    let mut custom = BTreeMap::new();
    for (key, value) in &body.custom_variables {
        let param = format!("custom_variables.{key}");
        if !document::is_known(&format!("custom.{key}")) {
            return Err(ApiError::invalid(param, "A custom variable's key is 1 to 64 letters, digits, `_` or `-`."));
        }
        custom.insert(key.clone(), custom_text(&param, value)?);
    }
    let now = state.clock.now();
    let start_date = body.start_date.as_deref().map(|s| parse_start("start_date", s)).transpose()?;
    // The subscription starts on it: a start already past would bill time before the signature.
    if start_date.is_some_and(|t| t.date_naive() < now.date_naive()) {
        return Err(ApiError::invalid("start_date", "`start_date` must be today or later."));
    }
    let expiration_date = body.expiration_date.as_deref().map(|s| parse_expiry("expiration_date", s)).transpose()?;
    if expiration_date.is_some_and(|t| t <= now) {
        return Err(ApiError::invalid("expiration_date", "`expiration_date` must be in the future."));
    }
    let template = match &body.template_id {
        Some(id) => {
            let t = db::contracts::get_template(&state.db, &company.id, id)
                .await?
                .ok_or_else(|| ApiError::unknown_ref("template_id", "contract template", id))?;
            if t.archived_at.is_some() {
                return Err(ApiError::invalid("template_id", "This contract template is archived."));
            }
            Some(t)
        }
        None => None,
    };
    let title = match (&body.title, &template) {
        (Some(t), _) => validate::text("title", t, validate::NAME_MAX)?,
        (None, Some(t)) => t.title.clone(),
        (None, None) => "Contract".to_string(),
    };
    let content = match &template {
        Some(t) => render(
            &t.body,
            &Values {
                customer: &customer,
                company,
                title: &title,
                start_date: start_date.unwrap_or(now),
                expiration_date,
                term: body.term,
                signatories: &signatories,
                custom: &custom,
            },
        )?,
        None => String::new(),
    };

    let new = NewSession {
        source: "CONTRACT",
        link_id: None,
        customer_id: Some(customer.id.clone()),
        options: options_from(body.options.as_ref(), body.auto_charges)?,
        order: Order { start_date, ..body.order()? },
        promo_code: None,
        extra: serde_json::json!({}),
        metadata: serde_json::Value::Object(body.metadata.clone().into_iter().collect()),
        locale: body.locale,
        expires_in_hours: 0,
        cache_version: None,
    };
    let (session, quote) = build_session(state, &company.id, new).await?;
    let mut contract = Contract {
        id: ids::new_id(prefix::CONTRACT, now),
        company_id: company.id.clone(),
        checkout_id: session.id.clone(),
        customer_id: customer.id.clone(),
        status: Status::Draft.as_str().to_string(),
        title,
        template_id: template.as_ref().map(|t| t.id.clone()),
        content_template: template.map(|t| t.body),
        content,
        document_hash: None,
        custom_variables: serde_json::to_string(&custom).map_err(ApiError::internal)?,
        currency: session.currency.clone(),
        acv: 0,
        tcv: 0,
        sequential: body.sequential_signing.unwrap_or(false),
        require_payment_method: body.require_payment_method.unwrap_or(false),
        start_date,
        expiration_date,
        owner_id: validate::opt_text("owner_id", body.owner_id.as_deref(), validate::NAME_MAX)?,
        extra: serde_json::json!({
            "auto_charges": body.auto_charges, "auto_renews": body.auto_renews,
            "bundle_pricing_id": body.bundle_pricing_id,
        })
        .to_string(),
        metadata: serde_json::Value::Object(body.metadata.into_iter().collect()).to_string(),
        signed_offline: false,
        offline_note: None,
        signed_file_id: None,
        finalized_at: None,
        signed_at: None,
        completed_at: None,
        closed_at: None,
        created_at: now,
        updated_at: now,
    };
    let v = signing::values_of(&contract, &quote);
    (contract.acv, contract.tcv) = (v.acv, v.tcv);

    let mut signers: Vec<Signer> = signatories.iter().map(|s| signer_row(&contract, s, Role::Signatory, now)).collect();
    signers.extend(counters.iter().map(|s| signer_row(&contract, s, Role::Counter, now)));
    let actor = Actor::api();
    let mut tx = state.db.begin().await?;
    db::checkouts::insert_in(&mut tx, &session).await?;
    db::contracts::insert(&mut tx, &contract).await?;
    for s in &signers {
        db::contracts::insert_signer(&mut tx, s).await?;
    }
    signing::trail(&mut tx, &contract, "CREATED", None, &actor, None, now).await?;
    if status == Status::PendingSignatures {
        signing::finalize_in(state, &mut tx, &contract, &signers, &actor, now).await?;
    }
    tx.commit().await?;
    Ok(signing::reload(state, &contract).await?)
}
