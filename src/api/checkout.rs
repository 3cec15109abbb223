//! `…/checkout` (seed 000): customer-specific checkout sessions for a set of plans — create
//! (answering `{id, url}`), get, list, and expire.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{ApiJson, ApiQuery, CompanyCtx, ListQuery};
use super::list::List;
use super::preview::{QuoteBody, quote_body};
use super::quote_spec::order_body;
use crate::db::checkouts::CheckoutSession;
use crate::db::{self, Page};
use crate::domain::checkout::Status;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::payments::ProviderKind;
use crate::services::checkout::{self as session, CompletionAction, Options};
use crate::services::validate;
use crate::state::AppState;

/// `completion_action`: what the customer sees after paying.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompletionActionBody {
    /// Send the customer to `redirect_url`.
    Redirect,
    /// Show `confirmation_message` with the order summary.
    #[serde(alias = "SHOW_CONFIRMATION", alias = "SHOW_CONFIRMATION_MESSAGE", alias = "CONFIRMATION")]
    ConfirmationMessage,
}

/// How the hosted page behaves (seed `options`, plus Kasse's own fields marked below).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutOptionsBody {
    pub allow_promo_code: Option<bool>,
    pub completion_action: Option<CompletionActionBody>,
    #[schema(max_length = 1000)]
    pub confirmation_message: Option<String>,
    /// http or https; required with completion_action REDIRECT.
    #[schema(max_length = 2000)]
    pub redirect_url: Option<String>,
    pub requires_customer_address: Option<bool>,
    /// Kasse: a "back to merchant" link on every page.
    #[schema(max_length = 2000)]
    pub back_url: Option<String>,
    /// Kasse: ask for a phone number.
    pub requires_phone: Option<bool>,
    /// Kasse: ask for a company name (`require_company`: and insist on it).
    pub collect_company: Option<bool>,
    pub require_company: Option<bool>,
    /// Kasse: shown with manual payment (bank transfer).
    #[schema(max_length = 2000)]
    pub payment_instructions: Option<String>,
    /// Kasse: keep the customer's card for later charges (auto-charged one-time charges);
    /// the page tells the customer. Also accepted as `save_card_on_checkout`.
    #[serde(alias = "save_card_on_checkout")]
    pub save_payment_method: Option<bool>,
}

