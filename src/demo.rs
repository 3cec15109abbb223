//! The demo merchant: a realistic catalog seeded through the API's own validation, idempotently.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use crate::api::{coupons, customers, product_pricings, products};
use crate::db::{self, Page, companies::NewCompany};
use crate::services::error::Error as ServiceError;
use crate::state::AppState;

/// The demo company is found again by this name, so seeding twice creates nothing new.
pub const COMPANY_NAME: &str = "Acme Analytics";
/// A fixed, published key for the demo company only, so the `curl` that `kasse demo` prints
/// keeps working across restarts. It opens nothing but the demo company's own data.
pub const API_KEY: &str = "ksk_demo_acme_analytics_0000000000";
pub const PROMO_CODE: &str = "LAUNCH20";

/// What `kasse seed-demo --json` prints.
#[derive(Debug, Serialize)]
pub struct DemoSeed {
    pub company_id: String,
    pub api_key: String,
    /// Product pricing name → id.
    pub product_pricing_ids: BTreeMap<String, String>,
    pub promo_codes: Vec<String>,
    /// Customer identifier → id.
    pub customer_ids: BTreeMap<String, String>,
    /// Whether this run created the data (false: it was there already).
    pub created: bool,
}

/// A fresh checkout session for the demo's Team plan: adjustable seats, the onboarding fee,
/// promo codes allowed, a billing address asked for. Returns its hosted URL.
pub async fn checkout(state: &AppState, seed: &DemoSeed) -> Result<String, SeedError> {
    let team = seed.product_pricing_ids.get("Team").cloned().unwrap_or_default();
    let onboarding = seed.product_pricing_ids.get("Onboarding").cloned().unwrap_or_default();
    let team_pricing = db::pricings::get(&state.db, &seed.company_id, &team).await?;
    let seats =
        team_pricing.and_then(|p| p.items.into_iter().find(|i| i.name == "Seats")).map(|i| i.id).unwrap_or_default();
    let order = crate::domain::order::Order {
        product_pricing_ids: vec![team.clone()],
        config_items: vec![serde_json::from_value(json!({
            "product_pricing_id": team, "product_metric_pricing_id": seats, "num_licenses": 5,
            "quantity_config": {"allow_custom_quantity": true, "min_quantity": 1, "max_quantity": 100}
        }))?],
        onetime_items: vec![serde_json::from_value(json!({"product_pricing_id": onboarding, "aggregate": 1}))?],
        ..Default::default()
    };
    let options = crate::services::checkout::Options {
        allow_promo_code: true,
        requires_customer_address: true,
        collect_company: true,
        confirmation_message: Some("Welcome to Acme Analytics! Your workspace is ready.".into()),
        back_url: Some("https://acme.example/pricing".into()),
        provider: "sandbox".into(),
        ..Default::default()
    };
    let new = crate::services::checkout_create::NewSession {
        source: "CHECKOUT",
        link_id: None,
        customer_id: None,
        order,
        promo_code: None,
        options,
        extra: json!({}),
        metadata: json!({"demo": "true"}),
        locale: None,
        expires_in_hours: 24,
        cache_version: None,
    };
    let session = crate::services::checkout_create::create_session(state, &seed.company_id, new).await?;
    Ok(crate::services::checkout_create::session_url(state, &session.token))
}

#[derive(Debug, thiserror::Error)]
#[error("seeding the demo failed: {0}")]
pub struct SeedError(String);

impl From<crate::error::ApiError> for SeedError {
    fn from(e: crate::error::ApiError) -> Self {
        SeedError(format!("{} ({})", e.message, e.param.unwrap_or_default()))
    }
}
impl From<ServiceError> for SeedError {
    fn from(e: ServiceError) -> Self {
        SeedError(format!("{} ({})", e.message, e.field.unwrap_or_default()))
    }
}
impl From<db::DbError> for SeedError {
    fn from(e: db::DbError) -> Self {
        SeedError(e.to_string())
    }
}
impl From<serde_json::Error> for SeedError {
    fn from(e: serde_json::Error) -> Self {
        SeedError(e.to_string())
    }
}

