//! `…/checkout_links` (seed 004): reusable links — items of type `product` (fixed quantity) or
//! `plan` (the customer configures the quantity), options, and the after-checkout action.
//! `GET /l/{slug}` starts a fresh session from a link for every visitor.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::checkout::check_url;
use super::extract::{ApiJson, ApiQuery, CompanyCtx, ListQuery};
use super::list::List;
use crate::db::links::CheckoutLink;
use crate::db::{self, DbError};
use crate::domain::ids::{self, prefix};
use crate::domain::link;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::services::links::check_spec;
use crate::services::validate;
use crate::state::AppState;

/// `product`: added with its fixed quantity. `plan`: added, and the customer picks the quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkItemType {
    Product,
    Plan,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkItem {
    #[serde(rename = "type")]
    pub kind: LinkItemType,
    /// The product pricing sold.
    #[schema(min_length = 1, max_length = 64)]
    pub product_pricing_id: String,
    /// The quantity (`product`), or the starting quantity (`plan`); default 1.
    pub quantity: Option<i64>,
    /// `plan`: the range the customer may choose in (default 1 to 1000).
    pub min_quantity: Option<i64>,
    pub max_quantity: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkOptions {
    /// Whether customers may enter promo codes.
    pub coupons_allowed: Option<bool>,
    /// Whether a company name is required (business customers).
    pub force_company: Option<bool>,
    /// Whether `product` items' quantities may be changed too.
    pub quantity_editable: Option<bool>,
    /// Days of free trial for recurring items.
    pub trial_days: Option<i64>,
}

/// After checkout: `redirect` to `redirect_url`, or show `confirmation_message`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkAction {
    Redirect,
    ConfirmationMessage,
}

/// A link's definition as stored.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LinkSpec {
    pub items: Vec<LinkItem>,
    pub options: LinkOptions,
    pub action: LinkAction,
    pub redirect_url: Option<String>,
    pub confirmation_message: Option<String>,
    /// The "back to merchant" button; hidden when absent.
    pub back_url: Option<String>,
    pub requires_customer_address: bool,
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLink {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// 3 to 64 lower-case letters, digits and `-`; unique across Kasse. Default: from the name.
    #[schema(min_length = 3, max_length = 64)]
    pub slug: Option<String>,
    pub enabled: Option<bool>,
    pub items: Vec<LinkItem>,
    pub options: Option<LinkOptions>,
    pub action: Option<LinkAction>,
    #[schema(max_length = 2000)]
    pub redirect_url: Option<String>,
    #[schema(max_length = 255)]
    pub confirmation_message: Option<String>,
    #[schema(max_length = 2000)]
    pub back_url: Option<String>,
    pub requires_customer_address: Option<bool>,
    /// `en` or `de`; default from the customer's browser.
    #[schema(max_length = 35)]
    pub locale: Option<String>,
}

