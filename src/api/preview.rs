//! `POST …/pricing/preview`: price an order without storing anything; hosted pages render exactly this quote.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::discounts;
use super::extract::{ApiJson, CompanyCtx};
use super::price_spec::PeriodBody;
use super::quote_spec::order_body;
use crate::domain::pricing::{self, Charge, Quote};
use crate::error::{ApiResult, ErrorBody};
use crate::services::quote::{self, QuoteSpec, pricing_error};
use crate::state::AppState;

order_body! {
    /// An order to price, in the shape of the checkout request (seed 000).
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PreviewRequest {
        /// A promo code as a customer would type it.
        #[schema(max_length = 40)]
        pub promo_code: Option<String>,
        /// Price as of this moment (RFC 3339 or a date); default now.
        #[schema(max_length = 35)]
        pub start_date: Option<String>,
    }
}

/// One priced line.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteLineBody {
    pub product_id: String,
    /// Empty for custom one-time prices.
    pub product_pricing_id: String,
    /// Empty for custom one-time prices.
    pub item_pricing_id: String,
    pub onetime_billable_id: Option<String>,
    pub name: String,
    pub description: String,
    pub quantity: i64,
    /// The quantity after included units.
    pub billed_quantity: i64,
    /// `null` for one-time lines.
    pub billing_period: Option<PeriodBody>,
    /// Usage-metered: priced from usage later; not in any total.
    pub metered: bool,
    /// One period's amount, in minor units.
    pub amount: i64,
    /// Whether this line is part of today's charge.
    pub due_today: bool,
}

/// What one discount takes off one charge.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiscountLineBody {
    pub name: String,
    pub amount: i64,
    /// Indexes into `lines` of what it applied to.
    pub line_indexes: Vec<usize>,
}

/// One charge: today's, or the next one of a billing period.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChargeBody {
    pub at: DateTime<Utc>,
    pub subtotal: i64,
    pub discounts: Vec<DiscountLineBody>,
    pub discount_total: i64,
    pub total: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecurringBody {
    pub billing_period: PeriodBody,
    /// The next charge of this period after today's (or at the end of the trial).
    #[serde(flatten)]
    pub charge: ChargeBody,
}

/// A computed quote. Amounts are minor units of `currency`.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteBody {
    pub currency: String,
    pub lines: Vec<QuoteLineBody>,
    /// The sum of the lines due today, before discounts.
    pub subtotal: i64,
    pub discount_total: i64,
    pub total_due_today: i64,
    pub due_today: ChargeBody,
    pub recurring: Vec<RecurringBody>,
    pub first_recurring_charge_at: Option<DateTime<Utc>>,
    pub trial_ends_at: Option<DateTime<Utc>>,
    pub term_ends_at: Option<DateTime<Utc>>,
    /// The promo code that was applied, as stored.
    pub promo_code: Option<String>,
}

fn charge_body(c: Charge) -> ChargeBody {
    ChargeBody {
        at: c.at,
        subtotal: c.subtotal,
        discounts: c
            .discounts
            .into_iter()
            .map(|d| DiscountLineBody { name: d.name, amount: d.amount, line_indexes: d.line_indexes })
            .collect(),
        discount_total: c.discount_total,
        total: c.total,
    }
}

/// The API form of a quote.
pub fn quote_body(q: Quote, promo_code: Option<String>) -> QuoteBody {
    QuoteBody {
        currency: q.currency.code().to_string(),
        lines: q
            .lines
            .into_iter()
            .map(|l| QuoteLineBody {
                product_id: l.product_id,
                product_pricing_id: l.product_pricing_id,
                item_pricing_id: l.item_pricing_id,
                onetime_billable_id: l.onetime_billable_id,
                name: l.name,
                description: l.description,
                quantity: l.quantity,
                billed_quantity: l.billed_quantity,
                billing_period: l.frequency.period().map(PeriodBody::from),
                metered: l.metered,
                amount: l.amount,
                due_today: l.due_today,
            })
            .collect(),
        subtotal: q.due_today.subtotal,
        discount_total: q.due_today.discount_total,
        total_due_today: q.due_today.total,
        due_today: charge_body(q.due_today),
        recurring: q
            .recurring
            .into_iter()
            .map(|r| RecurringBody { billing_period: r.period.into(), charge: charge_body(r.charge) })
            .collect(),
        first_recurring_charge_at: q.first_recurring_charge_at,
        trial_ends_at: q.trial_ends_at,
        term_ends_at: q.term_ends_at,
        promo_code,
    }
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/pricing/preview", tag = "pricing",
    params(("company_id" = String, Path)), request_body = PreviewRequest,
    responses((status = 200, body = QuoteBody), (status = "4XX", body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiJson(body): ApiJson<PreviewRequest>,
) -> ApiResult<Json<QuoteBody>> {
    let now = body.start_date.as_deref().map(|d| discounts::parse_start("start_date", d)).transpose()?;
    let order = body.order()?;
    let spec = QuoteSpec {
        now,
        cache_version: Some(ctx.0.cache_version),
        ..quote::of_order(&order, body.promo_code.as_deref())
    };
    let resolved = quote::resolve(&state, ctx.id(), &spec).await?;
    let quote = pricing::quote(&resolved.input).map_err(pricing_error)?;
    Ok(Json(quote_body(quote, resolved.promo.map(|(_, code)| code))))
}
