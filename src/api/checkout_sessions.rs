//! `/api/v1/checkout-sessions` (seed 001): a self-serve checkout for one plan version, with
//! add-ons, component quantities, a coupon code; the company comes from the API key.
//!
//! How seed 001 maps onto Kasse's order: `plan_version_id` is a product pricing; `add_ons[]`
//! are further product pricings (recurring ones join the plan, one-time ones are charged
//! once) with their quantity; `components.parameterized_components[]` set the quantity
//! (`initial_slot_count`) of an item pricing of the plan, `components.remove_components[]`
//! set an item to 0; `coupon_code` is a promo code; `trial_duration_days` a trial.
//! `customization`, `extra_components`, `overridden_components`, `invoice_threshold` and
//! `purchase_order` are accepted and stored, not acted on: Kasse prices only from its catalog.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::checkout::{CheckoutFilter, NewSession, create_session, session_url};
use super::extract::{ApiJson, ApiQuery, ListQuery, Tenant, invalid_fields, plain_text};
use super::list::List;
use crate::db::{self, checkouts::CheckoutSession};
use crate::domain::checkout::Status;
use crate::domain::order::{ConfigItem, OneTimeItem, Order, Span};
use crate::domain::term::PeriodUnit;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::payments::ProviderKind;
use crate::services::checkout::Options;
use crate::services::validate::{self, QUANTITY_MAX};
use crate::state::AppState;

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Customization {
    #[schema(value_type = Option<Object>)]
    pub price_entry: Option<serde_json::Value>,
    /// Accepted.
    #[schema(max_length = 200)]
    #[validate(length(max = 200), custom(function = "plain_text"))]
    pub name: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct AddOn {
    /// A product pricing id.
    #[schema(min_length = 1, max_length = 64)]
    pub add_on_id: String,
    #[validate(nested)]
    pub customization: Option<Customization>,
    #[validate(range(min = 1, max = QUANTITY_MAX))]
    pub quantity: Option<i64>,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ComponentParameters {
    /// Accepted: the plan's own billing period applies.
    #[schema(max_length = 40)]
    #[validate(length(max = 40), custom(function = "plain_text"))]
    pub billing_period: Option<String>,
    pub committed_capacity: Option<i64>,
    /// The quantity of the item.
    #[validate(range(min = 0, max = QUANTITY_MAX))]
    pub initial_slot_count: Option<i64>,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ParameterizedComponent {
    /// An item pricing id of the plan.
    #[schema(min_length = 1, max_length = 64)]
    pub component_id: String,
    #[validate(nested)]
    pub parameters: Option<ComponentParameters>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Components {
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub extra_components: Vec<serde_json::Value>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub overridden_components: Vec<serde_json::Value>,
    #[serde(default)]
    #[validate(nested)]
    pub parameterized_components: Vec<ParameterizedComponent>,
    /// Item pricing ids of the plan to leave out.
    #[serde(default)]
    #[schema(value_type = Vec<super::extract::IdRef>, inline)]
    pub remove_components: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodToggle {
    pub enabled: Option<bool>,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodsConfig {
    pub card: Option<MethodToggle>,
    pub direct_debit: Option<MethodToggle>,
}

/// Which payment methods the page offers. `type` `online` collects a card; anything else, or
/// no enabled method, means payment by invoice.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodsConfig {
    #[serde(rename = "type")]
    #[schema(max_length = 40)]
    pub kind: Option<String>,
    pub config: Option<MethodsConfig>,
}

/// The body of seed 001.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateCheckoutSession {
    /// Customer id or your identifier (alias).
    #[schema(max_length = 200)]
    pub customer_id: Option<String>,
    /// The product pricing to buy.
    #[schema(min_length = 1, max_length = 64)]
    pub plan_version_id: String,
    #[serde(default)]
    #[validate(length(max = 100), nested)]
    pub add_ons: Vec<AddOn>,
    /// Accepted.
    pub auto_advance_invoices: Option<bool>,
    /// Day of the month (1–31) renewals fall on.
    #[validate(range(min = 1, max = 31))]
    pub billing_day_anchor: Option<i64>,
    #[schema(max_length = 35)]
    pub billing_start_date: Option<String>,
    /// false: payment by invoice, no card.
    pub charge_automatically: Option<bool>,
    #[validate(nested)]
    pub components: Option<Components>,
    /// A promo code (accepted; stored coupons are `coupon_ids`).
    #[schema(max_length = 40)]
    #[validate(length(max = 40), custom(function = "plain_text"))]
    pub coupon_code: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<super::extract::IdRef>, inline)]
    pub coupon_ids: Vec<String>,
    #[schema(max_length = 35)]
    pub end_date: Option<String>,
    /// Hours until the session expires (default 24; 0 = never).
    pub expires_in_hours: Option<i64>,
    #[schema(max_length = 2000)]
    pub invoice_memo: Option<String>,
    #[schema(max_length = 200)]
    #[validate(length(max = 200), custom(function = "plain_text"))]
    pub invoice_threshold: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Option<serde_json::Value>,
    /// Days until a manual invoice is due.
    #[validate(range(min = 0, max = 365))]
    pub net_terms: Option<i64>,
    pub payment_methods_config: Option<PaymentMethodsConfig>,
    #[schema(max_length = 200)]
    pub purchase_order: Option<String>,
    #[validate(range(min = 0, max = 3650))]
    pub trial_duration_days: Option<i64>,
}

/// The seed-001 view of a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionBody {
    pub checkout_type: &'static str,
    pub created_at: DateTime<Utc>,
    pub customer_id: Option<String>,
    pub id: String,
    pub plan_version_id: Option<String>,
    /// CREATED, AWAITING_PAYMENT, COMPLETED, EXPIRED or CANCELLED.
    pub status: String,
    pub billing_day_anchor: Option<i64>,
    pub billing_start_date: Option<String>,
    pub checkout_url: String,
    pub completed_at: Option<DateTime<Utc>>,
    pub coupon_code: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub net_terms: Option<i64>,
    pub payment_methods_config: Option<PaymentMethodsConfig>,
    pub subscription_id: Option<String>,
    pub trial_duration_days: Option<i64>,
    pub invoice_id: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    pub session: SessionBody,
}

/// What seed 001 sends that Kasse echoes back, kept in `checkout_sessions.extra`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Extra {
    plan_version_id: Option<String>,
    billing_day_anchor: Option<i64>,
    billing_start_date: Option<String>,
    coupon_code: Option<String>,
    net_terms: Option<i64>,
    payment_methods_config: Option<PaymentMethodsConfig>,
    trial_duration_days: Option<i64>,
    end_date: Option<String>,
    invoice_memo: Option<String>,
    invoice_threshold: Option<String>,
    purchase_order: Option<String>,
    components: Option<Components>,
}

