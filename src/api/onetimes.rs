//! `POST …/one_times` (seed 002): one-time charges for a customer, priced once, then invoiced
//! now (IMMEDIATE, with an optional automatic charge of a saved payment method) or left
//! waiting for the customer's next invoice (NEXT).

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use validator::Validate;

use super::discounts::{self, DiscountBody};
use super::extract::{ApiJson, CompanyCtx};
use super::product_pricings::{self, ProductPricingResponse};
use super::quote_spec::{CustomPrice, QuantityConfig};
use crate::db::billing::Invoice;
use crate::db::onetimes::Billable;
use crate::db::{self, customers::Customer};
use crate::domain::billing::InvoiceStatus;
use crate::domain::ids::{self, prefix};
use crate::domain::pricing::{self, QuoteLine};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::services::events::{self, Event, PaymentFailed};
use crate::services::invoicing::{self, PayWith, Terms};
use crate::services::quote::{self, QuoteSpec};
use crate::services::validate;
use crate::state::AppState;

/// The longest payment term an invoice may give, in days.
pub const DUE_DAYS_MAX: i64 = 3650;

/// IMMEDIATE or NEXT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OneTimeType {
    /// Invoiced now.
    Immediate,
    /// Added to the customer's next invoice.
    Next,
}

impl OneTimeType {
    fn as_str(self) -> &'static str {
        match self {
            OneTimeType::Immediate => "IMMEDIATE",
            OneTimeType::Next => "NEXT",
        }
    }
}

/// One charge (seed `onetime_items[]`).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OneTimeRequestItem {
    /// The quantity (default 1).
    pub aggregate: Option<i64>,
    /// A price of this charge only; or name a one-time `product_pricing_id`.
    pub custom_price: Option<CustomPrice>,
    #[schema(max_length = 64)]
    pub product_pricing_id: Option<String>,
    pub quantity_config: Option<QuantityConfig>,
    /// Where the charge appears on the invoice (ascending; default: the order given).
    pub sort_order: Option<i64>,
}

/// Seed 002's body.
#[derive(Clone, Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateOneTimes {
    /// The customer's id or your identifier for them.
    #[schema(max_length = 64)]
    pub customer_id: Option<String>,
    #[validate(length(min = 1, max = 100, message = "Name 1 to 100 charges."))]
    pub onetime_items: Vec<OneTimeRequestItem>,
    #[serde(rename = "type")]
    pub kind: Option<OneTimeType>,
    /// IMMEDIATE: charge the payment method the customer saved at an earlier checkout.
    pub auto_charges: Option<bool>,
    #[serde(default)]
    pub discounts: Vec<DiscountBody>,
    /// The invoice's date (IMMEDIATE; default today): `2026-11-21` or RFC 3339.
    #[schema(max_length = 35)]
    pub invoice_date: Option<String>,
    /// Days from the invoice date to its due date (default 0: due on receipt).
    #[validate(range(min = 0, max = DUE_DAYS_MAX))]
    pub invoice_due_date_from_creation: Option<i64>,
    #[schema(max_length = 5000)]
    pub invoice_payment_instructions: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    #[validate(length(max = 100))]
    pub metadata: BTreeMap<String, Value>,
    #[schema(max_length = 5000)]
    pub notes: Option<String>,
}