/// Seed the demo merchant unless it exists; either way, describe it.
pub async fn seed(state: &AppState) -> Result<DemoSeed, SeedError> {
    let now = state.clock.now();
    if let Some(company) = db::companies::find_by_name(&state.db, COMPANY_NAME).await? {
        db::companies::ensure_api_key(&state.db, &company.id, API_KEY, now).await?;
        return describe(state, &company.id, false).await;
    }
    let company = db::companies::create(
        &state.db,
        &NewCompany {
            name: COMPANY_NAME,
            currency: "USD",
            legal_name: Some("Acme Analytics, Inc."),
            brand_color: Some("#2445c8"),
            logo_url: None,
            support_email: Some("billing@acme.example"),
        },
        now,
    )
    .await?;
    db::companies::ensure_api_key(&state.db, &company.id, API_KEY, now).await?;
    let cid = company.id.as_str();

    let product = |name: &str, description: &str| json!({"name": name, "description": description});
    let team = products::create_product(
        state,
        cid,
        serde_json::from_value(product("Acme Team", "Analytics for growing teams"))?,
    )
    .await?;
    let starter = products::create_product(
        state,
        cid,
        serde_json::from_value(product("Acme Starter", "Analytics for one project"))?,
    )
    .await?;
    let onboarding =
        products::create_product(state, cid, serde_json::from_value(product("Onboarding", "A guided setup session"))?)
            .await?;

    let monthly = json!({"count": 1, "frequency": "MONTH"});
    product_pricings::create_product_pricing(state, cid, serde_json::from_value(json!({
        "product_id": team.id, "name": "Team", "currency": "USD",
        "items": [
            {"name": "Seats", "unit_label": "seat", "pricing_model": "GRADUATED", "billing_period": monthly,
             "tiers": [{"up_to": 10, "unit_amount": 1500}, {"up_to": 50, "unit_amount": 1200}, {"up_to": null, "unit_amount": 900}]},
            {"name": "API calls", "unit_label": "call", "pricing_model": "PER_UNIT", "billing_period": monthly,
             "unit_amount_decimal": "0.2", "included_units": 10000, "metered": true}
        ]
    }))?).await?;
    product_pricings::create_product_pricing(
        state,
        cid,
        serde_json::from_value(json!({
            "product_id": starter.id, "name": "Starter", "currency": "USD",
            "items": [{"name": "Starter plan", "pricing_model": "FLAT", "amount": 2900, "billing_period": monthly}]
        }))?,
    )
    .await?;
    product_pricings::create_product_pricing(
        state,
        cid,
        serde_json::from_value(json!({
            "product_id": onboarding.id, "name": "Onboarding", "currency": "USD",
            "items": [{"name": "Onboarding session", "pricing_model": "FLAT", "amount": 49900}]
        }))?,
    )
    .await?;
    coupons::create_coupon(
        state,
        cid,
        serde_json::from_value(json!({
            "name": "Launch: 20% off for 3 months", "type": "DISCOUNT_PERCENT", "percent": 0.2,
            "duration": "REPEATING", "duration_periods": 3,
            "promo_codes": [{"code": PROMO_CODE}]
        }))?,
    )
    .await?;
    customers::create_customer(
        state,
        cid,
        serde_json::from_value(json!({
            "email": "ada@analytical.example", "name": "Ada Lovelace", "org_name": "Analytical Engines Ltd",
            "identifier": "crm-1001", "phone": "+44 20 7946 0000",
            "address": {"line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"}
        }))?,
    )
    .await?;
    describe(state, cid, true).await
}