fn date(param: &str, value: &Option<String>) -> ApiResult<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) => {
            let d = NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                .map_err(|_| ApiError::invalid(param, format!("`{param}` must be a date such as 2026-12-25.")))?;
            validate::date_in_range(param, d.and_time(chrono::NaiveTime::MIN).and_utc())?;
            Ok(Some(d.to_string()))
        }
    }
}

pub fn body(state: &AppState, s: &CheckoutSession) -> SessionBody {
    let extra: Extra = serde_json::from_str(&s.extra).unwrap_or_default();
    SessionBody {
        checkout_type: "SELF_SERVE",
        created_at: s.created_at,
        customer_id: s.customer_id.clone(),
        id: s.id.clone(),
        plan_version_id: extra.plan_version_id,
        status: s.status.clone(),
        billing_day_anchor: extra.billing_day_anchor,
        billing_start_date: extra.billing_start_date,
        checkout_url: session_url(state, &s.token),
        completed_at: s.completed_at,
        coupon_code: extra.coupon_code,
        expires_at: s.expires_at,
        net_terms: extra.net_terms,
        payment_methods_config: extra.payment_methods_config,
        subscription_id: s.subscription_id.clone(),
        trial_duration_days: extra.trial_duration_days,
        invoice_id: s.invoice_id.clone(),
        metadata: serde_json::from_str(&s.metadata).unwrap_or_default(),
    }
}