/// A one-time charge (seed 002's answer), with the invoice it is on once invoiced.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillableResponse {
    pub id: String,
    pub company_id: String,
    pub customer_id: String,
    /// IMMEDIATE or NEXT.
    #[serde(rename = "type")]
    pub kind: String,
    /// PENDING (waiting for the next invoice) or INVOICED.
    pub state: String,
    pub name: String,
    pub aggregate: i64,
    pub currency: String,
    /// The charge before discounts, in minor units.
    pub amount: i64,
    #[schema(value_type = Option<Object>)]
    pub custom_price: Option<Value>,
    pub product_pricing_id: Option<String>,
    pub product_pricing: Option<ProductPricingResponse>,
    #[schema(value_type = Option<Object>)]
    pub quantity_config: Option<Value>,
    pub sort_order: i64,
    pub auto_charges: bool,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub notes: Option<String>,
    pub invoice_id: Option<String>,
    /// The hosted invoice page.
    pub invoice_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/one_times", tag = "invoices",
    params(("company_id" = String, Path)), request_body = CreateOneTimes,
    responses((status = 200, body = Vec<BillableResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiJson(body): ApiJson<CreateOneTimes>,
) -> ApiResult<Json<Vec<BillableResponse>>> {
    Ok(Json(create_onetimes(&state, ctx.id(), body).await?))
}

/// Check, price and store one-time charges (and their invoice when IMMEDIATE); shared by the
/// API and `kasse demo`.
pub async fn create_onetimes(
    state: &AppState,
    company_id: &str,
    body: CreateOneTimes,
) -> ApiResult<Vec<BillableResponse>> {
    body.validate().map_err(super::extract::invalid_fields)?;
    let now = state.clock.now();
    let customer = customer(state, company_id, body.customer_id.as_deref()).await?;
    let kind = body.kind.unwrap_or(OneTimeType::Immediate);
    let auto_charges = body.auto_charges.unwrap_or(false);
    if kind == OneTimeType::Next && auto_charges {
        return Err(ApiError::invalid(
            "auto_charges",
            "NEXT charges are paid with the invoice they join; `auto_charges` applies to IMMEDIATE only.",
        ));
    }
    let terms = terms(
        body.invoice_date.as_deref(),
        body.invoice_due_date_from_creation,
        body.invoice_payment_instructions.as_deref(),
        body.notes.as_deref(),
    )?;
    if kind == OneTimeType::Next {
        let given = [
            ("invoice_date", body.invoice_date.is_some()),
            ("invoice_due_date_from_creation", body.invoice_due_date_from_creation.is_some()),
            ("invoice_payment_instructions", body.invoice_payment_instructions.is_some()),
        ];
        if let Some((param, _)) = given.into_iter().find(|(_, given)| *given) {
            return Err(ApiError::invalid(param, "NEXT charges take the terms of the invoice they join."));
        }
    }

    // Our ids first, so each priced line tells which charge it belongs to.
    let billable_ids: Vec<String> =
        body.onetime_items.iter().map(|_| ids::new_id(prefix::ONETIME_BILLABLE, now)).collect();
    let items: Vec<crate::domain::order::OneTimeItem> = body
        .onetime_items
        .iter()
        .zip(&billable_ids)
        .map(|(o, id)| crate::domain::order::OneTimeItem {
            aggregate: o.aggregate,
            product_pricing_id: o.product_pricing_id.clone(),
            custom_price: o.custom_price.as_ref().map(Into::into),
            quantity_config: o.quantity_config.as_ref().map(Into::into),
            onetime_billable_id: Some(id.clone()),
        })
        .collect();
    let discounts = super::discounts::to_stored(&body.discounts)?;
    let spec = QuoteSpec { onetime_items: &items, discounts: &discounts, ..QuoteSpec::default() };
    let resolved = quote::resolve(state, company_id, &spec).await?;
    let quote = pricing::quote(&resolved.input).map_err(crate::services::quote::pricing_error)?;
    if quote.due_today.total > crate::domain::money::MAX_MINOR {
        return Err(ApiError::invalid("onetime_items", "The charges add up to more than an invoice can hold."));
    }
    let currency = quote.currency.code().to_string();

    let mut order: Vec<usize> = (0..body.onetime_items.len()).collect();
    order.sort_by_key(|&i| (body.onetime_items[i].sort_order.unwrap_or(i as i64), i));
    let metadata = serde_json::to_string(&body.metadata).map_err(|e| ApiError::internal(e.to_string()))?;
    let batch_id = ids::new_id(prefix::ONETIME_BATCH, now);
    let mut billables = Vec::new();
    for (position, &i) in order.iter().enumerate() {
        let item = &body.onetime_items[i];
        let id = &billable_ids[i];
        let lines: Vec<&QuoteLine> =
            quote.lines.iter().filter(|l| l.onetime_billable_id.as_ref() == Some(id)).collect();
        // The batch's discounts ride on its first charge: a batch is always invoiced whole.
        let discount_lines: Vec<Value> = if position == 0 {
            quote
                .due_today
                .discounts
                .iter()
                .filter(|d| d.amount > 0)
                .map(|d| json!({"name": d.name, "amount": d.amount}))
                .collect()
        } else {
            Vec::new()
        };
        let name = lines.first().map(|l| l.name.clone()).unwrap_or_default();
        billables.push(Billable {
            id: id.clone(),
            company_id: company_id.to_string(),
            customer_id: customer.id.clone(),
            batch_id: batch_id.clone(),
            kind: kind.as_str().into(),
            name,
            currency: currency.clone(),
            aggregate: item.aggregate.unwrap_or(1),
            product_pricing_id: item.product_pricing_id.clone(),
            custom_price: item.custom_price.as_ref().map(|c| json!(c).to_string()),
            quantity_config: item.quantity_config.as_ref().map(|c| json!(c).to_string()),
            sort_order: item.sort_order.unwrap_or(i as i64),
            auto_charges,
            lines: Value::Array(lines.iter().map(|l| line_json(l)).collect()).to_string(),
            subtotal: lines.iter().map(|l| l.amount).sum(),
            discount_total: if position == 0 { quote.due_today.discount_total } else { 0 },
            discounts: Value::Array(discount_lines).to_string(),
            metadata: metadata.clone(),
            notes: terms.notes.clone(),
            invoice_id: None,
            created_at: now,
            updated_at: now,
        });
    }

    let mut tx = state.db.begin().await?;
    for b in &billables {
        db::onetimes::insert_billable(&mut tx, b).await?;
    }
    let invoice = match kind {
        OneTimeType::Immediate => Some(invoicing::issue_in(&mut tx, &billables, &terms, now).await?),
        OneTimeType::Next => None,
    };
    tx.commit().await?;

    if let Some(invoice) = &invoice
        && auto_charges
    {
        auto_charge(state, invoice).await;
    }
    respond(state, company_id, &batch_id).await
}

/// The customer by id or identifier, of this company only.
pub(crate) async fn customer(state: &AppState, company_id: &str, id: Option<&str>) -> ApiResult<Customer> {
    let id = id.filter(|s| !s.trim().is_empty()).ok_or_else(|| ApiError::missing("customer_id"))?;
    let customer = db::customers::get(&state.db, company_id, id)
        .await?
        .ok_or_else(|| ApiError::unknown_ref("customer_id", "customer", id))?;
    if customer.archived_at.is_some() {
        return Err(ApiError::invalid("customer_id", "This customer is archived."));
    }
    Ok(customer)
}

/// An invoice's date, due date, instructions and notes as a request gives them.
pub(crate) fn terms(
    invoice_date: Option<&str>,
    due_days: Option<i64>,
    instructions: Option<&str>,
    notes: Option<&str>,
) -> ApiResult<Terms> {
    Ok(Terms {
        issued_at: invoice_date.map(|d| discounts::parse_start("invoice_date", d)).transpose()?,
        // 0 to DUE_DAYS_MAX, checked with the body.
        due_days,
        payment_instructions: validate::opt_text("invoice_payment_instructions", instructions, validate::TEXT_MAX)?,
        notes: validate::opt_text("notes", notes, validate::TEXT_MAX)?,
    })
}

/// An invoice line as stored (the same keys a checkout's invoice lines have).
fn line_json(l: &QuoteLine) -> Value {
    let blank = |s: &str| if s.is_empty() { None } else { Some(s.to_string()) };
    json!({
        // A custom price's description is its name; the engine's "1 unit, per unit" adds nothing.
        "name": l.name, "description": if l.product_pricing_id.is_empty() { "" } else { l.description.as_str() },
        "product_id": l.product_id,
        "product_pricing_id": blank(&l.product_pricing_id), "item_pricing_id": blank(&l.item_pricing_id),
        "onetime_billable_id": l.onetime_billable_id, "quantity": l.quantity, "amount": l.amount,
        "metered": false, "billing_period": null,
    })
}

/// Charge the customer's saved payment method for `invoice`. Without one, the invoice stays
/// open with its hosted link and `payment.failed` says why; a decline is recorded the same way.
/// The charges and their invoice are stored by then, so a failure here is logged, not
/// answered: an error would invite a retry that creates them twice.
pub async fn auto_charge(state: &AppState, invoice: &Invoice) {
    if let Err(e) = try_auto_charge(state, invoice).await {
        tracing::error!(error = %e.message, invoice = invoice.id, "automatic charge failed; the invoice stays open");
    }
}

async fn try_auto_charge(state: &AppState, invoice: &Invoice) -> ApiResult<()> {
    if invoice.status != InvoiceStatus::Open.as_str() || invoice.amount_due == 0 {
        return Ok(());
    }
    let provider = invoicing::provider(state, invoice).await?;
    let method = db::onetimes::latest_method(&state.db, &invoice.customer_id, provider.kind().as_str()).await?;
    match method {
        Some(m) => {
            invoicing::pay(state, invoice, PayWith::Saved(&m)).await?;
        }
        None => {
            let now = state.clock.now();
            let mut tx = state.db.begin().await?;
            let reason = "The customer has no saved payment method; the invoice waits on its hosted page.";
            let data = PaymentFailed::not_attempted(invoice, reason);
            events::raise(&mut tx, &invoice.company_id, Event::PaymentFailed(data), now).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// The charges of one batch as stored, with their pricings expanded (one query for all).
async fn respond(state: &AppState, company_id: &str, batch_id: &str) -> ApiResult<Vec<BillableResponse>> {
    let billables = db::onetimes::batch(&state.db, batch_id).await?;
    let mut wanted: Vec<String> = billables.iter().filter_map(|b| b.product_pricing_id.clone()).collect();
    wanted.sort();
    wanted.dedup();
    let mut pricings: HashMap<String, ProductPricingResponse> = HashMap::new();
    for p in db::pricings::get_many(&state.db, company_id, &wanted).await? {
        let id = p.pricing.id.clone();
        pricings.insert(id, product_pricings::response(p)?);
    }
    let invoice_id = billables.iter().find_map(|b| b.invoice_id.clone());
    let invoice = match &invoice_id {
        Some(id) => db::billing::get_invoice(&state.db, company_id, id).await?,
        None => None,
    };
    let url = invoice.as_ref().map(|i| invoicing::invoice_url(state, i));
    billables.into_iter().map(|b| response(b, &pricings, url.clone())).collect()
}

pub(crate) fn response(
    b: Billable,
    pricings: &HashMap<String, ProductPricingResponse>,
    invoice_url: Option<String>,
) -> ApiResult<BillableResponse> {
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str::<Value>(&s).ok());
    let product_pricing = b.product_pricing_id.as_ref().and_then(|id| pricings.get(id)).cloned();
    Ok(BillableResponse {
        state: if b.invoice_id.is_some() { "INVOICED" } else { "PENDING" }.into(),
        invoice_url: b.invoice_id.as_ref().and(invoice_url),
        amount: b.subtotal,
        custom_price: parse(b.custom_price),
        quantity_config: parse(b.quantity_config),
        metadata: serde_json::from_str(&b.metadata).unwrap_or_else(|_| json!({})),
        product_pricing,
        id: b.id,
        company_id: b.company_id,
        customer_id: b.customer_id,
        kind: b.kind,
        name: b.name,
        aggregate: b.aggregate,
        currency: b.currency,
        product_pricing_id: b.product_pricing_id,
        sort_order: b.sort_order,
        auto_charges: b.auto_charges,
        notes: b.notes,
        invoice_id: b.invoice_id,
        created_at: b.created_at,
        updated_at: b.updated_at,
    })
}