async fn describe(state: &AppState, company_id: &str, created: bool) -> Result<DemoSeed, SeedError> {
    let everything = Page { cursor: None, limit: 99, include_archived: false };
    let pricings = db::pricings::list(&state.db, company_id, &everything, None).await?;
    let coupons = db::coupons::list(&state.db, company_id, &everything).await?;
    let customers = db::customers::list(&state.db, company_id, &everything, None).await?;
    Ok(DemoSeed {
        company_id: company_id.to_string(),
        api_key: API_KEY.to_string(),
        product_pricing_ids: pricings.into_iter().map(|p| (p.pricing.name, p.pricing.id)).collect(),
        promo_codes: coupons.into_iter().flat_map(|c| c.promo_codes).map(|pc| pc.code).collect(),
        customer_ids: customers.into_iter().map(|c| (c.identifier.unwrap_or_else(|| c.id.clone()), c.id)).collect(),
        created,
    })
}

/// The demo's reusable link (created once): the Starter plan, quantity chosen by the visitor,
/// promo codes allowed, a 14-day trial. Returns its URL.
pub async fn link(state: &AppState, seed: &DemoSeed) -> Result<String, SeedError> {
    const SLUG: &str = "acme-starter";
    if db::links::by_slug(&state.db, SLUG).await?.is_none() {
        let starter = seed.product_pricing_ids.get("Starter").cloned().unwrap_or_default();
        let spec = crate::domain::link::LinkSpec {
            items: vec![serde_json::from_value(json!({"type": "plan", "product_pricing_id": starter, "quantity": 1}))?],
            options: serde_json::from_value(json!({"coupons_allowed": true, "trial_days": 14}))?,
            action: crate::domain::link::LinkAction::ConfirmationMessage,
            redirect_url: None,
            confirmation_message: Some("Your Starter trial has begun. Enjoy!".into()),
            back_url: Some("https://acme.example/pricing".into()),
            requires_customer_address: false,
            locale: None,
        };
        let now = state.clock.now();
        let link = db::links::CheckoutLink {
            id: crate::domain::ids::new_id(crate::domain::ids::prefix::CHECKOUT_LINK, now),
            company_id: seed.company_id.clone(),
            slug: SLUG.into(),
            name: "Acme Starter".into(),
            enabled: true,
            spec: serde_json::to_string(&spec)?,
            created_at: now,
            updated_at: now,
        };
        db::links::insert(&state.db, &link).await?;
    }
    Ok(format!("{}/l/{SLUG}", state.public_url))
}

/// The demo's contract template (created once, found again by title).
const TEMPLATE_TITLE: &str = "Acme Analytics Order Form";
const TEMPLATE_BODY: &str = "# Order Form\n\n\
This Order Form is entered into between **{{company.legal_name}}** (\"Acme\") and \
**{{customer.org_name}}** (\"Customer\"), {{customer.address}}.\n\n\
## 1. Subscription\n\n\
Customer subscribes to the services listed in the order below for a term of {{contract.term}}, \
starting on {{contract.start_date}}. Fees are billed monthly in advance.\n\n\
## 2. Terms\n\n\
- Acme provides the services with 99.9 % monthly availability.\n\
- Either party may end the subscription at the end of the term with 30 days' written notice.\n\
- Customer data stays in the {{custom.region}} region.\n\n\
## 3. Contacts\n\n\
| Role | Name | Title |\n|---|---|---|\n\
| Customer signatory | {{signatory.1.name}} | {{signatory.1.title}} |\n\
| Billing | {{customer.name}} | {{customer.email}} |\n\n\
*Signed electronically; each party may ask for a paper copy.*";