#[utoipa::path(post, path = "/api/v1/checkout-sessions", tag = "checkout",
    request_body = CreateCheckoutSession,
    responses((status = 200, body = SessionResponse), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Tenant(company): Tenant,
    ApiJson(b): ApiJson<CreateCheckoutSession>,
) -> ApiResult<Json<SessionResponse>> {
    b.validate().map_err(invalid_fields)?;
    let plan_id = b.plan_version_id.trim().to_string();
    // Which add-ons are recurring decides where they go: one query for all of them.
    let mut wanted: Vec<String> = b.add_ons.iter().map(|a| a.add_on_id.clone()).collect();
    wanted.push(plan_id.clone());
    let pricings = db::pricings::get_many(&state.db, &company.id, &wanted).await?;
    let plan = pricings
        .iter()
        .find(|p| p.pricing.id == plan_id)
        .ok_or_else(|| ApiError::unknown_ref("plan_version_id", "plan version", &plan_id))?;

    let mut order = Order { product_pricing_ids: vec![plan_id.clone()], ..Order::default() };
    for (i, add_on) in b.add_ons.iter().enumerate() {
        let param = format!("add_ons[{i}]");
        let p = pricings
            .iter()
            .find(|p| p.pricing.id == add_on.add_on_id)
            .ok_or_else(|| ApiError::unknown_ref(format!("{param}.add_on_id"), "add-on", &add_on.add_on_id))?;
        let quantity = add_on.quantity.unwrap_or(1);
        let one_time = p.items.iter().all(|it| it.period_unit.is_none());
        if one_time {
            order.onetime_items.push(OneTimeItem {
                aggregate: Some(quantity),
                product_pricing_id: Some(p.pricing.id.clone()),
                custom_price: None,
                quantity_config: None,
                onetime_billable_id: None,
            });
        } else {
            if order.product_pricing_ids.contains(&p.pricing.id) {
                return Err(ApiError::invalid(format!("{param}.add_on_id"), "This add-on is already in the order."));
            }
            order.product_pricing_ids.push(p.pricing.id.clone());
            order.config_items.push(config(Some(p.pricing.id.clone()), None, quantity));
        }
    }
    let components = b.components.clone().unwrap_or_default();
    for (i, c) in components.parameterized_components.iter().enumerate() {
        let param = format!("components.parameterized_components[{i}]");
        if !plan.items.iter().any(|it| it.id == c.component_id) {
            return Err(ApiError::invalid(format!("{param}.component_id"), "Not a component of this plan version."));
        }
        let q = c.parameters.as_ref().and_then(|p| p.initial_slot_count).unwrap_or(1);
        order.config_items.push(config(Some(plan_id.clone()), Some(c.component_id.clone()), q));
    }
    for (i, id) in components.remove_components.iter().enumerate() {
        if !plan.items.iter().any(|it| &it.id == id) {
            return Err(ApiError::invalid(
                format!("components.remove_components[{i}]"),
                "Not a component of this plan version.",
            ));
        }
        order.config_items.push(config(Some(plan_id.clone()), Some(id.clone()), 0));
    }
    order.coupon_ids = b.coupon_ids.clone();
    if let Some(days) = b.trial_duration_days {
        if days > 0 {
            order.trial = Some(true);
            order.trial_term = Some(Span { count: days, frequency: PeriodUnit::Day });
        }
    }
    let (anchor, net_terms) = (b.billing_day_anchor, b.net_terms);
    let billing_start_date = date("billing_start_date", &b.billing_start_date)?;
    let end_date = date("end_date", &b.end_date)?;
    let online = b.payment_methods_config.as_ref().is_none_or(|pm| {
        let card = pm.config.as_ref().and_then(|c| c.card.as_ref()).and_then(|t| t.enabled).unwrap_or(true);
        pm.kind.as_deref().is_none_or(|k| k.eq_ignore_ascii_case("online")) && card
    });
    let provider =
        if b.charge_automatically == Some(false) || !online { ProviderKind::Manual } else { ProviderKind::Sandbox };
    let metadata = match b.metadata.clone() {
        None | Some(serde_json::Value::Null) => serde_json::json!({}),
        Some(v @ serde_json::Value::Object(_)) => v,
        // Seed 001 leaves metadata's type open; keep any JSON value under one key.
        Some(other) => serde_json::json!({ "value": other }),
    };
    let extra = Extra {
        plan_version_id: Some(plan_id),
        billing_day_anchor: anchor,
        billing_start_date,
        coupon_code: b.coupon_code.clone().filter(|c| !c.trim().is_empty()),
        net_terms,
        payment_methods_config: b.payment_methods_config.clone(),
        trial_duration_days: b.trial_duration_days,
        end_date,
        invoice_memo: validate::opt_text("invoice_memo", b.invoice_memo.as_deref(), 2000)?,
        invoice_threshold: b.invoice_threshold.clone(),
        purchase_order: validate::opt_text("purchase_order", b.purchase_order.as_deref(), 200)?,
        components: b.components.clone(),
    };
    let options = Options {
        allow_promo_code: true,
        provider: provider.as_str().to_string(),
        billing_day_anchor: anchor.and_then(|d| u32::try_from(d).ok()),
        net_terms: net_terms.and_then(|d| u32::try_from(d).ok()),
        ..Options::default()
    };
    let new = NewSession {
        source: "SESSION",
        link_id: None,
        customer_id: b.customer_id.clone(),
        order,
        // The seed calls it a coupon code; customers type it like a promo code.
        promo_code: extra.coupon_code.clone(),
        options,
        extra: serde_json::to_value(&extra).unwrap_or_default(),
        metadata,
        locale: None,
        expires_in_hours: b.expires_in_hours.unwrap_or(24),
        cache_version: Some(company.cache_version),
    };
    let session = create_session(&state, &company.id, new).await.map_err(|e| {
        // The promo code was given as `coupon_code`: name that field.
        if e.is_about("promo_code") { e.with_field("coupon_code") } else { e }
    })?;
    Ok(Json(SessionResponse { session: body(&state, &session) }))
}