/// A partial update: absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLink {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[schema(min_length = 3, max_length = 64)]
    pub slug: Option<String>,
    pub enabled: Option<bool>,
    pub items: Option<Vec<LinkItem>>,
    pub options: Option<LinkOptions>,
    pub action: Option<LinkAction>,
    #[schema(max_length = 2000)]
    pub redirect_url: Option<String>,
    #[schema(max_length = 255)]
    pub confirmation_message: Option<String>,
    #[schema(max_length = 2000)]
    pub back_url: Option<String>,
    pub requires_customer_address: Option<bool>,
    #[schema(max_length = 35)]
    pub locale: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkResponse {
    pub id: String,
    pub name: String,
    pub slug: String,
    /// Share this: every visit starts a fresh checkout.
    pub url: String,
    pub enabled: bool,
    #[serde(flatten)]
    pub spec: LinkSpec,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn response(state: &AppState, l: CheckoutLink) -> ApiResult<LinkResponse> {
    let spec: link::LinkSpec = serde_json::from_str(&l.spec)
        .map_err(|_| ApiError::internal(format!("link {} has an unreadable spec", l.id)))?;
    let spec = LinkSpec::from(spec);
    Ok(LinkResponse {
        url: format!("{}/l/{}", state.public_url, l.slug),
        id: l.id,
        name: l.name,
        slug: l.slug,
        enabled: l.enabled,
        spec,
        created_at: l.created_at,
        updated_at: l.updated_at,
    })
}

fn check_slug(slug: &str) -> ApiResult<String> {
    let slug = slug.trim().to_ascii_lowercase();
    let ok = (3..=64).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok { Ok(slug) } else { Err(ApiError::invalid("slug", "`slug` is 3 to 64 lower-case letters, digits and `-`.")) }
}

/// A slug from the name plus a random tail, so two links named alike never collide.
fn slug_from(name: &str) -> String {
    let mut base: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    base.truncate(40);
    let base = base.trim_end_matches('-');
    let tail = &ids::token()[..8];
    if base.is_empty() { format!("link-{tail}") } else { format!("{base}-{tail}") }
}

impl From<&LinkItem> for link::LinkItem {
    fn from(i: &LinkItem) -> Self {
        link::LinkItem {
            kind: match i.kind {
                LinkItemType::Product => link::LinkItemType::Product,
                LinkItemType::Plan => link::LinkItemType::Plan,
            },
            product_pricing_id: i.product_pricing_id.clone(),
            quantity: i.quantity,
            min_quantity: i.min_quantity,
            max_quantity: i.max_quantity,
        }
    }
}

impl From<link::LinkItem> for LinkItem {
    fn from(i: link::LinkItem) -> Self {
        LinkItem {
            kind: match i.kind {
                link::LinkItemType::Product => LinkItemType::Product,
                link::LinkItemType::Plan => LinkItemType::Plan,
            },
            product_pricing_id: i.product_pricing_id,
            quantity: i.quantity,
            min_quantity: i.min_quantity,
            max_quantity: i.max_quantity,
        }
    }
}

impl From<&LinkSpec> for link::LinkSpec {
    fn from(s: &LinkSpec) -> Self {
        let o = &s.options;
        link::LinkSpec {
            items: s.items.iter().map(Into::into).collect(),
            options: link::LinkOptions {
                coupons_allowed: o.coupons_allowed,
                force_company: o.force_company,
                quantity_editable: o.quantity_editable,
                trial_days: o.trial_days,
            },
            action: match s.action {
                LinkAction::Redirect => link::LinkAction::Redirect,
                LinkAction::ConfirmationMessage => link::LinkAction::ConfirmationMessage,
            },
            redirect_url: s.redirect_url.clone(),
            confirmation_message: s.confirmation_message.clone(),
            back_url: s.back_url.clone(),
            requires_customer_address: s.requires_customer_address,
            locale: s.locale.clone(),
        }
    }
}

impl From<link::LinkSpec> for LinkSpec {
    fn from(s: link::LinkSpec) -> Self {
        let o = s.options;
        LinkSpec {
            items: s.items.into_iter().map(Into::into).collect(),
            options: LinkOptions {
                coupons_allowed: o.coupons_allowed,
                force_company: o.force_company,
                quantity_editable: o.quantity_editable,
                trial_days: o.trial_days,
            },
            action: match s.action {
                link::LinkAction::Redirect => LinkAction::Redirect,
                link::LinkAction::ConfirmationMessage => LinkAction::ConfirmationMessage,
            },
            redirect_url: s.redirect_url,
            confirmation_message: s.confirmation_message,
            back_url: s.back_url,
            requires_customer_address: s.requires_customer_address,
            locale: s.locale,
        }
    }
}

/// Check the free-text and URL fields of a spec as given; items are checked by `check_spec`.
fn checked(raw: LinkSpec) -> ApiResult<LinkSpec> {
    let locale = validate::locale("locale", raw.locale.as_deref())?;
    Ok(LinkSpec {
        redirect_url: raw.redirect_url.as_deref().map(|u| check_url("redirect_url", u)).transpose()?,
        confirmation_message: validate::opt_text("confirmation_message", raw.confirmation_message.as_deref(), 255)?,
        back_url: raw.back_url.as_deref().map(|u| check_url("back_url", u)).transpose()?,
        locale,
        ..raw
    })
}

async fn store(state: &AppState, link: &CheckoutLink, new: bool) -> ApiResult<()> {
    let result = if new { db::links::insert(&state.db, link).await } else { db::links::update(&state.db, link).await };
    match result {
        Ok(()) => Ok(()),
        Err(DbError::Unique(_)) => {
            Err(ApiError::invalid("slug", "This slug is already taken.").with_code("slug_taken"))
        }
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/checkout_links", tag = "checkout",
    params(("company_id" = String, Path)), request_body = CreateLink,
    responses((status = 200, body = LinkResponse), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiJson(b): ApiJson<CreateLink>,
) -> ApiResult<Json<LinkResponse>> {
    let name = validate::text("name", &b.name, validate::NAME_MAX)?;
    let slug = match &b.slug {
        Some(s) => check_slug(s)?,
        None => slug_from(&name),
    };
    let spec = checked(LinkSpec {
        items: b.items,
        options: b.options.unwrap_or_default(),
        action: b.action.unwrap_or(LinkAction::ConfirmationMessage),
        redirect_url: b.redirect_url,
        confirmation_message: b.confirmation_message,
        back_url: b.back_url,
        requires_customer_address: b.requires_customer_address.unwrap_or(false),
        locale: b.locale,
    })?;
    let spec = link::LinkSpec::from(&spec);
    check_spec(&state, ctx.id(), &spec).await?;
    let now = state.clock.now();
    let link = CheckoutLink {
        id: ids::new_id(prefix::CHECKOUT_LINK, now),
        company_id: ctx.id().to_string(),
        slug,
        name,
        enabled: b.enabled.unwrap_or(true),
        spec: serde_json::to_string(&spec).unwrap_or_default(),
        created_at: now,
        updated_at: now,
    };
    store(&state, &link, true).await?;
    Ok(Json(response(&state, link)?))
}

async fn load(state: &AppState, company_id: &str, id: &str) -> ApiResult<CheckoutLink> {
    db::links::get(&state.db, company_id, id).await?.ok_or_else(|| ApiError::not_found("checkout link", id))
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/checkout_links/{id}", tag = "checkout",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = LinkResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<LinkResponse>> {
    Ok(Json(response(&state, load(&state, ctx.id(), &id).await?)?))
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/checkout_links", tag = "checkout",
    params(("company_id" = String, Path), ListQuery),
    responses((status = 200, body = List<LinkResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<List<LinkResponse>>> {
    let page = query.page()?;
    let rows = db::links::list(&state.db, ctx.id(), &page).await?;
    Ok(Json(List::from_rows(rows, &page, |l| &l.id, |l| response(&state, l))?))
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/checkout_links/{id}", tag = "checkout",
    params(("company_id" = String, Path), ("id" = String, Path)), request_body = UpdateLink,
    responses((status = 200, body = LinkResponse), (status = "4XX", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
    ApiJson(b): ApiJson<UpdateLink>,
) -> ApiResult<Json<LinkResponse>> {
    let mut link = load(&state, ctx.id(), &id).await?;
    let old: link::LinkSpec =
        serde_json::from_str(&link.spec).map_err(|_| ApiError::internal("unreadable link spec"))?;
    let old = LinkSpec::from(old);
    if let Some(name) = &b.name {
        link.name = validate::text("name", name, validate::NAME_MAX)?;
    }
    if let Some(slug) = &b.slug {
        link.slug = check_slug(slug)?;
    }
    if let Some(enabled) = b.enabled {
        link.enabled = enabled;
    }
    let spec = checked(LinkSpec {
        items: b.items.unwrap_or(old.items),
        options: b.options.unwrap_or(old.options),
        action: b.action.unwrap_or(old.action),
        redirect_url: b.redirect_url.or(old.redirect_url),
        confirmation_message: b.confirmation_message.or(old.confirmation_message),
        back_url: b.back_url.or(old.back_url),
        requires_customer_address: b.requires_customer_address.unwrap_or(old.requires_customer_address),
        locale: b.locale.or(old.locale),
    })?;
    let spec = link::LinkSpec::from(&spec);
    check_spec(&state, ctx.id(), &spec).await?;
    link.spec = serde_json::to_string(&spec).unwrap_or_default();
    link.updated_at = state.clock.now();
    store(&state, &link, false).await?;
    Ok(Json(response(&state, link)?))
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/checkout_links/{id}/disable", tag = "checkout",
    params(("company_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = LinkResponse), (status = 404, body = ErrorBody)))]
pub async fn disable(
    State(state): State<AppState>,
    ctx: CompanyCtx,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<LinkResponse>> {
    let mut link = load(&state, ctx.id(), &id).await?;
    link.enabled = false;
    link.updated_at = state.clock.now();
    store(&state, &link, false).await?;
    Ok(Json(response(&state, link)?))
}