order_body! {
    /// Create a checkout session for a set of plans (the body of seed 000). Fields marked
    /// "accepted" are taken for compatibility and have no effect in Kasse.
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct CreateCheckout {
        /// false: no card is collected; the customer gets an open invoice with payment instructions.
        pub auto_charges: Option<bool>,
        /// Accepted.
        pub auto_renews: Option<bool>,
        /// Accepted.
        #[schema(value_type = Option<Object>)]
        pub change_proration_type: Option<serde_json::Value>,
        /// Accepted.
        pub change_reset_billing_anchor: Option<bool>,
        /// Accepted.
        #[schema(value_type = Option<Object>)]
        pub change_timing: Option<serde_json::Value>,
        /// An existing customer (id or your identifier); without it the page asks for the details.
        #[schema(max_length = 64)]
        pub customer_id: Option<String>,
        #[serde(default)]
        pub metadata: BTreeMap<String, serde_json::Value>,
        pub options: Option<CheckoutOptionsBody>,
        /// Must be null: changing an existing subscription is not supported yet.
        #[schema(max_length = 200)]
        pub previous_subscription_id: Option<String>,
        /// `CHECKOUT_SESSION` (the only kind).
        #[serde(rename = "type")]
        #[schema(max_length = 40)]
        pub kind: Option<String>,
        /// Kasse: hours until the link expires (default 24; 0 = never).
        pub expires_in_hours: Option<i64>,
        /// Kasse: `en` or `de`; default from the customer's browser.
        #[schema(max_length = 35)]
        pub locale: Option<String>,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedCheckout {
    pub id: String,
    pub url: Option<String>,
}

/// A checkout session as the merchant sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutResponse {
    pub id: String,
    pub url: String,
    /// CREATED, AWAITING_PAYMENT, COMPLETED, EXPIRED or CANCELLED.
    pub status: String,
    /// CHECKOUT, SESSION or LINK: which API made it.
    pub source: String,
    pub link_id: Option<String>,
    pub customer_id: Option<String>,
    pub subscription_id: Option<String>,
    pub invoice_id: Option<String>,
    pub payment_id: Option<String>,
    pub currency: String,
    /// The order priced as the customer sees it now; only when getting one session, and null
    /// if its catalog entries were archived since.
    pub quote: Option<QuoteBody>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub expires_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub use crate::services::checkout_create::{NewSession, build_session, check_url, create_session, session_url};

/// The options of a seed-000 body, checked.
pub fn options_from(body: Option<&CheckoutOptionsBody>, auto_charges: Option<bool>) -> ApiResult<Options> {
    let o = body.cloned().unwrap_or_default();
    let completion_action = match o.completion_action {
        Some(CompletionActionBody::Redirect) => CompletionAction::Redirect,
        _ => CompletionAction::ConfirmationMessage,
    };
    let redirect_url = o.redirect_url.as_deref().map(|u| check_url("options.redirect_url", u)).transpose()?;
    if completion_action == CompletionAction::Redirect && redirect_url.is_none() {
        return Err(
            ApiError::missing("options.redirect_url").with_message("completion_action REDIRECT needs `redirect_url`.")
        );
    }
    let provider = if auto_charges == Some(false) { ProviderKind::Manual } else { ProviderKind::Sandbox };
    Ok(Options {
        allow_promo_code: o.allow_promo_code.unwrap_or(false),
        completion_action,
        confirmation_message: validate::opt_text(
            "options.confirmation_message",
            o.confirmation_message.as_deref(),
            1000,
        )?,
        redirect_url,
        back_url: o.back_url.as_deref().map(|u| check_url("options.back_url", u)).transpose()?,
        requires_customer_address: o.requires_customer_address.unwrap_or(false),
        requires_phone: o.requires_phone.unwrap_or(false),
        collect_company: o.collect_company.unwrap_or(false) || o.require_company.unwrap_or(false),
        require_company: o.require_company.unwrap_or(false),
        provider: provider.as_str().to_string(),
        payment_instructions: validate::opt_text(
            "options.payment_instructions",
            o.payment_instructions.as_deref(),
            2000,
        )?,
        save_payment_method: o.save_payment_method.unwrap_or(false),
        billing_day_anchor: None,
        net_terms: None,
    })
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/checkout", tag = "checkout",
    params(("company_id" = String, Path)), request_body = CreateCheckout,
    responses((status = 200, body = CreatedCheckout), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiJson(body): ApiJson<CreateCheckout>,
) -> ApiResult<Json<CreatedCheckout>> {
    if body.kind.as_deref().is_some_and(|k| k != "CHECKOUT_SESSION") {
        return Err(ApiError::invalid("type", "`type` must be CHECKOUT_SESSION."));
    }
    if body.previous_subscription_id.is_some() {
        return Err(ApiError::invalid(
            "previous_subscription_id",
            "Changing an existing subscription through checkout is not supported; leave this null.",
        ));
    }
    validate::list_len("metadata", &body.metadata.keys().collect::<Vec<_>>())?;
    let new = NewSession {
        source: "CHECKOUT",
        link_id: None,
        customer_id: body.customer_id.clone(),
        options: options_from(body.options.as_ref(), body.auto_charges)?,
        order: body.order()?,
        promo_code: None,
        extra: serde_json::json!({}),
        metadata: serde_json::Value::Object(body.metadata.into_iter().collect()),
        locale: body.locale,
        expires_in_hours: body.expires_in_hours.unwrap_or(24),
        cache_version: Some(ctx.0.cache_version),
    };
    let session = create_session(&state, ctx.id(), new).await?;
    Ok(Json(CreatedCheckout { url: Some(session_url(&state, &session.token)), id: session.id }))
}

/// The merchant's view of a session; with `with_quote`, priced as the customer sees it now
/// (lists leave the quote out: pricing every session of a page would cost queries per row).
pub async fn response(state: &AppState, s: CheckoutSession, with_quote: bool) -> ApiResult<CheckoutResponse> {
    let quote = if with_quote {
        let parsed = session::parse(&s)?;
        match session::price(state, &s, &parsed.order, &parsed.entered).await {
            Ok(p) => Some(quote_body(p.quote, p.resolved.promo.map(|(_, code)| code))),
            // The catalog moved on (an archived plan): the session can no longer be priced.
            Err(e) if e.is_refusal() => None,
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    Ok(CheckoutResponse {
        url: session_url(state, &s.token),
        status: s.status.clone(),
        source: s.source.clone(),
        link_id: s.link_id.clone(),
        customer_id: s.customer_id.clone(),
        subscription_id: s.subscription_id.clone(),
        invoice_id: s.invoice_id.clone(),
        payment_id: s.payment_id.clone(),
        currency: s.currency.clone(),
        quote,
        metadata: serde_json::from_str(&s.metadata).unwrap_or_default(),
        expires_at: s.expires_at,
        completed_at: s.completed_at,
        created_at: s.created_at,
        updated_at: s.updated_at,
        id: s.id,
    })
}

/// Load a session of this company and bring its expiry up to date first.
pub async fn load(state: &AppState, company_id: &str, id: &str) -> ApiResult<CheckoutSession> {
    let s = db::checkouts::get(&state.db, company_id, id).await?.ok_or_else(|| ApiError::not_found("checkout", id))?;
    Ok(crate::services::expiry::refresh(state, s).await?)
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/checkout/{id}", tag = "checkout",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = CheckoutResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<CheckoutResponse>> {
    let s = load(&state, ctx.id(), &id).await?;
    Ok(Json(response(&state, s, true).await?))
}

super::extract::status_filter!(
    /// Filters of the checkout list.
    CheckoutFilter,
    "CREATED, AWAITING_PAYMENT, COMPLETED, EXPIRED or CANCELLED.",
    Status::ALL.map(Status::as_str)
);

/// A page of sessions, filtered by status and customer.
pub async fn list_page(
    state: &AppState,
    company_id: &str,
    query: &ListQuery,
    filter: &CheckoutFilter,
    source: Option<&str>,
) -> ApiResult<(Page, Vec<CheckoutSession>)> {
    let page = query.page()?;
    let (status, customer_id) = filter.checked()?;
    let rows = db::checkouts::list(&state.db, company_id, &page, status, customer_id, source).await?;
    Ok((page, rows))
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/checkout", tag = "checkout",
    params(("company_id" = String, Path), ListQuery, CheckoutFilter),
    responses((status = 200, body = List<CheckoutResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiQuery(query): ApiQuery<ListQuery>,
    ApiQuery(filter): ApiQuery<CheckoutFilter>,
) -> ApiResult<Json<List<CheckoutResponse>>> {
    let (page, rows) = list_page(&state, ctx.id(), &query, &filter, None).await?;
    let mut data = Vec::with_capacity(rows.len());
    for s in rows {
        data.push(response(&state, s, false).await?);
    }
    Ok(Json(List::from_rows(data, &page, |c| &c.id, Ok)?))
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/checkout/{id}/expire", tag = "checkout",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = CheckoutResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn expire(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<CheckoutResponse>> {
    let s = load(&state, ctx.id(), &id).await?;
    let s = crate::services::expiry::close_by_merchant(&state, s, Status::Expired).await?;
    Ok(Json(response(&state, s, true).await?))
}