fn config(pricing: Option<String>, item: Option<String>, quantity: i64) -> ConfigItem {
    ConfigItem {
        product_pricing_id: pricing,
        product_metric_pricing_id: item,
        num_licenses: Some(quantity),
        minimum_units: None,
        quantity_config: None,
        custom_amount: None,
    }
}

async fn load(state: &AppState, company_id: &str, id: &str) -> ApiResult<CheckoutSession> {
    let s = db::checkouts::get(&state.db, company_id, id)
        .await?
        .filter(|s| s.source == "SESSION")
        .ok_or_else(|| ApiError::not_found("checkout session", id))?;
    Ok(crate::services::expiry::refresh(state, s).await?)
}

#[utoipa::path(get, path = "/api/v1/checkout-sessions/{id}", tag = "checkout",
    params(("id" = String, Path)),
    responses((status = 200, body = SessionResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Tenant(company): Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionResponse>> {
    let s = load(&state, &company.id, &id).await?;
    Ok(Json(SessionResponse { session: body(&state, &s) }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub data: Vec<SessionBody>,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/checkout-sessions", tag = "checkout",
    params(ListQuery, CheckoutFilter),
    responses((status = 200, body = SessionList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Tenant(company): Tenant,
    ApiQuery(query): ApiQuery<ListQuery>,
    ApiQuery(filter): ApiQuery<CheckoutFilter>,
) -> ApiResult<Json<SessionList>> {
    let (page, rows) = super::checkout::list_page(&state, &company.id, &query, &filter, Some("SESSION")).await?;
    let list = List::from_rows(rows, &page, |s| &s.id, |s| Ok(body(&state, &s)))?;
    Ok(Json(SessionList { data: list.data, has_more: list.has_more, next_cursor: list.next_cursor }))
}

#[utoipa::path(post, path = "/api/v1/checkout-sessions/{id}/cancel", tag = "checkout",
    params(("id" = String, Path)),
    responses((status = 200, body = SessionResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Tenant(company): Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionResponse>> {
    let s = load(&state, &company.id, &id).await?;
    let s = crate::services::expiry::close_by_merchant(&state, s, Status::Cancelled).await?;
    Ok(Json(SessionResponse { session: body(&state, &s) }))
}