/// A fresh demo contract: Ada Lovelace signs an order for 12 Team seats and onboarding, then
/// pays on the checkout page. Returns her signing link.
pub async fn contract(state: &AppState, seed: &DemoSeed) -> Result<String, SeedError> {
    let everything = Page { cursor: None, limit: 99, include_archived: false };
    let templates = db::contracts::list_templates(&state.db, &seed.company_id, &everything).await?;
    let template_id = match templates.into_iter().find(|t| t.title == TEMPLATE_TITLE) {
        Some(t) => t.id,
        None => {
            let body = json!({"title": TEMPLATE_TITLE, "body": TEMPLATE_BODY});
            crate::api::contract_templates::create_template(state, &seed.company_id, serde_json::from_value(body)?)
                .await?
                .id
        }
    };
    let team = seed.product_pricing_ids.get("Team").cloned().unwrap_or_default();
    let onboarding = seed.product_pricing_ids.get("Onboarding").cloned().unwrap_or_default();
    let customer = seed.customer_ids.get("crm-1001").cloned().unwrap_or_default();
    let company = db::companies::get(&state.db, &seed.company_id)
        .await?
        .ok_or_else(|| SeedError("the demo company vanished".into()))?;
    let body = json!({
        "customer_id": customer,
        "template_id": template_id,
        "product_pricing_ids": [team],
        "config_items": [{"product_pricing_id": team, "num_licenses": 12,
            "quantity_config": {"allow_custom_quantity": true, "min_quantity": 5, "max_quantity": 100}}],
        "onetime_items": [{"product_pricing_id": onboarding, "aggregate": 1}],
        "term": {"count": 12, "frequency": "MONTH"},
        "custom_variables": {"region": "EU"},
        "signatories": [{"name": "Ada Lovelace", "email": "ada@analytical.example", "title": "Managing Director"}],
        "require_payment_method": true,
        "status": "PENDING_SIGNATURES",
        "options": {"completion_action": "CONFIRMATION_MESSAGE",
            "confirmation_message": "Thank you! Your Acme Analytics workspace is ready."},
        "metadata": {"demo": "true"},
    });
    let created = crate::api::contracts::create_contract(state, &company, serde_json::from_value(body)?).await?;
    let signers = db::contracts::signers_of(&state.db, &[created.id.as_str()]).await?;
    let first = signers.first().ok_or_else(|| SeedError("the demo contract has no signatory".into()))?;
    Ok(crate::services::contracts::signature_link(state, first))
}

/// A fresh open demo invoice: a one-time charge to Ada Lovelace for a training workshop and
/// extra onboarding, with a discount, payment instructions and notes. Returns its hosted page.
pub async fn invoice(state: &AppState, seed: &DemoSeed) -> Result<String, SeedError> {
    let onboarding = seed.product_pricing_ids.get("Onboarding").cloned().unwrap_or_default();
    let customer = seed.customer_ids.get("crm-1001").cloned().unwrap_or_default();
    let product = db::pricings::get_many(&state.db, &seed.company_id, std::slice::from_ref(&onboarding))
        .await?
        .into_iter()
        .next()
        .map(|p| p.pricing.product_id)
        .ok_or_else(|| SeedError("the demo onboarding pricing vanished".into()))?;
    let body = json!({
        "customer_id": customer,
        "type": "IMMEDIATE",
        "onetime_items": [
            {"custom_price": {"amount": {"currency": "USD", "value_in_cents": 120000}, "product_id": product,
                "description": "Analytics training workshop (1 day, on site)"}, "aggregate": 1, "sort_order": 1},
            {"product_pricing_id": onboarding, "aggregate": 1, "sort_order": 2}
        ],
        "discounts": [{"name": "Loyalty discount", "type": "DISCOUNT_PERCENT", "percent": 0.1}],
        "invoice_due_date_from_creation": 14,
        "invoice_payment_instructions": "Pay by card on this page, or by bank transfer to IBAN GB33 BUKB 2020 1555 5555 55 quoting the invoice number.",
        "notes": "Thank you for training with Acme Analytics. The workshop takes place at your London office.",
        "metadata": {"demo": "true"},
    });
    let created = crate::api::onetimes::create_onetimes(state, &seed.company_id, serde_json::from_value(body)?).await?;
    created
        .into_iter()
        .find_map(|b| b.invoice_url)
        .ok_or_else(|| SeedError("the demo invoice has no hosted page".into()))
}
